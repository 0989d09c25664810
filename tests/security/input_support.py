"""What the input-safety tests share (XSS, CSRF and safe methods, bad input, open redirects,
mass assignment): a business with one of everything, every route with its URL arguments
filled in, an HTML checker for injected markup, a form scraper and a database snapshot."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.db import models
from django.urls import reverse
from django.utils import timezone

from appointments.models import AppointmentStatus
from clients.merge import client_merge
from clients.models import (
    ClientDocument,
    ClientImport,
    ClientImportProblem,
    ClientTag,
    ImportProblemLevel,
    ReferralSource,
)
from sales.checkout import ItemLine, PaymentLine, TipLine
from sales.models import CardCharge, CardSetup, ChargePurpose, ChargeStatus, Feedback, SavedCard
from sales.services import sale_void
from tests.factories import ClientFactory, TagFactory, TeamMemberFactory
from tests.factories_appointments import AppointmentFactory, AppointmentServiceFactory
from tests.factories_imports import PDF_BYTES
from tests.factories_sales import ProductFactory, make_sale
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants
from tests.security.conftest import (
    OUTSIDE_TENANT_KWARGS,
    ROUTE_OBJECTS,
    Literal,
    Route,
    discover_routes,
)

# --- Payloads ------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ATTR = "' onmouseover='alert(1)"
JS_URL = "javascript:alert(1)"
SHORT = '"><b onclick=x>'  # for fields too short for the others
LONG = IMG + SCRIPT + ATTR  # 78 characters
PAYLOADS = [SCRIPT, IMG, ATTR, JS_URL]


def payload_for(token: str, max_length: int | None) -> str:
    """`token` (to find where the value shows) followed by the strongest payload that fits."""
    room = (max_length or 10_000) - len(token)
    for candidate in (f"{LONG} {JS_URL}", LONG, IMG, SCRIPT, ATTR, SHORT):
        if len(candidate) <= room:
            return token + candidate
    return token + SHORT[:room]


# Text columns that are not user text: identifiers, codes the app interprets, Stripe ids,
# derived columns, secrets.
NOT_USER_TEXT = {
    "glamiti.user": {"password", "username"},
    "glamiti.business": {"slug", "time_zone", "currency", "country", "locale"},
    "glamiti.teammember": {"color"},
    "clients.tag": {"color"},
    "clients.client": {"country", "search_text", "phone_digits"},
    "clients.clientdocument": {"content_type"},
    "clients.clientimport": {"encoding", "file_kind", "delimiter"},
    "sales.savedcard": {"stripe_payment_method_id", "last4"},
    "sales.cardcharge": {"currency", "idempotency_key"},
    "sales.feedbacklink": {"token"},
}
MIN_PAYLOAD_ROOM = 15


def text_fields(obj: models.Model) -> list[models.Field]:
    skipped = NOT_USER_TEXT.get(obj._meta.label_lower, set())
    return [
        f
        for f in obj._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not f.choices
        and f.name not in skipped
        and not f.name.startswith("stripe_")
        and (f.max_length is None or f.max_length >= MIN_PAYLOAD_ROOM)
    ]


@dataclass
class Tokens:
    """Which token went into which field, so a test can tell where each value shows."""

    by_field: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def fields_shown(self, tokens_seen: set[str]) -> set[str]:
        """The fields ("app.model.field") of which at least one row's token was seen."""
        return {key.split("#")[0] for key, token in self.by_field.items() if token in tokens_seen}

    @property
    def fields(self) -> set[str]:
        return {key.split("#")[0] for key in self.by_field}

    def fill(self, obj: models.Model, **fixed: str) -> models.Model:
        """Put a payload in every user-text field of `obj` and save it."""
        obj.refresh_from_db()  # services may have changed the row since it was made
        for f in text_fields(obj):
            self.counter += 1
            token = f"qz{self.counter:03d}"
            self.by_field[f"{obj._meta.label_lower}.{f.name}#{obj.pk}"] = token
            setattr(obj, f.attname, payload_for(token, f.max_length))
        for name, value in fixed.items():
            setattr(obj, name, value)
            self.by_field.pop(f"{obj._meta.label_lower}.{name}#{obj.pk}", None)
        obj.save()
        return obj


