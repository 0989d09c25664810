"""Sales writes: checkout, voiding a sale, feedback, and the client's total spend.

Voiding deletes nothing. A voided sale keeps its items, payments and tip allocations as
they were; its status (VOIDED, with who, when and why) takes it out of every total: spend,
sales figures and tips all count `Sale.objects.counted()` only. The vouchers it touched get
ledger entries (a refund for each redemption, a void for each voucher it sold), which with
the void fields make the audit trail.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from appointments import services as appointment_services
from appointments.models import Appointment, AppointmentStatus
from clients.masking import display_name
from sales import cards
from sales.checkout import (
    ZERO,
    CheckoutError,
    ItemLine,
    PaymentLine,
    TipLine,
    Totals,
    allocate_tip,
    check_items,
    check_payments,
    checkout_totals,
    to_money,
)
from sales.models import (
    CardCharge,
    ChargePurpose,
    ChargeStatus,
    Feedback,
    FeedbackLink,
    FeedbackSource,
    ItemKind,
    Payment,
    PaymentMethod,
    Sale,
    SaleItem,
    SaleStatus,
    TipAllocation,
)
from sales.stripe_api import StripeError
from vouchers import services as voucher_services

if TYPE_CHECKING:
    from clients.models import Client
    from glamiti.models import Business, TeamMember, User
    from sales.models import SavedCard

__all__ = [
    "CheckoutError",
    "FeedbackError",
    "ItemLine",
    "PaymentLine",
    "TipLine",
    "checkout",
    "feedback_record",
    "feedback_submit_via_link",
    "refresh_client_spend",
    "sale_void",
]

FEEDBACK_LINK_DAYS = 30
MAX_AMOUNT = Decimal("9999999999.99")  # what DecimalField(max_digits=12, decimal_places=2) holds


class FeedbackError(ValueError):
    """Feedback that can't be recorded; the message is written for whoever is leaving it."""


# --- Client numbers ----------------------------------------------------------------------


def refresh_client_spend(client: Client) -> None:
    """Recompute the client's total spend from their counted sales (one aggregate query).

    Tips are not spend: they go to the team, not the business.
    """
    spend = Sale.objects.filter(business_id=client.business_id, client=client).counted()
    client.total_spend = spend.aggregate(total=Sum("total"))["total"] or ZERO
    client.save(update_fields=["total_spend"])


# --- Checkout ----------------------------------------------------------------------------


@dataclass
class _Plan:
    """A checked checkout: its figures, tip shares and the saved-card line (if any)."""

    totals: Totals
    shares: list[tuple[TeamMember, Decimal]]
    card_index: int | None


def _existing_sale(business: Business, key: uuid.UUID) -> Sale | None:
    return Sale.objects.filter(business=business, idempotency_key=key).first()


def checkout(
    *,
    business: Business,
    idempotency_key: uuid.UUID,
    client: Client | None,
    appointment: Appointment | None,
    items: list[ItemLine],
    payments: list[PaymentLine],
    tips: list[TipLine],
    tip: Decimal = ZERO,
    note: str = "",
    by: User | None,
) -> Sale:
    """Record a paid sale, and return it.

    Prices the items, checks that the tip split adds up to `tip` and that the payments cover
    the total and the tip exactly; issues the vouchers being bought, redeems the vouchers
    paying, charges a saved card, completes a booked `appointment`, creates the client's
    feedback link and updates the client's total spend. Raises CheckoutError (nothing
    written) when any rule fails.

    Submitting the same `idempotency_key` again returns the sale made the first time. With a
    saved card, the sale is first saved as awaiting payment (OPEN), then the card is charged:
    a decline raises CheckoutError and leaves the sale OPEN and unpaid, and submitting the
    same key again with other payments completes that sale.
    """
    existing = _existing_sale(business, idempotency_key)
    if existing is not None and existing.status != SaleStatus.OPEN:
        return existing
    plan = _check(business, client, appointment, items, payments, tips, tip)
    sale_fields = {
        "client": client,
        "appointment": appointment,
        "note": note,
        "created_by": by,
        **_total_fields(plan.totals),
    }
    if plan.card_index is None:
        with transaction.atomic():
            sale = _reserve_sale(business, idempotency_key, sale_fields, existing)
            if sale.status == SaleStatus.OPEN:
                _complete(sale, plan, items, payments, by)
        return sale
    return _checkout_with_card(
        business, idempotency_key, sale_fields, existing, plan, items, payments, by
    )


