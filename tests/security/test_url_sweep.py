"""Every URL of the app, found at run time, against the people who must not use it.

- Anonymous: a tenant URL sends them to the login page; URLs outside a business answer as
  OUTSIDE_TENANT says.
- Outsiders (a member of no business) and members of another business: 404 on every tenant
  URL, whatever the method, and nothing changes.
- A member of one business naming another business's object (in the URL or in the query
  string) under their own business's address: 404, for GET and POST, and nothing changes in
  the database. Each route is also requested with the member's own objects, which must not
  give 404: otherwise the 404 above would prove nothing.

Wrong roles (403) are checked by test_role_matrix.py against glamiti/permissions.py.
A new route fails here until the sweep knows how to fill it (tests/security/conftest.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from glamiti.models import RESERVED_SLUGS
from tests.conftest import logged_in
from tests.security.conftest import (
    EXEMPT_NAMESPACES,
    EXEMPT_PREFIXES,
    EXEMPT_ROUTES,
    LOGIN,
    OUTSIDE_TENANT,
    PREFILL_TEXT,
    PREFILLS,
    QUERY_OBJECTS,
    ROUTE_OBJECTS,
    ROUTES,
    SWEPT,
    TENANT_ROUTES,
    Literal,
    Objects,
    Route,
    assert_unchanged,
    database_fingerprint,
    exemption,
    route_fills,
    slots,
    target,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_stripe_keys")]

METHODS = ("GET", "POST")
OBJECT_ROUTES = [r for r in TENANT_ROUTES if slots(r)]


def ids(route: Route) -> str:
    return route.name


# --- The sweep covers everything ----------------------------------------------------------


def test_discovery_walks_every_include_and_namespace():
    names = {r.name for r in ROUTES}
    assert {
        "home",
        "login",
        "password_reset_confirm",
        "dashboard",
        "clients:list",
        "clients:import-undo",  # clients.import_urls, inside the clients namespace
        "clients:merge-undo",  # clients.merge_urls
        "profile:note-edit",  # glamiti/profile_urls.py under clients/<int:pk>/
        "settings:team-edit",
        "public-feedback",
        "stripe-webhook",
        "admin:index",
    } <= names
    note_edit = next(r for r in ROUTES if r.name == "profile:note-edit")
    assert note_edit.kwargs == ("business", "pk", "note_pk")


def test_only_the_listed_routes_are_exempt():
    exempt = {r.name: exemption(r) for r in ROUTES if exemption(r)}
    assert {name for name in exempt if ":" not in name} == set(EXEMPT_ROUTES)
    assert {name.split(":")[0] for name in exempt if ":" in name} <= set(EXEMPT_NAMESPACES)
    assert all(reason for reason in exempt.values())
    assert set(EXEMPT_PREFIXES) == {"static/", "media/"}


def test_every_entry_of_the_sweep_tables_is_a_route():
    names = {r.name for r in SWEPT}
    assert set(ROUTE_OBJECTS) <= names, set(ROUTE_OBJECTS) - names
    assert set(QUERY_OBJECTS) <= names, set(QUERY_OBJECTS) - names
    assert set(OUTSIDE_TENANT) <= names, set(OUTSIDE_TENANT) - names
    assert set(PREFILLS) <= names, set(PREFILLS) - names


def test_every_top_level_segment_is_a_reserved_business_slug():
    """A business whose slug matched a top-level route would be shadowed by it, or shadow
    it: each fixed first segment of a route must be refused as a slug."""
    segments = {
        r.route.split("/")[0] for r in ROUTES if r.route and not r.route.startswith(("<", "^"))
    } - {""}
    assert segments, "no top-level routes found"
    assert segments <= RESERVED_SLUGS, sorted(segments - RESERVED_SLUGS)


# --- Anonymous ----------------------------------------------------------------------------


@pytest.mark.parametrize("route", SWEPT, ids=ids)
def test_anonymous(client, world, route):
    own = Objects(world.business, world.owner)
    if not route.is_tenant and route.name not in OUTSIDE_TENANT:
        pytest.fail(
            f"{route.name} ({route.route}) is outside any business: say what an anonymous "
            "visitor gets in OUTSIDE_TENANT, or exempt it with a reason (tests/security/"
            "conftest.py)."
        )
    fill = route_fills(route)[0]
    address = target(route, world.business.slug, fill, lambda _: own)
    before = database_fingerprint()
    login = reverse("login")
    if route.is_tenant:
        for method in METHODS:
            response = address.send(client, method)
            assert response.status_code == 302, (method, address.url, response.status_code)
            assert response.url.startswith(f"{login}?next="), (method, response.url)
    else:
        expected = OUTSIDE_TENANT[route.name]
        response = client.get(address.url)
        if expected == LOGIN:
            assert response.status_code == 302, (address.url, response.status_code)
            assert response.url.startswith(f"{login}?next="), response.url
        else:
            assert response.status_code == expected, (address.url, response.status_code)
    assert_unchanged(before, f"anonymous on {route.name}")


# --- Outsiders and members of another business ---------------------------------------------


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=ids)
def test_non_members_get_404(world, route):
    own = Objects(world.business, world.owner)
    addresses = [target(route, world.business.slug, f, lambda _: own) for f in route_fills(route)]
    clients = {user.username: logged_in(user) for user in (world.outsider, world.other_owner)}
    before = database_fingerprint()
    for username, http in clients.items():
        for address in addresses:
            for method in METHODS:
                response = address.send(http, method)
                assert response.status_code == 404, (
                    username,
                    method,
                    address.url,
                    response.status_code,
                )
    assert_unchanged(before, f"non-members on {route.name}")


# --- Another business's objects under one's own business -----------------------------------


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=ids)
def test_other_business_objects_give_404(world, as_owner, route):
    """As the owner of the first business (the highest role, so no role check hides a leak),
    with the first business's slug and the other business's objects: every object slot of
    the route from the other business, and (for routes with several) each slot alone."""
    own = Objects(world.business, world.owner)
    other = Objects(world.other_business, world.other_owner)
    slug = world.business.slug
    for fill in route_fills(route):
        fixed = {key for key, kind in fill.items() if isinstance(kind, Literal)}
        names = [key for key in [*fill, *QUERY_OBJECTS.get(route.name, {})] if key not in fixed]
        foreign_sets = [set(names)] + ([{name} for name in names] if len(names) > 1 else [])
        probes = [
            (
                sorted(foreign),
                target(route, slug, fill, lambda key, f=foreign: other if key in f else own),
            )
            for foreign in foreign_sets
        ]
        control = target(route, slug, fill, lambda _: own)
        before = database_fingerprint()
        get_refused = []
        for foreign, address in probes:
            response = as_owner.get(address.url)
            assert response.status_code in (404, 405), (
                f"GET {address.url} with the other business's {', '.join(foreign)} gave "
                f"{response.status_code}"
            )
            get_refused.append(response.status_code)
            response = as_owner.post(address.url, address.data)
            assert response.status_code == 404, (
                f"POST {address.url} with the other business's {', '.join(foreign)} gave "
                f"{response.status_code}"
            )
        assert_unchanged(before, f"{route.name} with another business's objects")
        # The same route with the business's own objects is found: the 404s above come
        # from the objects belonging elsewhere, not from a broken fill.
        response = as_owner.get(control.url)
        if 405 in get_refused:
            assert response.status_code == 405, "GET refused only for foreign objects"
            response = as_owner.post(control.url, control.data)
        assert response.status_code not in (404, 500), (control.url, response.status_code)


@pytest.mark.parametrize("name", sorted(PREFILLS))
def test_prefilled_ids_of_another_business_show_nothing(world, as_owner, settings, name):
    """Pages that take an id in the query only to pre-fill a form (the client to book, the
    client whose saved cards to offer): another business's id shows nothing of its object,
    while the business's own id does (so the check is not empty)."""
    settings.STRIPE_SECRET_KEY = "sk_test_sweep"  # noqa: S105 - the card menu is then shown
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_sweep"
    own = Objects(world.business, world.owner)
    other = Objects(world.other_business, world.other_owner)
    url = reverse(name, kwargs={"business": world.business.slug})
    for query, shown in PREFILLS[name]:
        for objects in (own, other):
            PREFILL_TEXT[shown](objects)  # made before the requests
        before = database_fingerprint()
        for objects, expect_shown in ((other, False), (own, True)):
            values = {key: objects.value(kind) for key, kind in query.items()}
            response = as_owner.get(f"{url}?{urlencode(values)}")
            assert response.status_code == 200, (name, values, response.status_code)
            text = PREFILL_TEXT[shown](objects)
            assert (text in response.content.decode()) is expect_shown, (name, values, text)
        assert_unchanged(before, f"{name} pre-filled")


