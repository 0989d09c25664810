"""Saved cards: the client's Stripe customer, adding a card, default and removal, charging.

Writes that touch Stripe follow one rule: our row first (so its id makes the idempotency key
and a retried request finds it), then Stripe, then the rest of our rows. Stripe's own errors
arrive as `stripe_api.StripeError`; rules of ours that refuse come as `CardError`. Both carry
a message written for staff.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Client
from sales import stripe_api
from sales.models import (
    CardCharge,
    CardSetup,
    CardSetupStatus,
    ChargeStatus,
    SavedCard,
    StripeCustomer,
)
from sales.stripe_api import StripeError

if TYPE_CHECKING:
    from appointments.models import Appointment
    from glamiti.models import User
    from sales.models import Sale

logger = logging.getLogger("glamiti.stripe")

__all__ = [
    "CardError",
    "StripeError",
    "card_mark_removed",
    "card_record",
    "card_remove",
    "card_save_from_stripe",
    "card_set_default",
    "card_setup_complete",
    "card_setup_start",
    "charge_failed",
    "charge_prepare",
    "charge_refund",
    "charge_run",
    "stripe_customer_for",
]


class CardError(ValueError):
    """A card action our rules refuse; the message is written for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _stamp(moment) -> int:
    return int(moment.timestamp())


# --- The client's Stripe customer --------------------------------------------------------------


@transaction.atomic
def stripe_customer_for(client: Client) -> StripeCustomer:
    """The client's Stripe customer, created the first time it is needed.

    The client's row is locked meanwhile, so two people adding a card at once make one.
    """
    Client.objects.select_for_update().filter(pk=client.pk).first()
    existing = StripeCustomer.objects.filter(business_id=client.business_id, client=client).first()
    if existing is not None:
        return existing
    customer_id = stripe_api.customer_create(
        name=client.full_name,
        email=client.email,
        metadata={"glamiti_business": str(client.business_id), "glamiti_client": str(client.pk)},
        idempotency_key=f"customer-{client.pk}-{_stamp(client.created_at)}",
    )
    return StripeCustomer.objects.create(
        business_id=client.business_id, client=client, stripe_customer_id=customer_id
    )


# --- Adding a card -----------------------------------------------------------------------------


def card_setup_start(*, client: Client, by: User | None) -> tuple[CardSetup, str]:
    """Start adding a card: a SetupIntent for off-session use. Returns the setup and the
    client secret the browser's card field confirms it with."""
    if client.is_archived:
        raise CardError("This client is archived; restore them before saving a card.")
    customer = stripe_customer_for(client)
    with transaction.atomic():
        setup = CardSetup.objects.create(
            business_id=client.business_id, client=client, created_by=by
        )
        intent = stripe_api.setup_intent_create(
            customer_id=customer.stripe_customer_id,
            metadata={
                "glamiti_business": str(client.business_id),
                "glamiti_client": str(client.pk),
                "glamiti_setup": str(setup.pk),
            },
            idempotency_key=f"setup-{setup.pk}-{_stamp(setup.created_at)}",
        )
        setup.stripe_setup_intent_id = intent.id
        setup.save(update_fields=["stripe_setup_intent_id"])
    return setup, intent.client_secret


SETUP_NOT_DONE = {
    "requires_payment_method": "The card wasn't saved: enter the card details and try again.",
    "requires_confirmation": "The card wasn't saved: enter the card details and try again.",
    "requires_action": "The card wasn't saved: the client's bank asked them to confirm it "
    "(3-D Secure) and that wasn't finished. Try again with the client.",
    "processing": "The card is still being checked. Look at the Cards tab again in a minute.",
    "canceled": "The card wasn't saved: it was declined or the check was canceled.",
}


def card_setup_client_secret(setup: CardSetup) -> tuple[str, str]:
    """The setup's status at Stripe and the client secret the card field needs."""
    intent = stripe_api.setup_intent_retrieve(setup.stripe_setup_intent_id)
    return intent.status, intent.client_secret


