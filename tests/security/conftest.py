"""Shared helpers for the security sweep (tests/security/test_url_sweep.py and
test_role_matrix.py): every route of the URL configuration, found at run time; how to fill
each route's object ids with real objects of a chosen business; a fingerprint of the whole
database to prove that a refused request changed nothing.

A new route is not covered by guesswork: a tenant route that takes an object id must be
listed in ROUTE_OBJECTS, a route outside the tenant in OUTSIDE_TENANT or EXEMPT, and every
tenant URL name in glamiti/permissions.py; the sweep fails until it is.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from glamiti.models import Business
from glamiti.tenancy import TENANT_URL_KWARG
from tests.factories import ClientFactory, TagFactory, TeamMemberFactory
from tests.factories_appointments import AppointmentFactory, ServiceFactory
from tests.factories_imports import PDF_BYTES, SIMPLE_HEADERS, csv_bytes
from tests.factories_sales import ProductFactory, make_sale
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants

# --- Routes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL pattern, with its full route and every keyword it takes (outer ones first)."""

    name: str  # "namespace:name"; the route itself for an unnamed pattern
    route: str
    kwargs: tuple[str, ...]
    callback: Callable = field(compare=False, repr=False)
    named: bool = field(default=True, compare=False)

    @property
    def is_tenant(self) -> bool:
        return TENANT_URL_KWARG in self.kwargs

    @property
    def object_kwargs(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if k != TENANT_URL_KWARG)

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0]

    def __str__(self) -> str:
        return self.name


def _pattern_kwargs(pattern: Any) -> tuple[str, ...]:
    converters = getattr(pattern, "converters", None)
    if converters:
        return tuple(converters)
    regex = getattr(pattern, "regex", None)
    return tuple(regex.groupindex) if regex is not None else ()


def discover_routes() -> list[Route]:
    """Every pattern of the root URLconf, walking into every include and namespace."""
    found: list[Route] = []

    def walk(patterns, prefix: str, namespace: str, kwargs: tuple[str, ...]) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            more = kwargs + _pattern_kwargs(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, inner, more)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}" if pattern.name else f"{namespace}{route}"
                found.append(Route(name, route, more, pattern.callback, bool(pattern.name)))

    walk(get_resolver().url_patterns, "", "", ())
    return found


ROUTES = discover_routes()

# Routes the sweep does not request, and why. Each is checked elsewhere (named below); the
# sweep still asserts that these are the only routes it leaves out.
EXEMPT_NAMESPACES = {
    "admin": "platform admin: Django's AdminSite for platform staff only (is_staff), working "
    "across tenants on purpose; tests/glamiti/test_admin.py",
}
EXEMPT_ROUTES = {
    "stripe-webhook": "no login by design: the Stripe signature on the raw body is the check "
    "(tests/stripe/test_webhooks.py; test_url_sweep checks an unsigned event changes nothing)",
    "public-feedback": "no login by design: an unguessable one-use token names the sale "
    "(tests/sales/test_feedback.py; test_url_sweep checks another salon's token gives 404)",
}
EXEMPT_PREFIXES = {
    "static/": "static files (WhiteNoise), no view behind them",
    "media/": "uploaded files are never served by URL; documents go through a view",
}


def exemption(route: Route) -> str | None:
    if route.namespace.split(":")[0] in EXEMPT_NAMESPACES:
        return EXEMPT_NAMESPACES[route.namespace.split(":")[0]]
    if route.name in EXEMPT_ROUTES:
        return EXEMPT_ROUTES[route.name]
    for prefix, reason in EXEMPT_PREFIXES.items():
        if route.route.startswith(prefix):
            return reason
    return None


# Routes outside any business (no `business` in the URL): what an anonymous GET gets.
LOGIN = "login redirect"
OUTSIDE_TENANT: dict[str, str | int] = {
    "home": LOGIN,
    "business-list": LOGIN,
    "healthz": 200,
    "login": 200,
    "logout": 405,  # POST only
    "password_change": LOGIN,
    "password_change_done": LOGIN,
    "password_reset": 200,
    "password_reset_done": 200,
    "password_reset_confirm": 200,  # a wrong token shows "invalid link"
    "password_reset_complete": 200,
}
OUTSIDE_TENANT_KWARGS = {"password_reset_confirm": {"uidb64": "MQ", "token": "set-password"}}

SWEPT = [r for r in ROUTES if exemption(r) is None]
TENANT_ROUTES = [r for r in SWEPT if r.is_tenant]


# --- Objects ------------------------------------------------------------------------------


class Literal(str):
    """A fixed URL value (not an object of the business)."""