def _check(
    business: Business,
    client: Client | None,
    appointment: Appointment | None,
    items: list[ItemLine],
    payments: list[PaymentLine],
    tips: list[TipLine],
    tip: Decimal,
) -> _Plan:
    if not items:
        raise CheckoutError("Add at least one item to the sale.", section="items")
    check_items(items)
    totals = checkout_totals(items=items, tip=tip, payments=payments)
    shares = allocate_tip(totals.tip_total, tips, business.currency)
    if max(totals.subtotal, totals.due) > MAX_AMOUNT:
        raise CheckoutError("These amounts are too large for one sale.", section="items")
    check_payments(totals, payments, business.currency)
    for obj, what in [(client, "client"), (appointment, "appointment")]:
        if obj is not None and obj.business_id != business.pk:
            raise CheckoutError(f"That {what} belongs to another business.", section=what)
    card_lines = [i for i, p in enumerate(payments) if p.method == PaymentMethod.SAVED_CARD]
    if len(card_lines) > 1:
        raise CheckoutError(
            "Charge one saved card per sale; pay the rest another way.", section="payments"
        )
    for index in card_lines:
        _check_card(business, client, payments[index].card, index)
    return _Plan(totals, shares, card_lines[0] if card_lines else None)


def _check_card(business: Business, client: Client | None, card: SavedCard, index: int) -> None:
    def refuse(message: str) -> None:
        raise CheckoutError(message, section="payments", index=index)

    if client is None:
        refuse("Choose the client whose saved card you are charging.")
    if card.business_id != business.pk or card.client_id != client.pk:
        refuse(f"That card isn't one of {display_name(client)}'s saved cards.")
    if card.removed_at is not None:
        refuse("That card has been removed; choose another.")
    if card.is_expired_on(timezone.localdate()):
        refuse(f"That card expired at the end of {card.exp_month:02d}/{card.exp_year}.")


def _total_fields(totals: Totals) -> dict[str, Decimal]:
    return {
        "subtotal": totals.subtotal,
        "discount_total": totals.discount_total,
        "total": totals.total,
        "services_total": totals.services_total,
        "products_total": totals.products_total,
        "vouchers_total": totals.vouchers_total,
        "tip_total": totals.tip_total,
    }


def _reserve_sale(business: Business, key: uuid.UUID, fields: dict, existing: Sale | None) -> Sale:
    """The sale row of this checkout, locked: new and OPEN, or the OPEN one an earlier submit
    left (`existing`, its figures replaced by these), or the sale a racing submit completed."""
    if existing is None:
        sale = Sale(business=business, idempotency_key=key, status=SaleStatus.OPEN, **fields)
        try:
            # A second submit racing this one waits on the unique key, then finds this sale.
            with transaction.atomic():
                sale.save()
                return sale
        except IntegrityError:
            existing = _existing_sale(business, key)
            if existing is None:
                raise
    sale = Sale.objects.select_for_update().get(pk=existing.pk)
    if sale.status == SaleStatus.OPEN:
        for name, value in fields.items():
            setattr(sale, name, value)
        sale.save(update_fields=list(fields))
    return sale