# --- One business with one of everything -----------------------------------------------------


@dataclass
class Site:
    client: Any
    duplicate: Any
    merged_away: Any
    solo: Any  # a client with no likely duplicate: saving them asks no question
    other_client: Any  # a client of the other business
    team_member: Any
    tag: Any
    source: Any
    note: Any
    document: Any
    service: Any
    appointment: Any
    no_show: Any
    canceled: Any
    product: Any
    sale: Any
    voided: Any
    feedback: Any
    link: Any
    voucher: Any
    card: Any
    card_setup: Any
    charge: Any
    imp: Any
    merge: Any
    tokens: Tokens


def _local_today_at(business, hour: int) -> datetime.datetime:
    import zoneinfo

    zone = zoneinfo.ZoneInfo(business.time_zone)
    today = timezone.now().astimezone(zone).date()
    return datetime.datetime.combine(today, datetime.time(hour), tzinfo=zone)


def build_site(world, *, payloads: bool = False) -> Site:
    """Every kind of row the app shows, in `world.business`; with `payloads`, every text the
    users typed (names, notes, reasons, titles...) is an XSS payload behind a unique token."""
    tokens = Tokens()
    with all_tenants():
        business = world.business
        member = TeamMemberFactory(business=business, name="Sam Stylist")
        tag = TagFactory(business=business, name="VIP")
        source = ReferralSource.objects.create(business=business, name="Instagram")
        client = ClientFactory(
            business=business,
            first_name="Ava",
            last_name="Moss",
            email="ava@example.com",
            mobile_phone="+447911123456",
            referral_source=source,
            alert="Latex allergy",
            is_blocked=True,
            blocked_reason="Rude",
        )
        ClientTag.objects.create(business=business, client=client, tag=tag)
        duplicate = ClientFactory(
            business=business,
            first_name="Ava",
            last_name="Moss",
            email="ava@example.com",
            referred_by=client,
        )
        merged_away = ClientFactory(business=business, first_name="Eva", last_name="Moss")
        solo = ClientFactory(
            business=business, first_name="Zoe", last_name="Hart", mobile_phone="+447400123456"
        )
        other_client = ClientFactory(business=world.other_business, first_name="Olga")
        from tests.factories_profile import make_note

        note = make_note(client, text="Likes oat milk", by=world.owner)
        document = ClientDocument.objects.create(
            business=business,
            client=client,
            title="Consent",
            file=ContentFile(PDF_BYTES, name="consent.pdf"),
            original_name="consent.pdf",
            content_type="application/pdf",
            size=len(PDF_BYTES),
            uploaded_by=world.owner,
        )
        appointment = AppointmentFactory(
            business=business,
            client=client,
            team_member=member,
            start_at=_local_today_at(business, 10),
            end_at=_local_today_at(business, 11),
            notes="Bring photos",
        )
        booked = AppointmentServiceFactory(appointment=appointment)
        service = booked.service
        no_show = AppointmentFactory(
            business=business,
            client=client,
            team_member=member,
            start_at=timezone.now() - datetime.timedelta(days=3),
            end_at=timezone.now() - datetime.timedelta(days=3) + datetime.timedelta(hours=1),
            status=AppointmentStatus.NO_SHOW,
            no_show_at=timezone.now() - datetime.timedelta(days=3),
        )
        canceled = AppointmentFactory(
            business=business,
            client=client,
            team_member=member,
            start_at=_local_today_at(business, 14),
            end_at=_local_today_at(business, 15),
            status=AppointmentStatus.CANCELED,
            cancel_reason="Ill",
            canceled_at=timezone.now(),
        )
        product = ProductFactory(business=business, name="Shampoo")
        sale = make_sale(
            business,
            client=client,
            items=[
                ItemLine(
                    kind="service",
                    service=service,
                    unit_price=service.price,
                    team_member=member,
                    description=service.name,
                ),
                ItemLine(kind="product", product=product, unit_price=product.price),
                ItemLine(kind="voucher", unit_price=Decimal("25.00"), voucher_recipient_name="Mum"),
            ],
            tip="5",
            tips=[TipLine(team_member=member, percent=Decimal(100))],
            payments=[
                PaymentLine(
                    method="card_terminal", amount=service.price + product.price + Decimal("30")
                )
            ],
            by=world.owner,
        )
        feedback = Feedback.objects.create(
            business=business,
            client=client,
            sale=sale,
            team_member=member,
            rating=4,
            comment="Lovely",
            source="staff",
        )
        link = sale.feedback_link
        voucher = make_voucher(business, "50.00", purchaser=client, recipient=client)
        card = SavedCard.objects.create(
            business=business,
            client=client,
            stripe_payment_method_id=f"pm_test_{client.pk}",
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=2040,
            cardholder_name="Ava Moss",
            is_default=True,
        )
        card_setup = CardSetup.objects.create(
            business=business, client=client, stripe_setup_intent_id="seti_test"
        )
        charge = CardCharge.objects.create(
            business=business,
            client=client,
            card=card,
            purpose=ChargePurpose.NO_SHOW_FEE,
            appointment=no_show,
            amount=Decimal("10.00"),
            currency="GBP",
            idempotency_key=f"test-{no_show.pk}",
            status=ChargeStatus.FAILED,
            failure_code="card_declined",
            failure_message="Declined",
        )
        imp = ClientImport.objects.create(
            business=business,
            created_by=world.owner,
            file_name="clients.csv",
            file=ContentFile(b"First Name,Last Name\r\nAnn,Lee\r\n", name="clients.csv"),
            file_kind="csv",
            encoding="utf-8",
            delimiter=",",
            headers=["First Name", "Last Name"],
            mapping=["first_name", "last_name"],
        )
        ClientImportProblem.objects.create(
            business=business,
            client_import=imp,
            row=2,
            column="Last Name",
            value="Lee",
            message="Looks odd",
            level=ImportProblemLevel.WARNING,
        )
        merge = client_merge(kept=client, merged=merged_away, by=world.owner)
        # Shown only in other states: a voided sale's reason, an untitled document's file name.
        voided = make_sale(business, client=client, by=world.owner)
        sale_void(sale=voided, by=world.owner, reason="Rung up twice")
        ClientDocument.objects.create(
            business=business,
            client=client,
            file=ContentFile(PDF_BYTES, name="waiver.pdf"),
            original_name="waiver.pdf",
            content_type="application/pdf",
            size=len(PDF_BYTES),
        )

        if payloads:
            for user in (world.owner, world.manager, world.staff):
                tokens.fill(user)
            tokens.fill(business)
            for obj in (member, tag, source, note, service, booked, product):
                tokens.fill(obj)
            for obj in client.documents.all():
                tokens.fill(obj, **({} if obj.title else {"title": ""}))
            # The duplicate keeps the client's e-mail and phone, to stay a likely duplicate.
            tokens.fill(client)
            tokens.fill(duplicate, email=client.email, mobile_phone=client.mobile_phone)
            tokens.fill(merged_away)
            for obj in (appointment, no_show, canceled, feedback, card, charge, imp):
                tokens.fill(obj)
            for sale_ in (sale, voided):
                tokens.fill(sale_)
                for item in sale_.items.all():
                    tokens.fill(item)
            for voucher_ in business.vouchers.all():
                tokens.fill(voucher_)
                for entry in voucher_.ledger.all():
                    tokens.fill(entry)
            for problem in imp.problems.all():
                tokens.fill(problem)
    return Site(
        client=client,
        duplicate=duplicate,
        merged_away=merged_away,
        solo=solo,
        other_client=other_client,
        team_member=member,
        tag=tag,
        source=source,
        note=note,
        document=document,
        service=service,
        appointment=appointment,
        no_show=no_show,
        canceled=canceled,
        product=product,
        sale=sale,
        voided=voided,
        feedback=feedback,
        link=link,
        voucher=voucher,
        card=card,
        card_setup=card_setup,
        charge=charge,
        imp=imp,
        merge=merge,
        tokens=tokens,
    )