# --- The exempt public routes, briefly ------------------------------------------------------


def test_feedback_link_opens_only_under_its_own_salon(client, world):
    own = Objects(world.business, world.owner)
    other = Objects(world.other_business, world.other_owner)
    own_token, other_token = own.value("feedback token"), other.value("feedback token")
    before = database_fingerprint()
    for salon, token in ((world.business.slug, other_token), (world.other_business.slug, "x")):
        url = reverse("public-feedback", kwargs={"salon": salon, "token": token})
        assert client.get(url).status_code == 404
        assert client.post(url, {"rating": "1", "comment": "Probe"}).status_code == 404
    assert_unchanged(before, "feedback link under another salon")
    url = reverse("public-feedback", kwargs={"salon": world.business.slug, "token": own_token})
    assert client.get(url).status_code == 200


def test_unsigned_stripe_event_changes_nothing(client, world, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_sweep"  # noqa: S105 - a test value
    other = Objects(world.other_business, world.other_owner)
    card = other["saved card"]
    event = {
        "id": "evt_sweep",
        "type": "payment_method.detached",
        "data": {"object": {"id": card.stripe_payment_method_id, "object": "payment_method"}},
    }
    before = database_fingerprint()
    url = reverse("stripe-webhook")
    response = client.post(url, event, content_type="application/json")
    assert response.status_code == 400
    response = client.post(
        url, event, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=00"
    )
    assert response.status_code == 400
    assert_unchanged(before, "unsigned Stripe event")