def _complete(
    sale: Sale,
    plan: _Plan,
    items: list[ItemLine],
    payments: list[PaymentLine],
    by: User | None,
    charge: CardCharge | None = None,
) -> None:
    """Everything that makes the OPEN `sale` paid. The card is charged last, after every
    rule of ours has passed, so a refusal here never leaves a charged card behind."""
    if sale.appointment is not None:
        _settle_appointment(sale.appointment, sale, by)
    # An OPEN sale keeps its lines as plain rows while it waits for payment.
    sale.items.all().delete()
    sale.tips.all().delete()
    _add_items(sale, items, sale.client, by)
    rows = _payment_rows(sale, payments, by)
    TipAllocation.objects.bulk_create(
        TipAllocation(business=sale.business, sale=sale, team_member=member, amount=amount)
        for member, amount in plan.shares
    )
    if charge is not None and charge.status != ChargeStatus.SUCCEEDED:
        cards.charge_run(charge)
    Payment.objects.bulk_create(rows)
    if charge is not None:
        card_payment = rows[plan.card_index]
        if card_payment.pk is None:  # databases that don't return ids from bulk inserts
            card_payment = sale.payments.filter(method=PaymentMethod.SAVED_CARD).get()
        CardCharge.objects.filter(pk=charge.pk).update(payment=card_payment, sale=sale)
    now = timezone.now()
    sale.status = SaleStatus.COMPLETED
    sale.completed_at = now
    sale.save(update_fields=["status", "completed_at"])
    FeedbackLink.objects.create(
        business=sale.business,
        sale=sale,
        expires_at=now + datetime.timedelta(days=FEEDBACK_LINK_DAYS),
    )
    if sale.client is not None:
        refresh_client_spend(sale.client)


def _checkout_with_card(
    business: Business,
    key: uuid.UUID,
    fields: dict,
    existing: Sale | None,
    plan: _Plan,
    items: list[ItemLine],
    payments: list[PaymentLine],
    by: User | None,
) -> Sale:
    line = payments[plan.card_index]
    # 1. The OPEN sale with its lines, and the charge attempt, committed before Stripe is
    #    called: a decline leaves them, and a retry of this request reuses the attempt's key.
    with transaction.atomic():
        sale = _reserve_sale(business, key, fields, existing)
        if sale.status != SaleStatus.OPEN:
            return sale
        _add_plain_lines(sale, items, plan)
        charge = cards.charge_prepare(
            card=line.card,
            amount=to_money(line.amount),
            currency=business.currency,
            purpose=ChargePurpose.CHECKOUT,
            key_prefix=f"sale-{sale.idempotency_key}",
            sale=sale,
            by=by,
        )
    # 2. Charge and complete, holding the sale's lock: a double submit waits here, then
    #    finds the sale paid (or the attempt's failure) instead of charging again.
    failure: StripeError | None = None
    with transaction.atomic():
        sale = Sale.objects.select_for_update().get(pk=sale.pk)
        if sale.status != SaleStatus.OPEN:
            return sale
        charge = CardCharge.objects.select_for_update().select_related("card").get(pk=charge.pk)
        if charge.status == ChargeStatus.FAILED:
            failure = StripeError(charge.failure_message, kind="declined")
        else:
            try:
                with transaction.atomic():
                    _complete(sale, plan, items, payments, by, charge=charge)
            except StripeError as error:
                failure = error
                cards.charge_failed(charge, error)
    if failure is not None:
        # The sale stays OPEN (awaiting payment); the page says so above the form.
        raise CheckoutError(failure.message, section="payments", index=plan.card_index)
    return sale


def _add_plain_lines(sale: Sale, items: list[ItemLine], plan: _Plan) -> None:
    """What an OPEN sale is for, so that its page shows it while it waits for payment."""
    sale.items.all().delete()
    SaleItem.objects.bulk_create(
        SaleItem(
            business=sale.business,
            sale=sale,
            kind=line.kind,
            service=line.service if line.kind == ItemKind.SERVICE else None,
            product=line.product if line.kind == ItemKind.PRODUCT else None,
            team_member=line.team_member,
            description=line.label[:200],
            quantity=line.quantity,
            unit_price=to_money(line.unit_price),
            discount=line.applied_discount,
            total=line.total,
        )
        for line in items
    )


def _settle_appointment(appointment: Appointment, sale: Sale, by: User | None) -> None:
    # Locked, so two different checkouts of one appointment can't both pass the check below.
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    earlier = (
        Sale.objects.counted()
        .filter(business_id=sale.business_id, appointment=appointment)
        .exclude(pk=sale.pk)
        .first()
    )
    if earlier is not None:
        raise CheckoutError(
            f"This appointment was already paid in sale #{earlier.pk}.", section="appointment"
        )
    if appointment.status == AppointmentStatus.BOOKED:
        try:
            appointment_services.appointment_complete(appointment=appointment, by=by)
        except appointment_services.BookingError as error:
            raise CheckoutError(str(error), section="appointment") from error