def card_setup_complete(*, setup: CardSetup) -> SavedCard:
    """Save the card a confirmed SetupIntent collected (called by the page, and by the webhook
    if the page never got to it). Stripe is asked, not the browser."""
    if setup.status == CardSetupStatus.SUCCEEDED and setup.card is not None:
        return setup.card
    intent = stripe_api.setup_intent_retrieve(setup.stripe_setup_intent_id)
    customer = StripeCustomer.objects.filter(
        business_id=setup.business_id, client_id=setup.client_id
    ).first()
    belongs = (
        customer is not None
        and intent.customer_id == customer.stripe_customer_id
        and intent.metadata.get("glamiti_setup") == str(setup.pk)
    )
    if not belongs:
        raise CardError("This card setup doesn't belong to this client.")
    if intent.status != "succeeded" or not intent.payment_method_id:
        raise CardError(SETUP_NOT_DONE.get(intent.status, "The card wasn't saved. Try again."))
    card = card_save_from_stripe(
        client=setup.client, customer=customer, payment_method_id=intent.payment_method_id
    )
    CardSetup.objects.filter(pk=setup.pk).update(
        status=CardSetupStatus.SUCCEEDED, card=card, completed_at=timezone.now()
    )
    return card


def card_save_from_stripe(
    *, client: Client, customer: StripeCustomer, payment_method_id: str
) -> SavedCard:
    """Record a card Stripe holds for this client's customer, attaching it if needed.

    Safe to call twice for the same card (page and webhook): the second call finds the first
    card. The client's first card becomes the default.
    """
    existing = SavedCard.objects.filter(
        business_id=client.business_id, stripe_payment_method_id=payment_method_id
    ).first()
    if existing is not None:
        return existing
    # (Stripe's test ids such as "pm_card_visa" come back as a new card with its own id.)
    card = stripe_api.payment_method_retrieve(payment_method_id)
    if card.customer_id and card.customer_id != customer.stripe_customer_id:
        raise CardError("That card is saved for someone else at Stripe.")
    if not card.customer_id:
        # A confirmed SetupIntent normally attaches the card; attach it if it didn't.
        card = stripe_api.payment_method_attach(
            payment_method_id=card.payment_method_id, customer_id=customer.stripe_customer_id
        )
    return card_record(client=client, card=card)


@transaction.atomic
def card_record(*, client: Client, card: stripe_api.Card) -> SavedCard:
    """Our row for a card attached to the client's Stripe customer (once per card)."""
    Client.objects.select_for_update().filter(pk=client.pk).first()
    saved = SavedCard.objects.filter(
        business_id=client.business_id, stripe_payment_method_id=card.payment_method_id
    ).first()
    if saved is not None:
        return saved
    has_default = client.saved_cards.filter(removed_at__isnull=True, is_default=True).exists()
    saved = SavedCard(
        business_id=client.business_id,
        client=client,
        stripe_payment_method_id=card.payment_method_id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        cardholder_name=card.cardholder_name,
        is_default=not has_default,
    )
    try:
        with transaction.atomic():
            saved.save()
    except IntegrityError:
        # Saved meanwhile by the other path (page or webhook).
        return SavedCard.objects.get(
            business_id=client.business_id, stripe_payment_method_id=card.payment_method_id
        )
    return saved


# --- Default and removal -------------------------------------------------------------------


def _refuse_removed(card: SavedCard) -> None:
    if card.removed_at is not None:
        raise CardError("This card has been removed.")


@transaction.atomic
def card_set_default(*, card: SavedCard) -> SavedCard:
    """Make `card` the one charged for automatic billing (a no-show fee)."""
    Client.objects.select_for_update().filter(pk=card.client_id).first()
    card.refresh_from_db()
    _refuse_removed(card)
    SavedCard.objects.filter(business_id=card.business_id, client_id=card.client_id).exclude(
        pk=card.pk
    ).update(is_default=False)
    if not card.is_default:
        card.is_default = True
        card.save(update_fields=["is_default"])
    return card


def card_remove(*, card: SavedCard) -> SavedCard:
    """Detach the card at Stripe, then mark it removed here (its past charges keep it).

    Removing the default card makes the newest remaining card the default.
    """
    _refuse_removed(card)
    stripe_api.payment_method_detach(card.stripe_payment_method_id)
    return card_mark_removed(card)


@transaction.atomic
def card_mark_removed(card: SavedCard) -> SavedCard:
    """Our side of a removal (also used when Stripe tells us a card was detached)."""
    Client.objects.select_for_update().filter(pk=card.client_id).first()
    card.refresh_from_db()
    if card.removed_at is not None:
        return card
    was_default = card.is_default
    card.removed_at = timezone.now()
    card.is_default = False
    card.save(update_fields=["removed_at", "is_default"])
    if was_default:
        successor = (
            SavedCard.objects.filter(
                business_id=card.business_id, client_id=card.client_id, removed_at__isnull=True
            )
            .order_by("-created_at", "-id")
            .first()
        )
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])
    return card


