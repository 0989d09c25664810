"""Automatic billing: charging a client's default saved card without them, off-session.

The one case so far is the no-show fee (a business setting): after an appointment is marked
as a no-show, a manager charges the fee to the client's default card. A paid fee is a sale
(one "No-show fee" line, paid by saved card) linked to the appointment, so it shows in the
sales list, the client's spend and can be voided (which refunds it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from appointments.models import Appointment, AppointmentStatus
from clients.masking import display_name
from sales import cards, stripe_api
from sales.models import (
    CardCharge,
    ChargePurpose,
    ChargeStatus,
    ItemKind,
    Payment,
    PaymentMethod,
    Sale,
    SaleItem,
    SaleStatus,
    SavedCard,
)
from sales.services import refresh_client_spend
from sales.stripe_api import StripeError

if TYPE_CHECKING:
    from glamiti.models import User


class NoShowFeeError(ValueError):
    """The fee can't be charged; `message` says why and what to do, for staff."""

    def __init__(self, message: str, *, kind: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


@dataclass
class NoShowFee:
    """What the appointment page shows about its no-show fee."""

    amount: Decimal
    card: SavedCard | None
    paid: CardCharge | None  # the charge that paid it, if it has been charged
    last_failure: CardCharge | None
    problem: str  # why it can't be charged now ("" if it can)


def default_card(client_id: int, business_id: int) -> SavedCard | None:
    return SavedCard.objects.filter(
        business_id=business_id, client_id=client_id, removed_at__isnull=True, is_default=True
    ).first()


def _fee_charges(appointment: Appointment):
    return CardCharge.objects.filter(
        business_id=appointment.business_id,
        appointment=appointment,
        purpose=ChargePurpose.NO_SHOW_FEE,
    )


def no_show_fee_state(appointment: Appointment) -> NoShowFee:
    """The fee, the card it would go on, and whether it has been charged (three queries)."""
    fee = appointment.business.no_show_fee
    card = default_card(appointment.client_id, appointment.business_id)
    charges = list(_fee_charges(appointment).select_related("card", "sale")[:10])
    paid = next(
        (c for c in charges if c.status in (ChargeStatus.SUCCEEDED, ChargeStatus.REFUNDED)), None
    )
    failed = next((c for c in charges if c.status == ChargeStatus.FAILED), None)
    return NoShowFee(
        amount=fee,
        card=card,
        paid=paid,
        last_failure=failed if paid is None else None,
        problem=_problem(appointment, fee, card),
    )


def _problem(appointment: Appointment, fee: Decimal, card: SavedCard | None) -> str:
    name = display_name(appointment.client)
    if appointment.status != AppointmentStatus.NO_SHOW:
        return "Only an appointment marked as a no-show can be charged a no-show fee."
    if fee <= 0:
        return "There is no no-show fee: the owner can set one in Settings."
    if not stripe_api.is_configured():
        return "Card payments are not set up, so the fee can't be charged to a card."
    if card is None:
        return (
            f"{name} has no saved card. Add one from their Cards tab, or ask them to pay in person."
        )
    if card.is_expired_on(timezone.localdate()):
        return (
            f"{name}'s default card expired at the end of {card.exp_month:02d}/{card.exp_year}. "
            "Ask them to pay in person, or add a new card and make it the default."
        )
    return ""


def no_show_fee_charge(*, appointment: Appointment, by: User | None) -> Sale:
    """Charge the business's no-show fee to the client's default card, off-session, and
    record it as a paid sale. Charging twice returns the first sale; a refusal raises
    NoShowFeeError (an authentication the bank wants: "ask the client to pay in person")."""
    business = appointment.business
    # 1. Checks and the charge attempt, under the appointment's lock, committed before Stripe.
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("client", "business")
            .get(pk=appointment.pk)
        )
        paid = _fee_charges(appointment).filter(status=ChargeStatus.SUCCEEDED).first()
        if paid is not None and paid.sale_id:
            return paid.sale
        card = default_card(appointment.client_id, business.pk)
        problem = _problem(appointment, business.no_show_fee, card)
        if problem:
            raise NoShowFeeError(problem)
        charge = paid or cards.charge_prepare(
            card=card,
            amount=business.no_show_fee,
            currency=business.currency,
            purpose=ChargePurpose.NO_SHOW_FEE,
            key_prefix=f"no-show-{appointment.pk}-{int(appointment.created_at.timestamp())}",
            appointment=appointment,
            by=by,
        )
    # 2. The charge itself, holding the attempt's lock: a double click waits, then finds it.
    failure: StripeError | None = None
    sale = None
    with transaction.atomic():
        charge = CardCharge.objects.select_for_update().select_related("card").get(pk=charge.pk)
        if charge.sale_id:
            return Sale.objects.get(pk=charge.sale_id)
        if charge.status == ChargeStatus.FAILED:
            failure = StripeError(charge.failure_message, kind=charge.failure_code)
        else:
            try:
                with transaction.atomic():
                    if charge.status != ChargeStatus.SUCCEEDED:
                        cards.charge_run(charge)
                    sale = _fee_sale(appointment, charge, by)
            except StripeError as error:
                failure = error
                cards.charge_failed(charge, error)
    if failure is not None:
        raise NoShowFeeError(failure.message, kind=failure.kind)
    return sale


def _fee_sale(appointment: Appointment, charge: CardCharge, by: User | None) -> Sale:
    now = timezone.now()
    fee = charge.amount
    sale = Sale.objects.create(
        business_id=appointment.business_id,
        client=appointment.client,
        appointment=appointment,
        status=SaleStatus.COMPLETED,
        subtotal=fee,
        total=fee,
        services_total=fee,
        idempotency_key=uuid.uuid4(),
        note="No-show fee",
        created_by=by,
        completed_at=now,
    )
    when = date_format(timezone.localtime(appointment.start_at), "D j M, H:i")
    SaleItem.objects.create(
        business_id=appointment.business_id,
        sale=sale,
        kind=ItemKind.SERVICE,
        team_member=appointment.team_member,
        description=f"No-show fee · {when}",
        quantity=1,
        unit_price=fee,
        total=fee,
    )
    payment = Payment.objects.create(
        business_id=appointment.business_id, sale=sale, method=PaymentMethod.SAVED_CARD, amount=fee
    )
    CardCharge.objects.filter(pk=charge.pk).update(sale=sale, payment=payment, updated_at=now)
    refresh_client_spend(appointment.client)
    return sale