# --- Routes --------------------------------------------------------------------------------


def all_routes() -> list[Route]:
    """Every named URL of the project (the admin apart), with its URL parameter names."""
    routes = [r for r in discover_routes() if r.named and r.namespace != "admin"]
    return sorted(routes, key=lambda r: r.name)


def _audit_entry_pk(client) -> int:
    """The newest entry of the client's change history (0, a 404, if there is none)."""
    try:
        model = apps.get_model("audit", "AuditEntry")
    except LookupError:
        return 0
    with all_tenants():
        entry = model.objects.filter(client_id=client.pk).order_by("-pk").first()
    return entry.pk if entry else 0


def route_kwargs(world, site: Site) -> dict[str, dict[str, Any]]:
    """URL arguments for every route that needs more than the business: the URL sweep's
    ROUTE_OBJECTS (its first fill), each kind of object being `site`'s row of that kind."""
    rows = {
        "client": site.client.pk,
        "tag": site.tag.pk,
        "source": site.source.pk,
        "merge": site.merge.pk,
        "import": site.imp.pk,
        "audit entry": _audit_entry_pk(site.client),
        "note": site.note.pk,
        "document": site.document.pk,
        "card setup": site.card_setup.pk,
        "saved card": site.card.pk,
        "appointment": site.appointment.pk,
        "service": site.service.pk,
        "product": site.product.pk,
        "sale": site.sale.pk,
        "team member": site.team_member.pk,
        "voucher": site.voucher.pk,
    }
    kwargs = {
        name: {key: str(kind) if isinstance(kind, Literal) else rows[kind]
               for key, kind in fills[0].items()}
        for name, fills in ROUTE_OBJECTS.items()
    }  # fmt: skip
    return {
        **kwargs,
        **OUTSIDE_TENANT_KWARGS,
        "public-feedback": {"salon": world.business.slug, "token": site.link.token},
        "sales:no-show-fee": {"appointment_pk": site.no_show.pk},  # a fee needs a no-show
    }


