"""The client profile: the overview at the top, and the shell every tab renders into.

Each tab is served by the app that owns its data (`<app>/profile_tabs.py`) and rendered with
`render_tab`: the tab alone for an htmx request, the whole page (overview included) for a
direct visit or a history restore. The overview asks each app's selector for its numbers:
one aggregate query per app, whatever the length of the client's history.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from appointments.profile_selectors import client_appointment_counts
from clients.masking import person_name
from clients.merge import merges_for_client
from clients.models import Client, ClientMerge, ClientNote, NoteKind
from clients.profile_common import optional_url
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest
from sales.profile_selectors import client_sales_summary
from vouchers.profile_selectors import client_voucher_balance

TABS: list[tuple[str, str]] = [
    ("history", "History"),
    ("appointments", "Appointments"),
    ("sales", "Sales"),
    ("notes", "Notes"),
    ("feedback", "Feedback"),
    ("tips", "Tips"),
    ("cards", "Cards"),
    ("vouchers", "Vouchers"),
    ("activity", "Activity log"),
]
TAB_LABELS = dict(TABS)
# Tabs for some roles only (glamiti/permissions.py); the others are for every member.
TAB_ROLES = {"activity": Role.MANAGER}
# Allergy and pinned notes shown at the top; a client with more has them all in Notes.
BANNER_NOTES = 10

# Pages of the booking and checkout work; the first name that exists is linked.
BOOK_URL_NAMES = ("appointments:book", "appointments:new")
CHECKOUT_URL_NAMES = ("sales:checkout", "sales:new")


@dataclass
class SalesSplit:
    label: str
    amount: Decimal
    share: float  # of the total, 0–100, for the split bar


@dataclass
class ClientOverview:
    """Everything the top of the profile shows about a client's history."""

    completed: int
    no_show: int
    canceled: int
    upcoming: int
    total_sales: Decimal
    services: Decimal
    products: Decimal
    vouchers: Decimal
    tips: Decimal
    paid_sales: int
    first_visit: datetime.datetime | None
    last_visit: datetime.datetime | None
    next_appointment: datetime.datetime | None
    average_spend: Decimal | None
    average_days_between_visits: int | None
    voucher_balance: Decimal
    redeemable_vouchers: int
    alerts: list[str] = field(default_factory=list)
    allergy_notes: list[ClientNote] = field(default_factory=list)
    pinned_notes: list[ClientNote] = field(default_factory=list)

    @property
    def split(self) -> list[SalesSplit]:
        parts = [
            ("Services", self.services),
            ("Products", self.products),
            ("Vouchers", self.vouchers),
        ]
        whole = sum((amount for _, amount in parts), Decimal("0")) or Decimal("1")
        return [SalesSplit(label, amount, float(amount * 100 / whole)) for label, amount in parts]


def _earliest(*values: datetime.datetime | None) -> datetime.datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _latest(*values: datetime.datetime | None) -> datetime.datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def client_overview(client: Client, *, now: datetime.datetime | None = None) -> ClientOverview:
    """The overview numbers: four queries at most (appointments, sales, vouchers, notes).

    A visit is a completed appointment or a paid sale (a client may only buy products);
    the average spend is per paid sale; the average gap between visits is measured between
    completed appointments.
    """
    now = now or timezone.now()
    appointments = client_appointment_counts(client, now=now)
    sales = client_sales_summary(client)
    vouchers = client_voucher_balance(client)
    notes = []
    if getattr(client, "has_banner_notes", True):
        notes = list(
            client.notes.filter(Q(kind=NoteKind.ALLERGY) | Q(is_pinned=True)).order_by(
                "-is_pinned", "-created_at", "-id"
            )[:BANNER_NOTES]
        )
    allergy_notes = [n for n in notes if n.kind == NoteKind.ALLERGY]
    alerts = [client.alert] if client.alert else []
    alerts += [note.text for note in allergy_notes]

    completed = appointments["completed"]
    gap = None
    if completed >= 2 and appointments["first_visit"] and appointments["last_visit"]:
        span = appointments["last_visit"] - appointments["first_visit"]
        gap = round(span.total_seconds() / 86400 / (completed - 1))
    return ClientOverview(
        completed=completed,
        no_show=appointments["no_show"],
        canceled=appointments["canceled"],
        upcoming=appointments["upcoming"],
        total_sales=sales["total"],
        services=sales["services"],
        products=sales["products"],
        vouchers=sales["vouchers"],
        tips=sales["tips"],
        paid_sales=sales["count"],
        first_visit=_earliest(appointments["first_visit"], sales["first_sale"]),
        last_visit=_latest(appointments["last_visit"], sales["last_sale"]),
        next_appointment=appointments["next_appointment"],
        average_spend=sales["average"],
        average_days_between_visits=gap,
        voucher_balance=vouchers["redeemable_balance"],
        redeemable_vouchers=vouchers["redeemable_count"],
        alerts=alerts,
        allergy_notes=allergy_notes,
        pinned_notes=[n for n in notes if n.is_pinned and n.kind != NoteKind.ALLERGY],
    )


