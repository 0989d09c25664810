"""The client profile on a long history: p50/p95 of the page and of each tab.

    createdb -h 127.0.0.1 -U postgres glamiti_profile_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/glamiti_profile_bench \\
        .venv/bin/python bench/profile.py [--rebuild] [--runs 50] [--repeat 1]

Builds one business of 100,000 clients in which one regular has 5,000 appointments, 5,000
sales with their items, payments and tips, feedback, notes and vouchers (the other clients
have a visit and a sale or so each, so the indexes have company). Then it renders the
profile page and every tab through Django's test client, `--runs` times each, with the real
code and again with a naive implementation kept here (one query per counter and per row,
sums in Python), and prints them side by side. The last line printed is one JSON object.
Data already built is reused; `--rebuild` builds it again.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import sys
import time
import warnings
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamiti.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
warnings.filterwarnings("ignore", message="No directory at")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

import appointments.profile_tabs  # noqa: E402
import clients.profile  # noqa: E402
import clients.profile_tabs  # noqa: E402
import sales.profile_tabs  # noqa: E402
import vouchers.profile_tabs  # noqa: E402
from appointments.models import (  # noqa: E402
    Appointment,
    AppointmentService,
    AppointmentStatus,
    Service,
)
from clients.models import Client, ClientNote, NoteKind  # noqa: E402
from clients.profile import ClientOverview  # noqa: E402
from clients.profile_chart import monthly_chart  # noqa: E402
from clients.profile_common import (  # noqa: E402
    TimelineEntry,
    last_months,
    month_key,
    page_of,
)
from glamiti.models import Business, Membership, Role, TeamMember, User  # noqa: E402
from sales.models import (  # noqa: E402
    Feedback,
    FeedbackSource,
    ItemKind,
    Payment,
    PaymentMethod,
    Sale,
    SaleItem,
    SaleStatus,
    SavedCard,
    TipAllocation,
)
from sales.profile_selectors import MemberTips, TipSummary  # noqa: E402
from vouchers.models import LedgerKind, Voucher, VoucherLedgerEntry  # noqa: E402

SLUG = "bench-profile"
CLIENTS = 100_000
HISTORY = 5_000
MEMBERS = 20
BATCH = 5_000
SEED = 20261205
TABS = ["history", "appointments", "sales", "notes", "feedback", "tips", "cards", "vouchers"]
ZERO = Decimal("0.00")


# --- Data --------------------------------------------------------------------------------


def star_of(business: Business) -> Client | None:
    return Client.objects.filter(business=business, external_id="bench-star").first()


def data_is_there(business: Business) -> bool:
    star = star_of(business)
    if star is None:
        return False
    return (
        Client.objects.filter(business=business).count() == CLIENTS
        and Appointment.objects.filter(business=business, client=star).count() >= HISTORY
        and Sale.objects.filter(business=business, client=star).count() == HISTORY
    )


def bulk(model, rows, *, batch: int = BATCH) -> list:
    created = []
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            created += model.objects.bulk_create(chunk)
            chunk = []
    if chunk:
        created += model.objects.bulk_create(chunk)
    return created


def build(business: Business) -> None:
    """Everything from scratch, inside one transaction (a failed build leaves nothing)."""
    rng = random.Random(SEED)
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        Business.objects.filter(pk=business.pk).delete()
        business.pk = None
        business.save()
        members = bulk(
            TeamMember,
            (TeamMember(business=business, name=f"Stylist {n}") for n in range(MEMBERS)),
        )
        # Hour-long slots, each (team member, hour) used once: no double booking.
        base = (now - datetime.timedelta(days=14 * 365)).replace(minute=0, second=0, microsecond=0)
        slots = rng.sample(range(14 * 365 * 24 * MEMBERS), CLIENTS - 1 + HISTORY)

        def slot_time(slot: int) -> tuple[TeamMember, datetime.datetime]:
            return members[slot % MEMBERS], base + datetime.timedelta(hours=slot // MEMBERS)

        services = bulk(
            Service,
            (
                Service(business=business, name=name, price=Decimal(price))
                for name, price in [("Cut", "45"), ("Colour", "85"), ("Balayage", "140")]
            ),
        )

        def client_rows():
            for n in range(CLIENTS):
                client = Client(
                    business=business,
                    first_name=f"Client{n}",
                    last_name=rng.choice(["Smith", "Jones", "Taylor", "Brown", "Murphy"]),
                    email=f"client{n}@example.com",
                    external_id="bench-star" if n == CLIENTS // 2 else "",
                    alert="Latex allergy" if n == CLIENTS // 2 else "",
                )
                client.refresh_derived_fields()
                yield client

        clients = bulk(Client, client_rows(), batch=10_000)
        star = next(c for c in clients if c.external_id == "bench-star")
        print(f"  {len(clients):,} clients in {time.perf_counter() - started:.0f} s", flush=True)

        # Everyone else: a visit and a paid sale each, spread over five years.
        others = [c for c in clients if c.pk != star.pk]
        other_slots = [slot_time(slot) for slot in slots[HISTORY:]]
        start_times = [at for _, at in other_slots]
        bulk(
            Appointment,
            (
                Appointment(
                    business=business,
                    client=client,
                    team_member=member,
                    start_at=at,
                    end_at=at + datetime.timedelta(hours=1),
                    status=AppointmentStatus.COMPLETED,
                )
                for client, (member, at) in zip(others, other_slots, strict=True)
            ),
        )
        bulk(
            Sale,
            (
                Sale(
                    business=business,
                    client=client,
                    status=SaleStatus.COMPLETED,
                    total=Decimal("45.00"),
                    subtotal=Decimal("45.00"),
                    services_total=Decimal("45.00"),
                    completed_at=at,
                )
                for client, at in zip(others, start_times, strict=True)
            ),
        )
        print(f"  their history in {time.perf_counter() - started:.0f} s", flush=True)

        # The regular: 5,000 appointments and 5,000 sales over fourteen years.
        statuses = [AppointmentStatus.COMPLETED] * 8 + [
            AppointmentStatus.CANCELED,
            AppointmentStatus.NO_SHOW,
        ]
        star_slots = sorted((slot_time(slot) for slot in slots[:HISTORY]), key=lambda s: s[1])
        times = [at for _, at in star_slots]
        appointments = bulk(
            Appointment,
            (
                Appointment(
                    business=business,
                    client=star,
                    team_member=member,
                    start_at=at,
                    end_at=at + datetime.timedelta(hours=1),
                    status=rng.choice(statuses),
                )
                for member, at in star_slots
            ),
        )
        bulk(
            Appointment,
            (
                Appointment(
                    business=business,
                    client=star,
                    team_member=members[n % MEMBERS],
                    start_at=now + datetime.timedelta(days=7 * (n + 1)),
                    end_at=now + datetime.timedelta(days=7 * (n + 1), hours=1),
                )
                for n in range(4)
            ),
        )
        bulk(
            AppointmentService,
            (
                AppointmentService(
                    business=business,
                    appointment=a,
                    service=services[n % 3],
                    name=services[n % 3].name,
                    price=services[n % 3].price,
                    duration_minutes=60,
                )
                for n, a in enumerate(appointments)
            ),
        )
        sales = []
        for n, at in enumerate(times):
            services_total = Decimal(rng.choice(["45.00", "85.00", "140.00"]))
            products_total = Decimal(rng.choice(["0.00", "0.00", "18.50"]))
            vouchers_total = Decimal("50.00") if n % 50 == 0 else ZERO
            total = services_total + products_total + vouchers_total
            sales.append(
                Sale(
                    business=business,
                    client=star,
                    appointment=appointments[n],
                    status=SaleStatus.VOIDED if n % 40 == 39 else SaleStatus.COMPLETED,
                    total=total,
                    subtotal=total,
                    services_total=services_total,
                    products_total=products_total,
                    vouchers_total=vouchers_total,
                    tip_total=Decimal(rng.choice(["0.00", "5.00", "10.00"])),
                    completed_at=at + datetime.timedelta(hours=1),
                )
            )
        sales = bulk(Sale, sales)
        bulk(
            SaleItem,
            (
                SaleItem(
                    business=business,
                    sale=sale,
                    kind=kind,
                    description=kind.label,
                    unit_price=amount,
                    total=amount,
                )
                for sale in sales
                for kind, amount in [
                    (ItemKind.SERVICE, sale.services_total),
                    (ItemKind.PRODUCT, sale.products_total),
                    (ItemKind.VOUCHER, sale.vouchers_total),
                ]
                if amount
            ),
        )
        bulk(
            Payment,
            (
                Payment(
                    business=business,
                    sale=s,
                    method=PaymentMethod.CARD_TERMINAL,
                    amount=s.total + s.tip_total,
                )
                for s in sales
            ),
        )
        bulk(
            TipAllocation,
            (
                TipAllocation(
                    business=business,
                    sale=s,
                    team_member=members[n % MEMBERS],
                    amount=s.tip_total / 2 if n % 3 == 0 else s.tip_total,
                )
                for n, s in enumerate(sales)
                if s.tip_total
            ),
        )
        bulk(
            TipAllocation,
            (
                TipAllocation(
                    business=business,
                    sale=s,
                    team_member=members[(n + 1) % MEMBERS],
                    amount=s.tip_total / 2,
                )
                for n, s in enumerate(sales)
                if s.tip_total and n % 3 == 0
            ),
        )
        with connection.cursor() as cursor:
            # bulk_create stamps created_at with now; a sale happened when it was paid.
            cursor.execute(
                "UPDATE sales_sale SET created_at = completed_at"
                " WHERE business_id = %s AND completed_at IS NOT NULL",
                [business.pk],
            )
        bulk(
            Feedback,
            (
                Feedback(
                    business=business,
                    client=star,
                    sale=s,
                    team_member=members[n % MEMBERS],
                    rating=rng.randint(3, 5),
                    comment="Lovely as always" if n % 2 else "",
                    source=FeedbackSource.STAFF,
                )
                for n, s in enumerate(sales[::10])
            ),
        )
        bulk(
            ClientNote,
            (
                ClientNote(
                    business=business,
                    client=star,
                    kind=NoteKind.ALLERGY
                    if n in (5, 150)
                    else [NoteKind.PREFERENCE, NoteKind.INTERNAL][n % 2],
                    text=f"Note {n}: prefers mornings",
                    is_pinned=n < 2,
                )
                for n in range(200)
            ),
        )
        with connection.cursor() as cursor:
            # Feedback comes a couple of hours after its sale; notes are spread over the years.
            cursor.execute(
                "UPDATE sales_feedback f SET created_at = s.created_at + interval '2 hours'"
                " FROM sales_sale s WHERE f.sale_id = s.id AND f.business_id = %s",
                [business.pk],
            )
            cursor.execute(
                "UPDATE clients_clientnote SET created_at = %s - (id - %s) * interval '25 days'"
                " WHERE business_id = %s",
                [
                    now,
                    ClientNote.objects.filter(business=business).order_by("id").first().pk,
                    business.pk,
                ],
            )
        for n in range(30):
            voucher = Voucher.objects.create(
                business=business,
                code=f"BENCH-{n:04d}",
                original_value=Decimal("50.00"),
                balance=Decimal("20.00") if n % 2 else Decimal("50.00"),
                purchaser=star,
                recipient=star if n % 3 else None,
                issued_on=timezone.localdate() - datetime.timedelta(days=30 * n),
                expires_on=timezone.localdate() + datetime.timedelta(days=365 - 30 * n),
            )
            VoucherLedgerEntry.objects.create(
                business=business,
                voucher=voucher,
                kind=LedgerKind.ISSUED,
                amount=Decimal("50.00"),
                balance_after=Decimal("50.00"),
                created_at=now - datetime.timedelta(days=30 * n),
            )
            if n % 2:
                VoucherLedgerEntry.objects.create(
                    business=business,
                    voucher=voucher,
                    kind=LedgerKind.REDEEMED,
                    amount=Decimal("-30.00"),
                    balance_after=Decimal("20.00"),
                    created_at=now - datetime.timedelta(days=30 * n - 5),
                )
        for n in range(3):
            SavedCard.objects.create(
                business=business,
                client=star,
                stripe_payment_method_id=f"pm_bench_{n}",
                brand="visa",
                last4=f"42{n:02d}",
                exp_month=12,
                exp_year=2030,
                is_default=n == 0,
            )
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # ANALYZE for the planner; VACUUM sets the visibility map (index-only scans).
        for table in [
            "clients_client",
            "clients_clientnote",
            "appointments_appointment",
            "appointments_appointmentservice",
            "sales_sale",
            "sales_saleitem",
            "sales_payment",
            "sales_tipallocation",
            "sales_feedback",
            "vouchers_voucher",
            "vouchers_voucherledgerentry",
        ]:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"  vacuum + analyze in {time.perf_counter() - started:.0f} s", flush=True)


def ensure_data(rebuild: bool) -> tuple[Business, Client, User]:
    with scopes_disabled():
        business, _ = Business.objects.get_or_create(
            slug=SLUG, defaults={"name": "Bench Profile Salon", "country": "GB"}
        )
        if rebuild or not data_is_there(business):
            print(f"Building {CLIENTS:,} clients and a {HISTORY:,}-visit regular…", flush=True)
            build(business)
        star = star_of(business)
        user, _ = User.objects.get_or_create(username="bench-profile-staff")
        Membership.objects.get_or_create(
            user=user, business=business, defaults={"role": Role.STAFF}
        )
    return business, star, user


# --- The naive implementation (for comparison only) ---------------------------------------


def naive_overview(client: Client, *, now: datetime.datetime | None = None) -> ClientOverview:
    """One query per counter, every row loaded and summed in Python."""
    now = now or timezone.now()
    appointments = client.appointments.all()
    completed = appointments.filter(status=AppointmentStatus.COMPLETED).count()
    no_show = appointments.filter(status=AppointmentStatus.NO_SHOW).count()
    canceled = appointments.filter(status=AppointmentStatus.CANCELED).count()
    upcoming_rows = list(appointments.filter(status=AppointmentStatus.BOOKED, start_at__gte=now))
    visit_times = [a.start_at for a in appointments.filter(status=AppointmentStatus.COMPLETED)]
    paid = [s for s in client.sales.all() if s.status == SaleStatus.COMPLETED]
    total = sum((s.total for s in paid), ZERO)
    vouchers = Voucher.objects.filter(Q(purchaser=client) | Q(recipient=client))
    today = timezone.localdate()
    usable = [v for v in vouchers if v.balance > 0 and v.expires_on >= today]
    notes = list(client.notes.all())
    allergy = [n for n in notes if n.kind == NoteKind.ALLERGY]
    gap = None
    if len(visit_times) >= 2:
        gap = round((max(visit_times) - min(visit_times)).days / (len(visit_times) - 1))
    sale_times = [s.created_at for s in paid]
    return ClientOverview(
        completed=completed,
        no_show=no_show,
        canceled=canceled,
        upcoming=len(upcoming_rows),
        total_sales=total,
        services=sum((s.services_total for s in paid), ZERO),
        products=sum((s.products_total for s in paid), ZERO),
        vouchers=sum((s.vouchers_total for s in paid), ZERO),
        tips=sum((s.tip_total for s in paid), ZERO),
        paid_sales=len(paid),
        first_visit=min(visit_times + sale_times, default=None),
        last_visit=max(visit_times + sale_times, default=None),
        next_appointment=min((a.start_at for a in upcoming_rows), default=None),
        average_spend=total / len(paid) if paid else None,
        average_days_between_visits=gap,
        voucher_balance=sum((v.balance for v in usable), ZERO),
        redeemable_vouchers=len(usable),
        alerts=([client.alert] if client.alert else []) + [n.text for n in allergy],
        allergy_notes=allergy,
        pinned_notes=[n for n in notes if n.is_pinned and n.kind != NoteKind.ALLERGY],
    )


def naive_chart(client: Client):
    months = last_months(12)
    spend: dict = defaultdict(Decimal)
    visits: dict = defaultdict(int)
    for sale in client.sales.all():
        if sale.status == SaleStatus.COMPLETED:
            spend[month_key(sale.created_at)] += sale.total
    for appointment in client.appointments.all():
        if appointment.status == AppointmentStatus.COMPLETED:
            visits[month_key(appointment.start_at)] += 1
    return monthly_chart(
        chart_id="history-chart",
        title="Spending and visits per month, last 12 months",
        months=months,
        amounts={m: spend[m] for m in months},
        amount_label="Spending",
        currency=client.business.currency,
        counts={m: visits[m] for m in months},
        count_label="Visits",
    )


def naive_timeline_page(branches, number, per_page=25):
    """Every row of every kind loaded, merged in Python; the services asked per row."""
    rows = []
    for branch in branches:
        rows += [TimelineEntry.from_row(row) for row in branch]
    rows.sort(key=lambda e: (e.at, e.obj_id), reverse=True)
    page = page_of(rows, number, per_page)
    for entry in page.object_list:
        if entry.kind == "appointment":
            names = AppointmentService.objects.filter(appointment_id=entry.obj_id).values_list(
                "name", flat=True
            )
            entry.title = ", ".join(names)
    return page


def naive_tip_summary(client: Client, *, since: datetime.datetime) -> TipSummary:
    """Every tip allocation of the client loaded, added up in Python."""
    summary = TipSummary()
    members: dict[int, MemberTips] = {}
    by_month: dict = defaultdict(Decimal)
    tips = TipAllocation.objects.filter(sale__client=client).select_related("sale", "team_member")
    for tip in tips:
        if tip.sale.status != SaleStatus.COMPLETED:
            continue
        member = members.setdefault(tip.team_member_id, MemberTips(tip.team_member))
        member.total += tip.amount
        member.count += 1
        if tip.sale.created_at >= since:
            by_month[month_key(tip.sale.created_at)] += tip.amount
        summary.total += tip.amount
    summary.by_member = sorted(members.values(), key=lambda m: -m.total)
    summary.by_month = dict(by_month)
    return summary


@contextmanager
def naive_implementation():
    """Swap the real selectors for naive ones; the views and templates stay the same."""
    patches = [
        (clients.profile, "client_overview", naive_overview),
        (clients.profile_tabs, "spending_and_visits_chart", naive_chart),
        (clients.profile_tabs, "timeline_page", naive_timeline_page),
        (sales.profile_tabs, "client_tip_summary", naive_tip_summary),
        (sales.profile_tabs, "client_sales", lambda c: c.sales.order_by("-created_at", "-id")),
        (
            sales.profile_tabs,
            "client_tipped_sales",
            lambda c: c.sales.counted().filter(tip_total__gt=0).order_by("-created_at", "-id"),
        ),
        (sales.profile_tabs, "client_feedback", lambda c: c.feedback.order_by("-created_at")),
        (
            appointments.profile_tabs,
            "client_past_appointments",
            lambda c, status="", now=None: c.appointments.order_by("-start_at"),
        ),
        (
            vouchers.profile_tabs,
            "client_vouchers_with_ledger",
            lambda c: Voucher.objects.filter(Q(purchaser=c) | Q(recipient=c)).order_by("-id"),
        ),
    ]
    with ExitStack() as stack:
        for module, name, replacement in patches:
            stack.enter_context(mock.patch.object(module, name, replacement))
        yield


# --- Timing ------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def measure(http: HttpClient, url: str, runs: int, headers: dict) -> tuple[list[float], int]:
    """`runs` timed renders of `url` after two warm-up ones, and the queries of one."""
    for _ in range(2):
        response = http.get(url, **headers)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        http.get(url, **headers)
    queries = len(captured)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = http.get(url, **headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return timings, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="build the data again")
    parser.add_argument("--runs", type=int, default=50, help="renders per page")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure everything this many times and keep each page's quietest round "
        "(for a machine shared with other work)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Point DATABASE_URL at a PostgreSQL database of its own.")
    call_command("migrate", verbosity=0)
    # Plain static URLs: the bench does not run collectstatic (no manifest to read).
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": static}).enable()
    business, star, user = ensure_data(args.rebuild)
    http = HttpClient()
    http.force_login(user)
    kwargs = {"business": business.slug, "pk": star.pk}
    pages = [("profile page", reverse("clients:detail", kwargs=kwargs), {})]
    pages += [
        (f"tab: {tab}", reverse(f"profile:{tab}", kwargs=kwargs), {"HTTP_HX_REQUEST": "true"})
        for tab in TABS
    ]
    load = os.getloadavg()[0]
    results: dict[str, tuple] = {}
    for _ in range(max(1, args.repeat)):
        for label, url, headers in pages:
            ours, queries = measure(http, url, args.runs, headers)
            with naive_implementation():
                naive, naive_queries = measure(http, url, args.runs, headers)
            best = results.get(label)
            if best is None or percentile(ours, 0.95) < percentile(best[0], 0.95):
                best = (ours, queries, best[2] if best else naive, naive_queries)
            if percentile(naive, 0.95) < percentile(best[2], 0.95):
                best = (best[0], best[1], naive, naive_queries)
            results[label] = best

    print()
    print(
        f"Client with {HISTORY:,} appointments and {HISTORY:,} sales, {CLIENTS:,} clients; "
        f"{args.runs} renders each (ms); "
        + (f"quietest of {args.repeat} rounds; " if args.repeat > 1 else "")
        + f"load average {load:.1f} at the start"
    )
    header = (
        f"{'page':<20}{'p50':>8}{'p95':>8}{'queries':>9}  |"
        f"{'naive p50':>11}{'p95':>9}{'queries':>9}{'p95 ×':>8}"
    )
    print(header)
    print("-" * len(header))
    for label, (ours, queries, naive, naive_queries) in results.items():
        ratio = percentile(naive, 0.95) / percentile(ours, 0.95)
        print(
            f"{label:<20}{percentile(ours, 0.5):>8.1f}{percentile(ours, 0.95):>8.1f}{queries:>9}  |"
            f"{percentile(naive, 0.5):>11.1f}{percentile(naive, 0.95):>9.1f}{naive_queries:>9}"
            f"{ratio:>8.1f}"
        )
    profile = results["profile page"]
    summary = {
        "profile_p95_ms": round(percentile(profile[0], 0.95), 1),
        "naive_profile_p95_ms": round(percentile(profile[2], 0.95), 1),
        "profile_queries": profile[1],
        "max_tab_queries": max(v[1] for k, v in results.items() if k.startswith("tab:")),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