def _add_items(sale: Sale, items: list[ItemLine], client: Client | None, by: User | None) -> None:
    rows = []
    for index, line in enumerate(items):
        voucher = None
        if line.kind == ItemKind.VOUCHER:
            try:
                voucher = voucher_services.voucher_issue(
                    business=sale.business,
                    value=to_money(line.unit_price),
                    purchaser=client,
                    recipient=line.voucher_recipient,
                    recipient_name=line.voucher_recipient_name,
                    expires_on=line.voucher_expires_on,
                    by=by,
                    note=f"Sold in sale #{sale.pk}",
                )
            except voucher_services.VoucherError as error:
                raise CheckoutError(str(error), section="items", index=index) from error
        rows.append(
            SaleItem(
                business=sale.business,
                sale=sale,
                kind=line.kind,
                service=line.service if line.kind == ItemKind.SERVICE else None,
                product=line.product if line.kind == ItemKind.PRODUCT else None,
                voucher=voucher,
                team_member=line.team_member,
                description=line.label[:200],
                quantity=line.quantity,
                unit_price=to_money(line.unit_price),
                discount=line.applied_discount,
                total=line.total,
            )
        )
    SaleItem.objects.bulk_create(rows)


def _payment_rows(sale: Sale, payments: list[PaymentLine], by: User | None) -> list[Payment]:
    """The sale's payment rows (not saved yet), redeeming the vouchers that pay."""
    rows = []
    for index, line in enumerate(payments):
        payment = Payment(
            business=sale.business, sale=sale, method=line.method, amount=to_money(line.amount)
        )
        if line.method == PaymentMethod.VOUCHER:
            try:
                voucher = voucher_services.voucher_find_redeemable(
                    business=sale.business, code=line.voucher_code.strip()
                )
                payment.voucher_entry = voucher_services.voucher_redeem(
                    voucher=voucher, amount=payment.amount, by=by, note=f"Sale #{sale.pk}"
                )
            except voucher_services.VoucherError as error:
                # Raising rolls back the whole checkout: vouchers issued or redeemed above too.
                raise CheckoutError(str(error), section="payments", index=index) from error
            payment.voucher = voucher
        rows.append(payment)
    return rows


# --- Void --------------------------------------------------------------------------------


@transaction.atomic
def sale_void(*, sale: Sale, by: User | None, reason: str) -> Sale:
    """Void a sale (owner or manager; the view checks the role). Deletes nothing.

    Refunds every voucher redemption, voids every voucher the sale issued (refused if one
    has been used since), refunds its saved-card payments at Stripe (refused, with nothing
    changed, if Stripe refuses), marks the sale VOIDED with who, when and why, and updates
    the client's spend. Tip allocations stay as rows; tip totals leave voided sales out.
    """
    reason = reason.strip()
    if not reason:
        raise CheckoutError("Give a reason for voiding this sale.", section="reason")
    sale = Sale.objects.select_for_update(of=("self",)).select_related("client").get(pk=sale.pk)
    ok, why = sale.can_void()
    if not ok:
        raise CheckoutError(why)
    note = f"Sale #{sale.pk} voided: {reason}"[:200]
    # Refunds first: a sale that sold a voucher and was paid with it can then void it too.
    payments = sale.payments.filter(voucher_entry__isnull=False).select_related(
        "voucher_entry__voucher"
    )
    for payment in payments:
        voucher_services.voucher_refund(entry=payment.voucher_entry, by=by, note=note)
    for item in sale.items.filter(voucher__isnull=False).select_related("voucher"):
        try:
            voucher_services.voucher_void_issue(voucher=item.voucher, by=by, note=note)
        except voucher_services.VoucherError as error:
            raise CheckoutError(f"This sale can't be voided yet. {error}") from error
    # Last, once every rule of ours has passed: a refund can't be taken back.
    paid_by_card = CardCharge.objects.select_for_update().filter(
        business_id=sale.business_id, sale=sale, status=ChargeStatus.SUCCEEDED
    )
    for charge in paid_by_card:
        try:
            cards.charge_refund(charge=charge)
        except StripeError as error:
            raise CheckoutError(
                f"The card payment couldn't be refunded, so the sale was not voided. "
                f"{error.message}"
            ) from None
    sale.status = SaleStatus.VOIDED
    sale.voided_at = timezone.now()
    sale.voided_by = by
    sale.void_reason = reason[:200]
    sale.save(update_fields=["status", "voided_at", "voided_by", "void_reason"])
    if sale.client is not None:
        refresh_client_spend(sale.client)
    return sale


