"""A year of demo history for `seed_demo`: appointments, sales, tips, vouchers, feedback.

Everything goes through the real services (booking, checkout, vouchers, feedback), so the
numbers agree with each other; only the dates are moved back afterwards, since the services
stamp "now". Deterministic for a given business and day; it fills a business once.
"""

from __future__ import annotations

import datetime
import random
import uuid
from decimal import Decimal

from django.utils import timezone

from appointments.demo import seed_appointments
from appointments.models import Appointment, AppointmentStatus
from glamiti.models import Business
from sales.checkout import ItemLine, PaymentLine, TipLine
from sales.models import (
    Feedback,
    FeedbackLink,
    FeedbackSource,
    ItemKind,
    PaymentMethod,
    Product,
    Sale,
    TipAllocation,
)
from sales.services import checkout, feedback_record, sale_void
from vouchers.models import Voucher, VoucherLedgerEntry
from vouchers.services import voucher_issue

PRODUCTS = [
    ("Argan oil shampoo", "SH-ARG", "18.50"),
    ("Repair conditioner", "CO-REP", "19.50"),
    ("Styling cream", "ST-CRM", "16.00"),
    ("Heat protect spray", "HP-SPR", "14.00"),
    ("Beard oil", "BD-OIL", "12.00"),
]
COMMENTS = {
    5: ["Lovely as always!", "Best cut I've had in years.", "Thank you, I love the colour.", ""],
    4: ["Really good, a short wait at the start.", "Very happy.", ""],
    3: ["Fine, but it ran late.", "OK — the colour is a bit warm."],
    2: ["Not quite what I asked for."],
    1: ["Very disappointed, I waited 30 minutes."],
}
ZERO = Decimal("0.00")


def seed_history(business: Business, *, days_before: int = 365, days_after: int = 21) -> int:
    """Fill `business` (inside its tenant context) with a year of history; returns the number
    of sales made, 0 if it already had sales."""
    if business.sales.exists():
        return 0
    rng = random.Random(f"history-{business.slug}")  # noqa: S311 - demo data
    seed_appointments(business, days_before=days_before, days_after=days_after, busy=0.22)
    products = [
        Product.objects.get_or_create(
            business=business, sku=sku, defaults={"name": name, "price": Decimal(price)}
        )[0]
        for name, sku, price in PRODUCTS
    ]
    members = list(business.teammembers.filter(is_active=True).order_by("id"))
    completed = (
        business.appointments.filter(status=AppointmentStatus.COMPLETED)
        .select_related("client", "team_member")
        .prefetch_related("services__service")
        .order_by("start_at", "id")
    )
    sales = 0
    for appointment in completed:
        sale = _check_out(business, appointment, products, members, rng)
        sales += 1
        if rng.random() < 0.22:
            rating = rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 9, 4, 2])[0]
            feedback_record(
                business=business,
                rating=rating,
                comment=rng.choice(COMMENTS[rating]),
                sale=sale,
                team_member=appointment.team_member,
                by=None,
                source=FeedbackSource.STAFF,
            )
        _backdate(sale, appointment.end_at)
    _vouchers_in_every_status(business, rng)
    for sale in business.sales.order_by("-created_at")[5:7]:
        sale_void(sale=sale, by=None, reason="Entered twice by mistake")
    return sales


def _check_out(business, appointment: Appointment, products, members, rng) -> Sale:
    items = [
        ItemLine(
            kind=ItemKind.SERVICE,
            service=line.service,
            unit_price=line.price,
            team_member=appointment.team_member,
        )
        for line in appointment.services.all()
    ]
    if rng.random() < 0.25:
        product = rng.choice(products)
        items.append(ItemLine(kind=ItemKind.PRODUCT, product=product, unit_price=product.price))
    if rng.random() < 0.04:
        items.append(ItemLine(kind=ItemKind.VOUCHER, unit_price=Decimal(rng.choice([25, 50, 100]))))
    total = sum((item.total for item in items), start=ZERO)
    tip, tips = ZERO, []
    if rng.random() < 0.6:
        tip = (total * Decimal(rng.choice([10, 12, 15, 20])) / 100).quantize(Decimal("1"))
        tips = [TipLine(team_member=appointment.team_member, percent=Decimal(100))]
        others = [m for m in members if m != appointment.team_member]
        if others and rng.random() < 0.2:
            tips = [
                TipLine(team_member=appointment.team_member, percent=Decimal(60)),
                TipLine(team_member=rng.choice(others), percent=Decimal(40)),
            ]
    due = total + tip
    payments = []
    voucher = (
        business.vouchers.redeemable().filter(purchaser=appointment.client).order_by("id").first()
    )
    if voucher is not None and rng.random() < 0.7:
        part = min(voucher.balance, due)
        payments.append(
            PaymentLine(method=PaymentMethod.VOUCHER, amount=part, voucher_code=voucher.code)
        )
        due -= part
    if due > 0:
        method = PaymentMethod.CARD_TERMINAL if rng.random() < 0.75 else PaymentMethod.CASH
        payments.append(PaymentLine(method=method, amount=due))
    return checkout(
        business=business,
        idempotency_key=uuid.UUID(int=rng.getrandbits(128)),
        client=appointment.client,
        appointment=appointment,
        items=items,
        payments=payments,
        tips=tips,
        tip=tip,
        by=None,
    )


def _backdate(sale: Sale, when: datetime.datetime) -> None:
    Sale.objects.filter(pk=sale.pk).update(created_at=when, completed_at=when)
    TipAllocation.objects.filter(sale=sale).update(created_at=when)
    Feedback.objects.filter(sale=sale).update(created_at=when + datetime.timedelta(hours=3))
    FeedbackLink.objects.filter(sale=sale).update(expires_at=when + datetime.timedelta(days=30))
    issued = Voucher.objects.filter(sale_items__sale=sale)
    issued.update(issued_on=when.date(), expires_on=when.date() + datetime.timedelta(days=365))
    VoucherLedgerEntry.objects.filter(voucher__in=issued).update(created_at=when)


def _vouchers_in_every_status(business: Business, rng: random.Random) -> None:
    """Complimentary vouchers so that the list shows every status, expired ones included."""
    today = timezone.localdate()
    clients = list(business.clients.active().order_by("id")[:6])
    for index, client in enumerate(clients[:4]):
        voucher_issue(
            business=business,
            value=Decimal(rng.choice([20, 40, 60])),
            purchaser=None,
            recipient=client,
            note="Complimentary (demo)",
        )
        if index < 2:
            # Expired last month with its balance left.
            issued = today - datetime.timedelta(days=400 + index)
            business.vouchers.filter(recipient=client).update(
                issued_on=issued, expires_on=today - datetime.timedelta(days=30)
            )