def route_urls(world, site: Site) -> dict[str, str]:
    """Every route's URL, its arguments pointing at `site`'s rows. Fails on a route it does
    not know how to fill, so a new route cannot slip past the sweeps."""
    known = route_kwargs(world, site)
    urls: dict[str, str] = {}
    unknown = []
    for route in all_routes():
        kwargs = dict(known.get(route.name, {}))
        if "business" in route.kwargs:
            kwargs["business"] = world.business.slug
        if set(kwargs) != set(route.kwargs):
            unknown.append(route)
            continue
        urls[route.name] = reverse(route.name, kwargs=kwargs)
    assert not unknown, f"Routes the input sweeps don't know how to fill: {unknown}"
    return urls


# --- Injected markup -----------------------------------------------------------------------

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}
RAW_MARKERS = [
    re.compile(r"<script>alert\(1\)", re.I),
    re.compile(r"<img[^>]*\bonerror\s*=", re.I),
    re.compile(r"<b\s+onclick\s*=", re.I),
    re.compile(r"\sonmouseover\s*=\s*'alert", re.I),
]


class _InjectionFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script: list[str] | None = None
        self._script_type = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and re.sub(r"\s", "", value).lower().startswith(
                ("javascript:", "vbscript:", "data:text/html")
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.problems.append("<img src=x>")
        if tag == "script":
            self._script = []
            self._script_type = (dict(attrs).get("type") or "").lower()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            body = "".join(self._script)
            if self._script_type == "application/json":
                # json_script escapes <, > and &: a raw one means the data left the string.
                if re.search(r"[<>]", body):
                    self.problems.append(f"raw markup in JSON script: {body[:80]!r}")
            elif "alert(1)" in body or "qz" in body:
                self.problems.append(f"user text inside <script>: {body[:80]!r}")
            self._script = None


def injection_problems(html: str) -> list[str]:
    finder = _InjectionFinder()
    finder.feed(html)
    finder.close()
    problems = list(finder.problems)
    problems += [f"raw {marker.pattern!r}" for marker in RAW_MARKERS if marker.search(html)]
    return problems


def assert_no_injection(html: str, where: str) -> None:
    problems = injection_problems(html)
    assert not problems, f"{where}: user text rendered as markup: {problems}"


# --- Forms on a page -----------------------------------------------------------------------


@dataclass
class ScrapedForm:
    method: str
    action: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, kind)

    def data(self) -> dict[str, list[str]]:
        """What a browser would send as it stands (file inputs left out)."""
        values: dict[str, list[str]] = {}
        for name, value, kind in self.fields:
            if kind != "file" and not kind.startswith("unchecked"):
                values.setdefault(name, []).append(value)
        return values

    def names_of_kind(self, *kinds: str) -> list[str]:
        """The fields whose inputs are of these kinds (an unchecked box counts as a box)."""
        return [
            name
            for name in self.names
            if any(n == name and k.removeprefix("unchecked-") in kinds for n, _, k in self.fields)
        ]

    @property
    def text_names(self) -> list[str]:
        """The fields a person types text into."""
        return self.names_of_kind("text", "email", "search", "tel", "url", "password", "textarea")

    @property
    def names(self) -> list[str]:
        seen = dict.fromkeys(
            name
            for name, _, kind in self.fields
            if kind not in ("file", "submit") and name != "csrfmiddlewaretoken"
        )
        return list(seen)