# --- Feedback ----------------------------------------------------------------------------


def _check_rating(rating: int) -> None:
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise FeedbackError("Choose a rating from 1 to 5 stars.")


@transaction.atomic
def feedback_record(
    *,
    business: Business,
    rating: int,
    comment: str,
    sale: Sale | None = None,
    appointment: Appointment | None = None,
    team_member: TeamMember | None = None,
    by: User | None = None,
    source: str = FeedbackSource.STAFF,
) -> Feedback:
    """Record a 1–5 rating and a comment on a completed sale or appointment."""
    _check_rating(rating)
    if sale is None and appointment is None:
        raise FeedbackError("Feedback needs a sale or an appointment.")
    for obj in (sale, appointment, team_member):
        if obj is not None and obj.business_id != business.pk:
            raise FeedbackError("That belongs to another business.")
    if sale is not None and sale.status != SaleStatus.COMPLETED:
        raise FeedbackError("Feedback can only be left on a paid sale, not a voided one.")
    if sale is None and appointment.status != AppointmentStatus.COMPLETED:
        raise FeedbackError("Feedback can only be left on a completed appointment.")
    if appointment is None and sale is not None:
        appointment = sale.appointment
    client = sale.client if sale is not None else appointment.client
    if team_member is None and appointment is not None:
        team_member = appointment.team_member
    return Feedback.objects.create(
        business=business,
        client=client,
        sale=sale,
        appointment=appointment,
        team_member=team_member,
        rating=rating,
        comment=comment.strip(),
        source=source,
        created_by=by,
    )


def feedback_link_state(link: FeedbackLink, now: datetime.datetime | None = None) -> str:
    """ "open", "used", "expired", or "inactive" (the sale was voided)."""
    if link.used_at is not None:
        return "used"
    if link.expires_at <= (now or timezone.now()):
        return "expired"
    if link.sale.status != SaleStatus.COMPLETED:
        return "inactive"
    return "open"


LINK_PROBLEMS = {
    "used": "Thank you — feedback for this visit has already been left.",
    "expired": "This feedback link has expired.",
    "inactive": "This feedback link is no longer active.",
}


def feedback_link_problem(link: FeedbackLink, now: datetime.datetime | None = None) -> str | None:
    """Why this link can't take feedback (for the client), or None if it can."""
    return LINK_PROBLEMS.get(feedback_link_state(link, now))


@transaction.atomic
def feedback_submit_via_link(*, link: FeedbackLink, rating: int, comment: str) -> Feedback:
    """The client's own feedback through their private link: once, before it expires."""
    # Locked: two tabs submitting at once leave one piece of feedback.
    link = (
        FeedbackLink.objects.select_for_update(of=("self",))
        .select_related("sale", "business", "sale__appointment")
        .get(pk=link.pk)
    )
    problem = feedback_link_problem(link)
    if problem:
        raise FeedbackError(problem)
    feedback = feedback_record(
        business=link.business,
        rating=rating,
        comment=comment,
        sale=link.sale,
        source=FeedbackSource.CLIENT_LINK,
    )
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return feedback


def refresh_spend_after_merge(sender: object, merge: object, **kwargs: object) -> None:
    """Sales moved between the two clients: both spends change."""
    for client in (merge.kept, merge.merged):
        refresh_client_spend(client)
