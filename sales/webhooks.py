"""Stripe webhooks: one endpoint, signed events, each processed once.

The signature is checked on the raw body (missing, wrong or stale → 400, nothing changes).
The event's customer says which business it is about; the event id is stored in the same
transaction as the changes it makes, so a redelivery finds it and changes nothing. Events
about no client of ours are ignored and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.context import Source, audit_context
from glamiti.models import Business
from glamiti.rls import platform_access
from glamiti.tenancy import tenant_context
from sales import cards, stripe_api
from sales.models import (
    CardCharge,
    CardSetup,
    ChargeStatus,
    SavedCard,
    StripeCustomer,
    StripeEvent,
)

logger = logging.getLogger("glamiti.stripe")

Event = dict[str, Any]
Handler = Callable[[dict[str, Any], StripeCustomer | None, Event], str]


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = stripe_api.webhook_event(request.body, request.headers.get("Stripe-Signature"))
    except stripe_api.WebhookError as error:
        logger.warning("Stripe webhook refused: %s", error)
        return HttpResponse("Invalid signature.", status=400, content_type="text/plain")
    try:
        with audit_context(Source.WEBHOOK):
            outcome = event_process(event)
    except stripe_api.StripeError as error:
        # Stripe retries later: nothing was recorded for this event.
        logger.warning("Stripe event %s not processed: %s", event["id"], error.message)
        return HttpResponse("Try again later.", status=503, content_type="text/plain")
    return JsonResponse({"received": True, "outcome": outcome})


def event_process(event: Event) -> str:
    """Apply one verified event, once. Returns what was done (for the log and the response)."""
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return "ignored: not an event we use"
    obj = (event.get("data") or {}).get("object") or {}
    customer_id = _customer_id(event, obj)
    business = _business_of(customer_id, obj)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=event["id"], type=event["type"], business=business
                )
        except IntegrityError:
            return "duplicate: already processed"
        if business is None:
            logger.info(
                "Stripe event %s (%s) is about no client of ours: ignored.",
                event["id"],
                event["type"],
            )
            outcome = "ignored: no client of ours"
        else:
            with tenant_context(business):
                customer = (
                    StripeCustomer.objects.select_related("business", "client")
                    .filter(stripe_customer_id=customer_id)
                    .first()
                    if customer_id
                    else None
                )
                try:
                    outcome = handler(obj, customer, event)
                except cards.CardError as error:
                    outcome = f"refused: {error.message}"
        record.outcome = outcome[:200]
        record.save(update_fields=["outcome"])
    logger.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return outcome


def _customer_id(event: Event, obj: dict[str, Any]) -> str:
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if not customer:
        # A detached card no longer names its customer; the event's previous values do.
        previous = (event.get("data") or {}).get("previous_attributes") or {}
        customer = previous.get("customer")
    return customer if isinstance(customer, str) else ""


def _business_of(customer_id: str, obj: dict[str, Any]) -> Business | None:
    """Which business an event is about, from its customer or (for a detached card, which no
    longer names one) its payment method.

    Before the business is known no tenant can be entered, so this one lookup runs on the
    platform connection, and returns only the business: everything else is read again
    inside the tenant, under row-level security.
    """
    with platform_access():
        business_id = None
        if customer_id:
            business_id = (
                StripeCustomer.objects.filter(stripe_customer_id=customer_id)
                .values_list("business_id", flat=True)
                .first()
            )
        if business_id is None and obj.get("object") == "payment_method" and obj.get("id"):
            business_id = (
                SavedCard.objects.filter(stripe_payment_method_id=obj["id"])
                .values_list("business_id", flat=True)
                .first()
            )
    return Business.objects.filter(pk=business_id).first() if business_id else None


# --- Handlers (run inside the business's tenant scope) ---------------------------------------


def setup_intent_succeeded(obj: dict, customer: StripeCustomer | None, event: Event) -> str:
    if customer is None:
        return "ignored: no customer"
    setup = CardSetup.objects.filter(stripe_setup_intent_id=obj.get("id", "")).first()
    if setup is not None and setup.client_id == customer.client_id:
        card = cards.card_setup_complete(setup=setup)
    elif obj.get("payment_method"):
        card = cards.card_save_from_stripe(
            client=customer.client,
            customer=customer,
            payment_method_id=stripe_api.setup_intent_from(obj).payment_method_id,
        )
    else:
        return "ignored: no card"
    return f"card {card.pk} saved"


def payment_method_attached(obj: dict, customer: StripeCustomer | None, event: Event) -> str:
    if customer is None or obj.get("type") != "card":
        return "ignored: not a card of ours"
    card = cards.card_record(client=customer.client, card=stripe_api.card_from(obj))
    return f"card {card.pk} saved"


def payment_method_updated(obj: dict, customer: StripeCustomer | None, event: Event) -> str:
    card = SavedCard.objects.filter(stripe_payment_method_id=obj.get("id", "")).first()
    if card is None or obj.get("type") != "card":
        return "ignored: unknown card"
    details = stripe_api.card_from(obj)
    card.brand, card.last4 = details.brand, details.last4 or card.last4
    card.exp_month, card.exp_year = details.exp_month, details.exp_year
    card.cardholder_name = details.cardholder_name
    card.save(update_fields=["brand", "last4", "exp_month", "exp_year", "cardholder_name"])
    return f"card {card.pk} updated"


def payment_method_detached(obj: dict, customer: StripeCustomer | None, event: Event) -> str:
    card = SavedCard.objects.filter(stripe_payment_method_id=obj.get("id", "")).first()
    if card is None:
        return "ignored: unknown card"
    cards.card_mark_removed(card)
    return f"card {card.pk} removed"


def _charge_for(obj: dict) -> CardCharge | None:
    """Our charge attempt for a PaymentIntent: by its id, or by the id in its metadata."""
    intent_id = obj.get("id", "") if obj.get("object") == "payment_intent" else ""
    intent_id = intent_id or obj.get("payment_intent") or ""
    if isinstance(intent_id, dict):
        intent_id = intent_id.get("id", "")
    charge = None
    if intent_id:
        charge = CardCharge.objects.filter(stripe_payment_intent_id=intent_id).first()
    charge_pk = str((obj.get("metadata") or {}).get("glamiti_charge", ""))
    if charge is None and charge_pk.isdigit():
        charge = CardCharge.objects.filter(pk=int(charge_pk)).first()
    return charge


def payment_intent_succeeded(obj: dict, customer: StripeCustomer | None, event: Event) -> str:
    charge = _charge_for(obj)
    if charge is None:
        return "ignored: not one of our charges"
    if charge.status == ChargeStatus.SUCCEEDED or charge.status == ChargeStatus.REFUNDED:
        return f"charge {charge.pk} already recorded"
    charge.status = ChargeStatus.SUCCEEDED
    charge.stripe_payment_intent_id = obj.get("id", "")
    charge.save(update_fields=["status", "stripe_payment_intent_id", "updated_at"])
    # The request that made it didn't finish: money was taken without a completed sale.
    logger.warning(
        "Stripe charge %s succeeded but no sale recorded it; retrying the checkout or the "
        "no-show fee completes it without charging again.",
        charge.pk,
    )
    return f"charge {charge.pk} marked paid"


def payment_intent_payment_failed(obj: dict, customer: StripeCustomer | None, event: Event) -> str:
    charge = _charge_for(obj)
    if charge is None:
        return "ignored: not one of our charges"
    if charge.status != ChargeStatus.PENDING:
        return f"charge {charge.pk} already {charge.status}"
    error = obj.get("last_payment_error") or {}
    code = str(error.get("decline_code") or error.get("code") or "card_declined")
    charge.status = ChargeStatus.FAILED
    charge.failure_code = code[:40]
    charge.failure_message = stripe_api.decline_message(code)
    charge.stripe_payment_intent_id = obj.get("id", "")
    charge.save(
        update_fields=[
            "status",
            "failure_code",
            "failure_message",
            "stripe_payment_intent_id",
            "updated_at",
        ]
    )
    return f"charge {charge.pk} marked failed"


def charge_refunded(obj: dict, customer: StripeCustomer | None, event: Event) -> str:
    charge = _charge_for(obj)
    if charge is None:
        return "ignored: not one of our charges"
    refunded = stripe_api.from_minor_units(
        int(obj.get("amount_refunded") or 0), obj.get("currency") or charge.currency
    )
    charge.amount_refunded = min(max(refunded, Decimal(0)), charge.amount)
    if charge.amount_refunded >= charge.amount:
        charge.status = ChargeStatus.REFUNDED
    charge.save(update_fields=["amount_refunded", "status", "updated_at"])
    sale = charge.sale
    if sale is not None and sale.status != "voided":
        logger.warning(
            "Stripe refunded charge %s of sale %s outside Glamiti; void the sale if it "
            "should no longer count.",
            charge.pk,
            sale.pk,
        )
    return f"charge {charge.pk} refunded {charge.amount_refunded}"


HANDLERS: dict[str, Handler] = {
    "setup_intent.succeeded": setup_intent_succeeded,
    "payment_method.attached": payment_method_attached,
    "payment_method.detached": payment_method_detached,
    "payment_method.updated": payment_method_updated,
    "payment_intent.succeeded": payment_intent_succeeded,
    "payment_intent.payment_failed": payment_intent_payment_failed,
    "charge.refunded": charge_refunded,
}
