"""A client's history, written straight to the tables with the exact numbers a test wants
(totals, dates, statuses), for checking the profile's counters against hand-computed sums.

Call inside `all_tenants()` or `tenant_context()`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from appointments.models import Appointment, AppointmentService, AppointmentStatus, Service
from clients.models import ClientNote, NoteKind
from glamiti.models import TeamMember
from sales.models import (
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
from tests.factories import BusinessFactory
from vouchers.models import LedgerKind, Voucher, VoucherLedgerEntry


def money(value: str | int | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ["business", "name"]

    business = factory.SubFactory(BusinessFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    price = Decimal("40.00")
    duration_minutes = 60


def make_appointment(
    client,
    member: TeamMember,
    start: datetime.datetime,
    *,
    status: str = AppointmentStatus.COMPLETED,
    services: tuple[str, ...] = ("Cut & blow-dry",),
    cancel_reason: str = "",
) -> Appointment:
    appointment = Appointment.objects.create(
        business=client.business,
        client=client,
        team_member=member,
        start_at=start,
        end_at=start + datetime.timedelta(hours=1),
        status=status,
        cancel_reason=cancel_reason,
        completed_at=start if status == AppointmentStatus.COMPLETED else None,
        canceled_at=start if status == AppointmentStatus.CANCELED else None,
        no_show_at=start if status == AppointmentStatus.NO_SHOW else None,
    )
    for position, name in enumerate(services):
        service = ServiceFactory(business=client.business, name=name)
        AppointmentService.objects.create(
            business=client.business,
            appointment=appointment,
            service=service,
            name=name,
            price=service.price,
            duration_minutes=60,
            position=position,
        )
    return appointment


def make_sale(
    client,
    at: datetime.datetime,
    *,
    services: str | Decimal = "0",
    products: str | Decimal = "0",
    vouchers: str | Decimal = "0",
    tip: str | Decimal = "0",
    tips: list[tuple[TeamMember, str]] | None = None,
    status: str = SaleStatus.COMPLETED,
    appointment: Appointment | None = None,
    with_items: bool = True,
) -> Sale:
    """A sale with the given split; total = services + products + vouchers (tips apart)."""
    parts = {
        ItemKind.SERVICE: money(services),
        ItemKind.PRODUCT: money(products),
        ItemKind.VOUCHER: money(vouchers),
    }
    total = sum(parts.values(), Decimal("0.00"))
    sale = Sale.objects.create(
        business=client.business,
        client=client,
        appointment=appointment,
        status=status,
        subtotal=total,
        total=total,
        services_total=parts[ItemKind.SERVICE],
        products_total=parts[ItemKind.PRODUCT],
        vouchers_total=parts[ItemKind.VOUCHER],
        tip_total=money(tip),
        completed_at=at if status != SaleStatus.OPEN else None,
        voided_at=at if status == SaleStatus.VOIDED else None,
    )
    Sale.objects.filter(pk=sale.pk).update(created_at=at)
    sale.created_at = at
    if with_items:
        for kind, amount in parts.items():
            if amount:
                SaleItem.objects.create(
                    business=client.business,
                    sale=sale,
                    kind=kind,
                    description=f"{kind.label} item",
                    unit_price=amount,
                    total=amount,
                )
        if total + money(tip):
            Payment.objects.create(
                business=client.business,
                sale=sale,
                method=PaymentMethod.CARD_TERMINAL,
                amount=total + money(tip),
            )
    for member, amount in tips or []:
        TipAllocation.objects.create(
            business=client.business, sale=sale, team_member=member, amount=money(amount)
        )
    return sale


def make_feedback(
    client, *, rating: int, comment: str = "", sale=None, appointment=None, member=None, at=None
) -> Feedback:
    feedback = Feedback.objects.create(
        business=client.business,
        client=client,
        sale=sale,
        appointment=appointment,
        team_member=member,
        rating=rating,
        comment=comment,
        source=FeedbackSource.STAFF,
    )
    if at is not None:
        Feedback.objects.filter(pk=feedback.pk).update(created_at=at)
        feedback.created_at = at
    return feedback


def make_note(
    client, *, text: str, kind: str = NoteKind.PREFERENCE, pinned=False, by=None, at=None
):
    note = ClientNote.objects.create(
        business=client.business,
        client=client,
        kind=kind,
        text=text,
        is_pinned=pinned,
        created_by=by,
    )
    if at is not None:
        ClientNote.objects.filter(pk=note.pk).update(created_at=at)
        note.created_at = at
    return note


def make_voucher(
    *,
    business,
    code: str,
    value: str,
    balance: str | None = None,
    purchaser=None,
    recipient=None,
    issued_on: datetime.date | None = None,
    expires_on: datetime.date | None = None,
    at: datetime.datetime | None = None,
) -> Voucher:
    """A voucher with its ledger: issued for `value`, then one redemption down to `balance`."""
    today = timezone.localdate()
    issued_on = issued_on or today - datetime.timedelta(days=30)
    at = at or timezone.now() - datetime.timedelta(days=30)
    voucher = Voucher.objects.create(
        business=business,
        code=code,
        original_value=money(value),
        balance=money(balance if balance is not None else value),
        purchaser=purchaser,
        recipient=recipient,
        issued_on=issued_on,
        expires_on=expires_on or issued_on + datetime.timedelta(days=365),
    )
    VoucherLedgerEntry.objects.create(
        business=business,
        voucher=voucher,
        kind=LedgerKind.ISSUED,
        amount=money(value),
        balance_after=money(value),
        created_at=at,
    )
    if voucher.balance != voucher.original_value:
        VoucherLedgerEntry.objects.create(
            business=business,
            voucher=voucher,
            kind=LedgerKind.REDEEMED,
            amount=voucher.balance - voucher.original_value,
            balance_after=voucher.balance,
            created_at=at + datetime.timedelta(days=1),
        )
    return voucher


def make_card(client, *, last4: str, brand="visa", default=False, exp=(12, 2030), removed=False):
    return SavedCard.objects.create(
        business=client.business,
        client=client,
        stripe_payment_method_id=f"pm_{client.pk}_{last4}",
        brand=brand,
        last4=last4,
        exp_month=exp[0],
        exp_year=exp[1],
        is_default=default,
        removed_at=timezone.now() if removed else None,
    )


def build_long_history(client, members: list[TeamMember], *, size: int = 300) -> None:
    """`size` appointments and `size` sales (with items, payments and tips), plus feedback,
    notes, vouchers with ledgers and cards: written in bulk, for query-count tests."""
    business = client.business
    now = timezone.now()
    service = ServiceFactory(business=business, name="Cut")
    statuses = [
        AppointmentStatus.COMPLETED,
        AppointmentStatus.COMPLETED,
        AppointmentStatus.CANCELED,
        AppointmentStatus.NO_SHOW,
    ]
    appointments = Appointment.objects.bulk_create(
        Appointment(
            business=business,
            client=client,
            team_member=members[n % len(members)],
            start_at=now - datetime.timedelta(days=n, hours=1),
            end_at=now - datetime.timedelta(days=n),
            status=statuses[n % len(statuses)],
        )
        for n in range(size)
    )
    Appointment.objects.bulk_create(
        Appointment(
            business=business,
            client=client,
            team_member=members[0],
            start_at=now + datetime.timedelta(days=n + 1),
            end_at=now + datetime.timedelta(days=n + 1, hours=1),
        )
        for n in range(5)
    )
    AppointmentService.objects.bulk_create(
        AppointmentService(
            business=business,
            appointment=a,
            service=service,
            name="Cut",
            price=Decimal("40.00"),
            duration_minutes=60,
        )
        for a in appointments
    )
    sales = Sale.objects.bulk_create(
        Sale(
            business=business,
            client=client,
            status=SaleStatus.VOIDED if n % 10 == 9 else SaleStatus.COMPLETED,
            total=Decimal("55.00"),
            subtotal=Decimal("55.00"),
            services_total=Decimal("40.00"),
            products_total=Decimal("15.00"),
            tip_total=Decimal("5.00"),
        )
        for n in range(size)
    )
    for n, sale in enumerate(sales):
        sale.created_at = now - datetime.timedelta(days=n, minutes=30)
    Sale.objects.bulk_update(sales, ["created_at"])
    SaleItem.objects.bulk_create(
        SaleItem(
            business=business,
            sale=sale,
            kind=kind,
            description=kind,
            unit_price=amount,
            total=amount,
        )
        for sale in sales
        for kind, amount in [(ItemKind.SERVICE, Decimal("40")), (ItemKind.PRODUCT, Decimal("15"))]
    )
    Payment.objects.bulk_create(
        Payment(business=business, sale=s, method=PaymentMethod.CASH, amount=Decimal("60"))
        for s in sales
    )
    TipAllocation.objects.bulk_create(
        TipAllocation(business=business, sale=s, team_member=m, amount=Decimal("2.50"))
        for s in sales
        for m in members[:2]
    )
    feedback = Feedback.objects.bulk_create(
        Feedback(
            business=business,
            client=client,
            sale=s,
            team_member=members[0],
            rating=1 + n % 5,
            source=FeedbackSource.STAFF,
        )
        for n, s in enumerate(sales[: size // 5])
    )
    for n, item in enumerate(feedback):
        item.created_at = now - datetime.timedelta(days=n, minutes=20)
    Feedback.objects.bulk_update(feedback, ["created_at"])
    notes = ClientNote.objects.bulk_create(
        ClientNote(business=business, client=client, text=f"Note {n}", is_pinned=n < 2)
        for n in range(size // 5)
    )
    for n, note in enumerate(notes):
        note.created_at = now - datetime.timedelta(days=5 * n, minutes=10)
    ClientNote.objects.bulk_update(notes, ["created_at"])
    for n in range(12):
        make_voucher(
            business=business,
            code=f"LONG-{client.pk}-{n}",
            value="50",
            balance="20",
            purchaser=client,
            recipient=client if n % 2 else None,
        )
    for n in range(3):
        make_card(client, last4=f"{n:04d}", default=n == 0)