# For each tenant route that takes more than the business: the kind of object each keyword
# names. Several fills for one route are each tried. Kinds are built by Objects below.
ROUTE_OBJECTS: dict[str, list[dict[str, str]]] = {
    "clients:list-item-delete": [
        {"kind": Literal("tag"), "pk": "tag"},
        {"kind": Literal("source"), "pk": "source"},
    ],
    **{
        f"clients:{name}": [{"pk": "client"}]
        for name in (
            "detail",
            "edit",
            "archive",
            "restore",
            "delete",
            "photo",
            "data-export",
            "erase",
        )
    },
    "clients:merge-undo": [{"pk": "merge"}],
    **{
        f"clients:{name}": [{"pk": "import"}]
        for name in (
            "import-detail",
            "import-map",
            "import-preview",
            "import-confirm",
            "import-progress",
            "import-result",
            "import-rejected",
            "import-undo",
            "import-discard",
        )
    },
    **{
        f"profile:{name}": [{"pk": "client"}]
        for name in (
            "history",
            "appointments",
            "sales",
            "notes",
            "note-add",
            "document-add",
            "feedback",
            "tips",
            "cards",
            "card-add",
            "vouchers",
            "activity",
        )
    },
    "profile:activity-revert": [{"pk": "client", "entry_pk": "audit entry"}],
    **{
        f"profile:{name}": [{"pk": "client", "note_pk": "note"}]
        for name in ("note-edit", "note-pin", "note-delete")
    },
    **{
        f"profile:{name}": [{"pk": "client", "document_pk": "document"}]
        for name in ("document", "document-delete")
    },
    **{
        f"profile:{name}": [{"pk": "client", "setup_pk": "card setup"}]
        for name in ("card-setup", "card-setup-complete")
    },
    **{
        f"profile:{name}": [{"pk": "client", "card_pk": "saved card"}]
        for name in ("card-default", "card-remove")
    },
    **{
        f"appointments:{name}": [{"pk": "appointment"}]
        for name in ("detail", "complete", "cancel", "no-show", "reschedule")
    },
    "appointments:service-edit": [{"pk": "service"}],
    "sales:product-edit": [{"pk": "product"}],
    **{f"sales:{name}": [{"pk": "sale"}] for name in ("detail", "feedback", "void")},
    "sales:no-show-fee": [{"appointment_pk": "appointment"}],
    **{f"vouchers:{name}": [{"pk": "voucher"}] for name in ("detail", "adjust")},
    "settings:team-edit": [{"pk": "team member"}],
}

# Object ids a route reads from the query string (and, for a POST, from the form too).
QUERY_OBJECTS: dict[str, dict[str, str]] = {
    "clients:merge": {"kept": "client", "merged": "second client"},
    "sales:checkout": {"appointment": "appointment"},
}


# Ids a page only uses to pre-fill a form (not to find the object it is about): another
# business's id must show nothing of that object. Each: the query (kinds or Literal values)
# and the kind whose text must (own) or must not (other) appear.
PREFILLS: dict[str, list[tuple[dict[str, str], str]]] = {
    "appointments:book": [
        ({"client": "client"}, "client"),
        ({"team_member": "team member"}, "team member"),
    ],
    "sales:checkout": [
        ({"client": "client"}, "client"),
        ({"card_options": Literal("1"), "client": "client"}, "saved card"),
    ],
}
PREFILL_TEXT: dict[str, Callable[[Any], str]] = {
    "client": lambda o: o["client"].last_name,
    "team member": lambda o: o["team member"].name,
    "saved card": lambda o: o["saved card"].last4,
}


def route_fills(route: Route) -> list[dict[str, str]]:
    """The fills for a route's object keywords; fails the test for a route nobody taught
    the sweep to fill."""
    if not route.is_tenant:
        assert set(route.kwargs) == set(OUTSIDE_TENANT_KWARGS.get(route.name, {})), (
            f"{route.name} ({route.route}) takes {', '.join(route.kwargs)}: add its values "
            "to OUTSIDE_TENANT_KWARGS in tests/security/conftest.py."
        )
        return [{}]
    if not route.object_kwargs:
        return [{}]
    fills = ROUTE_OBJECTS.get(route.name)
    if fills is None:
        pytest.fail(
            f"{route.name} ({route.route}) takes {', '.join(route.object_kwargs)}: add how to "
            "fill it to ROUTE_OBJECTS in tests/security/conftest.py."
        )
    for fill in fills:
        assert set(fill) == set(route.object_kwargs), (
            f"ROUTE_OBJECTS[{route.name!r}] fills {sorted(fill)}; the route takes "
            f"{sorted(route.object_kwargs)}."
        )
    return fills


JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


class Objects:
    """One object of each kind in a business, made on first use. Objects that belong to a
    client (notes, documents, cards, appointments, sales, vouchers) belong to `client`;
    notes and merges are written by `author`."""

    def __init__(self, business: Business, author) -> None:
        self.business = business
        self.author = author
        self._made: dict[str, Any] = {}

    def __getitem__(self, kind: str) -> Any:
        if kind not in self._made:
            with all_tenants():
                self._made[kind] = BUILDERS[kind](self)
        return self._made[kind]

    def value(self, kind: str) -> str | int:
        """What the URL carries for an object of `kind` (its id, or its token)."""
        if isinstance(kind, Literal):
            return str(kind)
        obj = self[kind]
        return obj if isinstance(obj, str) else obj.pk


def _client(o: Objects):
    # A name no other business's page could show by chance (the pre-fill checks look for it).
    client = ClientFactory(business=o.business, last_name=f"Sweep-{o.business.slug}")
    client.photo.save("photo.jpg", ContentFile(JPEG_BYTES), save=True)
    return client


def _note(o: Objects):
    from clients.models import ClientNote, NoteKind

    return ClientNote.objects.create(
        business=o.business,
        client=o["client"],
        kind=NoteKind.INTERNAL,
        text="Prefers mornings",
        created_by=o.author,
    )


def _document(o: Objects):
    from clients.models import ClientDocument

    document = ClientDocument(
        business=o.business,
        client=o["client"],
        title="Consent",
        original_name="consent.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        uploaded_by=o.author,
    )
    document.file.save("consent.pdf", ContentFile(PDF_BYTES), save=True)
    return document


def _saved_card(o: Objects):
    from sales.models import SavedCard

    return SavedCard.objects.create(
        business=o.business,
        client=o["client"],
        stripe_payment_method_id=f"pm_sweep_{uuid.uuid4().hex[:12]}",
        brand="visa",
        last4=f"{7000 + o.business.pk % 1000}",
        exp_month=12,
        exp_year=timezone.now().year + 3,
        is_default=True,
    )


def _card_setup(o: Objects):
    from sales.models import CardSetup

    return CardSetup.objects.create(
        business=o.business,
        client=o["client"],
        stripe_setup_intent_id=f"seti_sweep_{uuid.uuid4().hex[:12]}",
        created_by=o.author,
    )


def _import(o: Objects):
    from clients.imports import client_import_upload

    rows = [[f"Ann{n} Lee", f"07911 12345{n}", f"ann{n}@example.com", ""] for n in range(3)]
    upload = SimpleUploadedFile("clients.csv", csv_bytes(SIMPLE_HEADERS, rows))
    imp = client_import_upload(business=o.business, by=o.author, upload=upload)
    imp.rejected_file.save("rejected.csv", ContentFile(b"Name,Problem\r\nX,No name\r\n"))
    return imp


def _merge(o: Objects):
    from clients.merge import client_merge

    kept = ClientFactory(business=o.business)
    merged = ClientFactory(business=o.business)
    return client_merge(kept=kept, merged=merged, by=o.author)


def _source(o: Objects):
    from clients.models import ReferralSource

    return ReferralSource.objects.create(business=o.business, name="Walk-in")


def _audit_entry(o: Objects):
    """A change to the client's e-mail, as the activity log offers to revert."""
    from audit.models import AuditEntry

    client = o["client"]
    client.email = f"changed-{o.business.slug}@example.com"
    client.save()
    return AuditEntry.objects.filter(client_id=client.pk).order_by("-id").first()


BUILDERS: dict[str, Callable[[Objects], Any]] = {
    "client": _client,
    "second client": lambda o: ClientFactory(business=o.business),
    "note": _note,
    "document": _document,
    "saved card": _saved_card,
    "card setup": _card_setup,
    "team member": lambda o: TeamMemberFactory(
        business=o.business, name=f"Stylist {o.business.slug}"
    ),
    "appointment": lambda o: AppointmentFactory(
        business=o.business, client=o["client"], team_member=o["team member"]
    ),
    "sale": lambda o: make_sale(o.business, client=o["client"], by=o.author),
    "feedback token": lambda o: o["sale"].feedback_link.token,
    "voucher": lambda o: make_voucher(o.business, recipient=o["client"]),
    "service": lambda o: ServiceFactory(business=o.business),
    "product": lambda o: ProductFactory(business=o.business),
    "tag": lambda o: TagFactory(business=o.business),
    "source": _source,
    "import": _import,
    "merge": _merge,
    "audit entry": _audit_entry,
}