# --- Charges -------------------------------------------------------------------------------


def charge_prepare(
    *,
    card: SavedCard,
    amount: Decimal,
    currency: str,
    purpose: str,
    key_prefix: str,
    sale: Sale | None = None,
    appointment: Appointment | None = None,
    by: User | None = None,
) -> CardCharge:
    """The charge attempt about to be made (call inside the transaction that locks its sale
    or appointment). A pending attempt for the same card and amount, left by a request that
    didn't finish, is reused, so retrying it sends Stripe the same idempotency key."""
    attempts = CardCharge.objects.filter(business_id=card.business_id, purpose=purpose)
    attempts = attempts.filter(sale=sale) if sale is not None else attempts
    attempts = attempts.filter(appointment=appointment) if appointment is not None else attempts
    pending = attempts.filter(status=ChargeStatus.PENDING, card=card, amount=amount).first()
    if pending is not None:
        return pending
    return CardCharge.objects.create(
        business_id=card.business_id,
        client_id=card.client_id,
        card=card,
        purpose=purpose,
        sale=sale,
        appointment=appointment,
        amount=amount,
        currency=currency,
        idempotency_key=f"{key_prefix}-{attempts.count() + 1}",
        created_by=by,
    )


def charge_run(charge: CardCharge) -> CardCharge:
    """Charge the card now, off-session (call inside a transaction holding the charge's row
    lock). Raises StripeError when the card isn't charged; records nothing itself then —
    the caller rolls its work back and calls `charge_failed`."""
    card = charge.card
    if card.removed_at is not None:
        raise StripeError("That card has been removed; choose another.", kind="removed")
    # Stripe wants the customer the card is attached to; ask rather than assume (a merge of
    # two clients may have brought cards from another customer).
    on_file = stripe_api.payment_method_retrieve(card.stripe_payment_method_id)
    if not on_file.customer_id:
        raise StripeError(
            "That card is no longer on file at Stripe. Remove it and ask for another card.",
            kind="not_found",
        )
    metadata = {
        "glamiti_business": str(charge.business_id),
        "glamiti_client": str(charge.client_id),
        "glamiti_charge": str(charge.pk),
        "glamiti_purpose": charge.purpose,
    }
    if charge.sale_id:
        metadata["glamiti_sale"] = str(charge.sale_id)
    if charge.appointment_id:
        metadata["glamiti_appointment"] = str(charge.appointment_id)
    payment = stripe_api.payment_intent_charge(
        amount=charge.amount,
        currency=charge.currency,
        customer_id=on_file.customer_id,
        payment_method_id=card.stripe_payment_method_id,
        metadata=metadata,
        idempotency_key=charge.idempotency_key,
    )
    charge.stripe_payment_intent_id = payment.payment_intent_id
    charge.status = ChargeStatus.SUCCEEDED
    charge.failure_code = charge.failure_message = ""
    charge.save(
        update_fields=[
            "stripe_payment_intent_id",
            "status",
            "failure_code",
            "failure_message",
            "updated_at",
        ]
    )
    return charge


def charge_failed(charge: CardCharge, error: StripeError) -> None:
    """Record why a charge attempt failed (after the caller rolled its own work back).

    An unreachable Stripe leaves the attempt pending: trying again reuses its key, so if the
    first try did reach Stripe, the retry gets that payment instead of making a second.
    """
    if error.kind in ("unreachable", "busy"):
        return
    CardCharge.objects.filter(pk=charge.pk).update(
        status=ChargeStatus.FAILED,
        failure_code=(error.code or error.kind)[:40],
        failure_message=error.message[:300],
        stripe_payment_intent_id=error.payment_intent_id or charge.stripe_payment_intent_id,
        updated_at=timezone.now(),
    )
    charge.refresh_from_db()


def charge_refund(*, charge: CardCharge) -> CardCharge:
    """Refund what is left of a succeeded charge (voiding its sale)."""
    remaining = charge.amount - charge.amount_refunded
    if charge.status != ChargeStatus.SUCCEEDED or remaining <= 0:
        return charge
    refund = stripe_api.refund_create(
        payment_intent_id=charge.stripe_payment_intent_id,
        amount=remaining,
        currency=charge.currency,
        idempotency_key=f"refund-{charge.idempotency_key}",
    )
    charge.amount_refunded = charge.amount
    charge.status = ChargeStatus.REFUNDED
    charge.stripe_refund_id = refund.id
    charge.save(update_fields=["amount_refunded", "status", "stripe_refund_id", "updated_at"])
    return charge
