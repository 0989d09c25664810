"""The role × action table of glamiti/permissions.py, checked through HTTP on every tenant URL.

For each tenant URL (found at run time) and each method: every role below the table's
minimum gets 403 and changes nothing; the minimum role and those above it do not get 403.
A tenant URL missing from the table fails here, so a new URL must be classified.
"""

from __future__ import annotations

import pytest

from glamiti.models import ROLE_RANK, Role
from glamiti.permissions import (
    ACTIONS,
    OBJECT_RULES,
    SOMEONE_ELSES_NOTE,
    URL_MINIMUMS,
    URL_NAMES,
    minimum_role,
    object_rules,
)
from tests.security.conftest import (
    TENANT_ROUTES,
    Objects,
    Route,
    assert_unchanged,
    database_fingerprint,
    route_fills,
    target,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_stripe_keys")]

ROLES = sorted(Role, key=ROLE_RANK.get)  # staff, manager, owner


def ids(route: Route) -> str:
    return route.name


def test_the_table_names_only_tenant_urls():
    tenant_names = {r.name for r in TENANT_ROUTES}
    assert tenant_names >= URL_NAMES, sorted(URL_NAMES - tenant_names)


def test_every_action_the_issue_names_is_in_the_table():
    assert {
        "view",
        "edit",
        "import",
        "undo import",
        "export",
        "merge",
        "delete",
        "void",
        "refund",
        "charge card",
        "settings",
        "manage team",
    } <= set(ACTIONS)


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=ids)
def test_the_view_decorator_agrees_with_the_table(route):
    if route.name not in URL_NAMES:
        pytest.fail(f"{route.name} ({route.route}) is not in glamiti/permissions.py ACTIONS.")
    decorated = getattr(route.callback, "minimum_role", None)
    assert decorated is not None, f"{route.name}'s view has no role_required(...)"
    lowest = min((minimum_role(route.name, m) for m in ("GET", "POST")), key=ROLE_RANK.get)
    assert Role(decorated) == lowest, (
        f"{route.name}: the view requires {decorated}, the table's lowest is {lowest}"
    )


# Who wrote the objects a URL acts on, for each object rule: the rule must hold for them.
AUTHOR_FOR_RULE = {SOMEONE_ELSES_NOTE: lambda world: world.owner}


def test_every_object_rule_has_an_author():
    assert {rule for _, _, rule in OBJECT_RULES} <= set(AUTHOR_FOR_RULE)


def check_roles(world, http, route, author, rules_of) -> None:
    """Each method of `route` on objects written by `author`, against `rules_of(method)`
    (the minimum role): below it 403 and no change; at and above it, no 403."""
    own = Objects(world.business, author)
    for fill in route_fills(route):
        address = target(route, world.business.slug, fill, lambda _: own)
        for method in ("GET", "POST"):
            needed = rules_of(method)
            if needed is None:
                continue
            below = [r for r in ROLES if ROLE_RANK[r] < ROLE_RANK[needed]]
            allowed = [r for r in ROLES if ROLE_RANK[r] >= ROLE_RANK[needed]]
            before = database_fingerprint()
            for role in below:
                response = address.send(http[role], method)
                assert response.status_code in (403, 405), (
                    f"{role} {method} {address.url}: {response.status_code}, expected 403 "
                    f"({needed} or above)"
                )
            assert_unchanged(before, f"{', '.join(below)} {method} {route.name}")
            if method == "POST":
                # One POST, by the minimum role: it may do what it says (delete, void...).
                allowed = allowed[:1]
            for role in allowed:
                response = address.send(http[role], method)
                assert response.status_code not in (403, 404), (
                    f"{role} {method} {address.url}: {response.status_code}"
                )
                assert response.status_code < 500, (role, method, address.url)


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=ids)
def test_each_role_gets_what_the_table_says(world, as_owner, as_manager, as_staff, route):
    if route.name not in URL_NAMES:
        pytest.fail(
            f"{route.name} ({route.route}) is not classified: add it to an action in "
            "glamiti/permissions.py ACTIONS."
        )
    http = {Role.OWNER: as_owner, Role.MANAGER: as_manager, Role.STAFF: as_staff}
    # Objects written by the lowest role: what holds for everyone's own objects.
    check_roles(world, http, route, world.staff, lambda m: minimum_role(route.name, m))
    for rule in {rule for m in ("GET", "POST") for rule in object_rules(route.name, m)}:
        author = AUTHOR_FOR_RULE[rule](world)
        check_roles(
            world, http, route, author, lambda m, r=rule: object_rules(route.name, m).get(r)
        )


def test_every_url_and_method_is_in_the_table():
    for route in TENANT_ROUTES:
        for method in ("GET", "POST"):
            assert (route.name, method) in URL_MINIMUMS or route.name not in URL_NAMES