def wants_whole_page(request: BusinessRequest) -> bool:
    """False for an htmx request that swaps in a tab; a history restore needs the page."""
    return not (request.htmx and not request.htmx.history_restore_request)


# Clients named on the profile (referrer, merged into): only their names are read.
NAMED_RELATIONS = ("referred_by", "merged_into")


def profile_client(request: BusinessRequest, pk: int) -> Client:
    """The client whose profile is asked for, through the business (another's → 404).

    For the whole page it also learns, in the same query, whether the client has merges
    and alert or pinned notes, so the overview skips the queries that would find nothing
    (most clients have neither; the merge history query is the costliest to build).
    """
    clients = request.business.clients.all()
    if wants_whole_page(request):
        # Only the names of the referrer and of the client merged into: a select_related
        # of two more whole clients costs more to build than the page needs.
        names = {
            f"{relation}_{part}": F(f"{relation}__{part}")
            for relation in NAMED_RELATIONS
            for part in ("first_name", "last_name")
        }
        banner_notes = Q(kind=NoteKind.ALLERGY) | Q(is_pinned=True)
        clients = clients.select_related("referral_source").annotate(
            **names,
            has_merges=Exists(ClientMerge.objects.filter(kept=OuterRef("pk"))),
            has_banner_notes=Exists(ClientNote.objects.filter(banner_notes, client=OuterRef("pk"))),
        )
    client = get_object_or_404(clients, pk=pk)
    for relation in NAMED_RELATIONS:
        if hasattr(client, f"{relation}_first_name"):
            first = getattr(client, f"{relation}_first_name") or ""
            last = getattr(client, f"{relation}_last_name") or ""
            setattr(client, f"{relation}_name", person_name(first, last))
    return client


def tab_url(request: BusinessRequest, client: Client, tab: str) -> str:
    return reverse(f"profile:{tab}", kwargs={"business": request.business.slug, "pk": client.pk})


def _page_context(request: BusinessRequest, client: Client) -> dict[str, Any]:
    """What the whole page adds around a tab: the overview and the header's actions."""
    slug = request.business.slug
    query = f"client={client.pk}"
    can_act = not client.archived_at
    return {
        "overview": client_overview(client),
        "tags": list(client.tags.all()),
        "merges": merges_for_client(client) if getattr(client, "has_merges", True) else [],
        "can_merge": request.membership.has_role(Role.MANAGER),
        "can_delete": request.membership.has_role(Role.OWNER),
        "book_url": optional_url(BOOK_URL_NAMES, query=query, business=slug)
        if can_act and not client.is_blocked
        else "",
        "checkout_url": optional_url(CHECKOUT_URL_NAMES, query=query, business=slug)
        if can_act
        else "",
    }


def render_tab(
    request: BusinessRequest,
    client: Client,
    tab: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """Render `profile/<tab>.html`: its `tab` partial for htmx, the whole page otherwise.

    A history-restore request (the back button after the cache was emptied) replaces the
    whole body, so it gets the whole page too.
    """
    template = f"profile/{tab}.html"
    context = {
        "client": client,
        "tab": tab,
        "tab_label": TAB_LABELS[tab],
        "tabs": [
            (name, label, tab_url(request, client, name))
            for name, label in TABS
            if request.membership.has_role(TAB_ROLES.get(name, Role.STAFF))
        ],
        **context,
    }
    if not wants_whole_page(request):
        return render(request, f"{template}#tab", context, status=status)
    context.update(_page_context(request, client))
    return render(request, template, context, status=status)