class _FormScraper(HTMLParser):
    """The forms of a page with the values a browser would send (rows inside <template>
    elements are left out, as a browser leaves them out)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[ScrapedForm] = []
        self._form: ScrapedForm | None = None
        self._template_depth = 0
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._option: list[str] | None = None
        self._option_value: str | None = None
        self._option_selected = False
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "template":
            self._template_depth += 1
        if self._template_depth:
            return
        if tag == "form":
            self._form = ScrapedForm(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
        if self._form is None or "name" not in a and tag not in ("option",):
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                self._form.fields.append((a["name"], "", f"unchecked-{kind}"))
                return
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            if kind in ("submit", "button", "image", "reset"):
                return
            self._form.fields.append((a["name"], value, kind))
        elif tag == "select":
            self._select = (a["name"], [])
        elif tag == "option" and self._select is not None:
            self._option = []
            self._option_value = a.get("value")
            self._option_selected = "selected" in a
        elif tag == "textarea":
            self._textarea = (a["name"], [])

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option.append(data)
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._template_depth -= 1
            return
        if self._template_depth:
            return
        if tag == "option" and self._select is not None and self._option is not None:
            value = self._option_value if self._option_value is not None else "".join(self._option)
            self._select[1].append((value, self._option_selected))
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options = self._select
            chosen = [v for v, selected in options if selected] or [v for v, _ in options[:1]]
            self._form.fields.append((name, chosen[0] if chosen else "", "select"))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            self._form.fields.append((name, "".join(parts).removeprefix("\n"), "textarea"))
            self._textarea = None
        elif tag == "form":
            self._form = None


def scrape_forms(html: str) -> list[ScrapedForm]:
    scraper = _FormScraper()
    scraper.feed(html)
    scraper.close()
    return scraper.forms


# --- The database, to tell whether anything changed ----------------------------------------

# Written by the framework on any visit (sessions) or by the login throttle: not app state.
SNAPSHOT_SKIPPED_APPS = {"sessions", "axes", "admin", "contenttypes", "auth"}


def db_snapshot() -> dict[str, list[dict]]:
    """Every row of every table the project owns, to compare before and after requests."""
    snapshot = {}
    with all_tenants():
        for model in apps.get_models():
            if model._meta.app_label in SNAPSHOT_SKIPPED_APPS or not model._meta.managed:
                continue
            rows = model._base_manager.order_by("pk").values()
            snapshot[model._meta.label] = [dict(row) for row in rows]
    return snapshot


def diff_snapshots(before: dict, after: dict) -> list[str]:
    changes = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, []), after.get(label, [])
        if old != new:
            old_by_pk = {r.get("id"): r for r in old}
            new_by_pk = {r.get("id"): r for r in new}
            for pk in sorted(set(old_by_pk) | set(new_by_pk), key=str):
                if old_by_pk.get(pk) != new_by_pk.get(pk):
                    changes.append(f"{label} #{pk}: {old_by_pk.get(pk)} → {new_by_pk.get(pk)}")
    return changes