# --- Requests -----------------------------------------------------------------------------


@dataclass
class Target:
    """A route filled in: its address, and the form a POST sends."""

    url: str
    data: dict[str, Any]

    def send(self, http: HttpClient, method: str):
        if method == "GET":
            return http.get(self.url)
        return http.post(self.url, self.data)


# Plausible fields for the app's forms (a POST that reaches a view finds what it reads).
PLAUSIBLE_POST = {
    "first_name": "Mallory",
    "last_name": "Probe",
    "email": "mallory.probe@example.com",
    "kind": "internal",
    "text": "Probe note",
    "note-kind": "internal",
    "note-text": "Probe note",
    "edit-kind": "internal",
    "edit-text": "Probe note, edited",
    "doc-kind": "other",
    "doc-title": "Probe",
    "reason": "Probe",
    "rating": "1",
    "comment": "Probe",
    "amount": "-5.00",
    "note": "Probe",
    "value": "25.00",
    "name": "Probe",
    "job_title": "Stylist",
    "price": "1.00",
    "duration_minutes": "30",
    "sku": "PROBE-1",
    "duplicate_mode": "update",
    "tag-name": "Probe",
    "source-name": "Probe",
    "time_zone": "Europe/London",
    "currency": "GBP",
}


def target(
    route: Route,
    slug: str,
    fill: dict[str, str],
    pick: Callable[[str], Objects],
) -> Target:
    """The route for business `slug`, each object keyword (and query id) filled from the
    Objects that `pick(keyword)` returns."""
    kwargs: dict[str, Any] = {TENANT_URL_KWARG: slug} if route.is_tenant else {}
    kwargs.update({key: pick(key).value(kind) for key, kind in fill.items()})
    if not route.is_tenant:
        kwargs.update(OUTSIDE_TENANT_KWARGS.get(route.name, {}))
    url = reverse(route.name, kwargs=kwargs)
    query = {key: pick(key).value(kind) for key, kind in QUERY_OBJECTS.get(route.name, {}).items()}
    if query:
        url += "?" + urlencode(query)
    data = {**PLAUSIBLE_POST, **query}
    if route.name == "clients:delete":
        data["confirm_name"] = str(kwargs["pk"])  # the delete form's confirmation
    return Target(url, data)


def slots(route: Route) -> list[str]:
    """The object keywords and query ids of a route: each can be pointed at another business."""
    return [*route.object_kwargs, *QUERY_OBJECTS.get(route.name, {})]


# --- The database, fingerprinted ----------------------------------------------------------

FINGERPRINTED_APPS = {"glamiti", "clients", "appointments", "sales", "vouchers", "django_tasks_db"}


def _fingerprinted_models() -> list:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in FINGERPRINTED_APPS and model._meta.managed
    ]


def database_fingerprint() -> dict[str, tuple[int, str]]:
    """Per model of the app: its row count and a hash of every column of every row (which
    covers each row's updated_at and every other field). One query on PostgreSQL."""
    models = _fingerprinted_models()
    with all_tenants():
        connection = connections["default"]
        if connection.vendor == "postgresql":
            quote = connection.ops.quote_name
            # Table and column names come from the models, quoted; no user input.
            parts = [
                f"SELECT %s, count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY "  # noqa: S608
                f"t.{quote(model._meta.pk.column)}), '')) FROM {quote(model._meta.db_table)} t"
                for model in models
            ]
            with connection.cursor() as cursor:
                sql = " UNION ALL ".join(parts)
                cursor.execute(sql, [m._meta.label for m in models])
                return {label: (count, digest) for label, count, digest in cursor.fetchall()}
        state = {}
        for model in models:
            columns = [f.attname for f in model._meta.concrete_fields]
            rows = list(model._base_manager.order_by("pk").values_list(*columns))
            state[model._meta.label] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return state


def changed_models(before: dict, after: dict) -> list[str]:
    return sorted(
        f"{label} ({before.get(label, (0,))[0]} → {after.get(label, (0,))[0]} rows)"
        for label in set(before) | set(after)
        if before.get(label) != after.get(label)
    )


def assert_unchanged(before: dict[str, tuple[int, str]], context: str) -> None:
    changed = changed_models(before, database_fingerprint())
    assert not changed, f"{context}: the database changed: {', '.join(changed)}"


@pytest.fixture
def no_stripe_keys(settings):
    """Card views answer without reaching Stripe: with no keys they say cards aren't set up.
    (Not autouse: other tests in this folder are not this sweep's business.)"""
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""
