"""The Stripe gateway: the only module that imports `stripe`.

Everything else calls these functions with our own values (Decimal amounts, ids) and gets
back small dataclasses or a `StripeError` whose message staff can act on. Money becomes
minor units only here. Every call that creates something at Stripe sends an idempotency key
made from our own object (a sale's charge attempt, a card setup), so a retried request never
creates twice. Card numbers never pass through the server: cards are typed into Stripe's own
field in the browser, and we only ever see the payment method's id, brand, last four digits
and expiry.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import stripe
from django.conf import settings

logger = logging.getLogger("glamiti.stripe")

CONNECT_TIMEOUT = 5  # seconds to reach Stripe
READ_TIMEOUT = 20  # seconds for Stripe to answer (a charge may wait on the card's bank)
WEBHOOK_TOLERANCE = 300  # seconds: older signed events are refused as replays
DEFAULT_JS_URL = "https://js.stripe.com/v3/"

# Currencies Stripe counts in whole units (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)

# Anything that could be a card number (13 to 19 digits, maybe spaced): never stored or shown.
CARD_NUMBER_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")


class StripeError(Exception):
    """A Stripe call that failed. `message` is written for staff and safe to show and log.

    `kind` says what to do about it: "declined", "expired_card", "authentication_required"
    (the bank wants the client to confirm, impossible off-session), "unreachable", "busy",
    "not_configured", "not_found", "invalid".
    """

    def __init__(
        self, message: str, *, kind: str, code: str = "", payment_intent_id: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.code = code
        self.payment_intent_id = payment_intent_id


class WebhookError(ValueError):
    """A webhook request that is not a genuine, fresh event from Stripe."""


# --- What we get back ------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    payment_method_id: str
    customer_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    cardholder_name: str = ""


@dataclass(frozen=True)
class SetupIntent:
    id: str
    client_secret: str
    status: str
    customer_id: str
    payment_method_id: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Payment:
    payment_intent_id: str
    status: str  # "succeeded" is the only status that means paid


@dataclass(frozen=True)
class Refund:
    id: str
    status: str


# --- Settings --------------------------------------------------------------------------------


def is_configured() -> bool:
    """True when card payments can be used: both API keys are set."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


def publishable_key() -> str:
    return settings.STRIPE_PUBLISHABLE_KEY


def js_url() -> str:
    """Where the browser loads Stripe.js from (tests point it at localstripe)."""
    return getattr(settings, "STRIPE_JS_URL", "") or DEFAULT_JS_URL


@functools.lru_cache(maxsize=4)
def _client_for(
    secret_key: str, api_base: str, retries: int, read_timeout: float
) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base},
        # Retries resend the same idempotency key, so they can't create twice.
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=(CONNECT_TIMEOUT, read_timeout)),
    )


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise StripeError(
            "Card payments are not set up: the Stripe keys are missing from the server's "
            "settings. Ask the owner or your administrator.",
            kind="not_configured",
        )
    retries = int(getattr(settings, "STRIPE_MAX_NETWORK_RETRIES", 2))
    read_timeout = float(getattr(settings, "STRIPE_READ_TIMEOUT", READ_TIMEOUT))
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, retries, read_timeout)


# --- Money -----------------------------------------------------------------------------------


def to_minor_units(amount: Decimal, currency: str) -> int:
    """12.34 GBP → 1234; 1200 JPY → 1200."""
    exponent = 0 if currency.lower() in ZERO_DECIMAL else 2
    scaled = (Decimal(amount) * (10**exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(scaled)


def from_minor_units(amount: int, currency: str) -> Decimal:
    exponent = 0 if currency.lower() in ZERO_DECIMAL else 2
    return (Decimal(amount) / (10**exponent)).quantize(Decimal("0.01"))


# --- Errors ----------------------------------------------------------------------------------


def scrub(text: str) -> str:
    """Remove anything that looks like a card number from a text we did not write."""
    return CARD_NUMBER_LIKE.sub("[number removed]", text or "")


DECLINE_REASONS = {
    "insufficient_funds": "there isn't enough money on it",
    "card_velocity_exceeded": "it is over its spending limit",
    "withdrawal_count_limit_exceeded": "it is over its spending limit",
    "processing_error": "the bank had a problem processing it; try again in a moment",
    "expired_card": "it has expired",
}

AUTHENTICATION_REQUIRED = (
    "The client's bank wants them to confirm this payment themselves (3-D Secure), which "
    "can't be done while they aren't here. Ask the client to pay in person."
)


def decline_message(code: str) -> str:
    """The message for a decline known only by its code (a webhook's failed payment)."""
    if code == "authentication_required":
        return AUTHENTICATION_REQUIRED
    reason = DECLINE_REASONS.get(code)
    because = f": {reason}" if reason else ""
    return (
        f"The card was declined{because}. Ask the client for another card, or take the "
        "payment another way."
    )


def _error_details(error: stripe.StripeError) -> tuple[str, str, str]:
    details = error.error
    code = (getattr(details, "code", None) or error.code or "") if details else (error.code or "")
    decline = (getattr(details, "decline_code", None) or "") if details else ""
    intent = getattr(details, "payment_intent", None) if details else None
    intent_id = intent.get("id", "") if isinstance(intent, dict) else getattr(intent, "id", "")
    return code, decline, intent_id or ""


def _translate(error: stripe.StripeError, operation: str) -> StripeError:
    code, decline, intent_id = _error_details(error)
    if isinstance(error, stripe.CardError):
        if code == "authentication_required" or decline == "authentication_required":
            result = StripeError(AUTHENTICATION_REQUIRED, kind="authentication_required", code=code)
        elif code == "expired_card":
            result = StripeError(
                "The card has expired. Ask the client for a new card, or take the payment "
                "another way.",
                kind="expired_card",
                code=code,
            )
        else:
            result = StripeError(
                decline_message(decline if decline in DECLINE_REASONS else code),
                kind="declined",
                code=decline or code or "card_declined",
            )
    elif isinstance(error, stripe.APIConnectionError):
        result = StripeError(
            "Stripe could not be reached. Please try again in a moment; trying again will not "
            "charge twice.",
            kind="unreachable",
        )
    elif isinstance(error, stripe.RateLimitError):
        result = StripeError(
            "Stripe is busy right now. Please try again in a moment.", kind="busy", code=code
        )
    elif isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        result = StripeError(
            "Stripe refused our keys. Ask the owner or your administrator to check the Stripe "
            "settings.",
            kind="not_configured",
        )
    elif isinstance(error, stripe.InvalidRequestError) and error.http_status == 404:
        result = StripeError(
            "Stripe no longer knows this card or payment.", kind="not_found", code=code
        )
    else:
        detail = scrub(error.user_message or "")
        result = StripeError(
            f"Stripe refused the request{': ' + detail if detail else ''}.",
            kind="invalid",
            code=code,
        )
    result.payment_intent_id = intent_id
    logger.warning(
        "Stripe %s failed: %s (%s%s) request %s",
        operation,
        result.kind,
        code or "-",
        f"/{decline}" if decline else "",
        error.request_id or "-",
    )
    return result


def _call(operation: str, key: str | None, call: Any) -> dict[str, Any]:
    """Run one SDK call, logging it with its idempotency key and translating its errors.

    Returns the object as plain data, so nothing outside this module sees SDK types.
    """
    logger.info("Stripe %s%s", operation, f" (idempotency key {key})" if key else "")
    try:
        result = call()
    except stripe.StripeError as error:
        raise _translate(error, operation) from None
    return result.to_dict() if hasattr(result, "to_dict") else dict(result or {})


def _options(key: str) -> dict[str, str]:
    return {"idempotency_key": key}


# --- Conversions -----------------------------------------------------------------------------


def _value(obj: Any, name: str, default: Any = None) -> Any:
    if not isinstance(obj, dict):
        return default
    value = obj.get(name, default)
    return default if value is None else value


def _id(value: Any) -> str:
    """An expandable field: an id, or the object itself."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _value(value, "id", "") or ""


def card_from(payment_method: Any) -> Card:
    """Our view of a card payment method (from the API or a webhook's object)."""
    card = _value(payment_method, "card", {})
    billing = _value(payment_method, "billing_details", {})
    return Card(
        payment_method_id=_value(payment_method, "id", ""),
        customer_id=_id(_value(payment_method, "customer")),
        brand=str(_value(card, "brand", "") or "card")[:20],
        last4=str(_value(card, "last4", "") or "")[-4:],
        exp_month=int(_value(card, "exp_month", 0) or 0),
        exp_year=int(_value(card, "exp_year", 0) or 0),
        cardholder_name=scrub(str(_value(billing, "name", "") or ""))[:120],
    )


def setup_intent_from(intent: Any) -> SetupIntent:
    metadata = _value(intent, "metadata", {})
    return SetupIntent(
        id=_value(intent, "id", ""),
        client_secret=_value(intent, "client_secret", "") or "",
        status=_value(intent, "status", "") or "",
        customer_id=_id(_value(intent, "customer")),
        payment_method_id=_id(_value(intent, "payment_method")),
        metadata={str(k): str(v) for k, v in metadata.items()},
    )


# --- Customers and cards ---------------------------------------------------------------------


def customer_create(
    *, name: str, email: str, metadata: dict[str, str], idempotency_key: str
) -> str:
    """Create a Stripe Customer and return its id."""
    params: dict[str, Any] = {"name": name, "metadata": metadata}
    if email:
        params["email"] = email
    customer = _call(
        "create customer",
        idempotency_key,
        lambda: _client().v1.customers.create(params, _options(idempotency_key)),
    )
    return customer["id"]


def customer_delete(customer_id: str) -> None:
    """Delete a Stripe Customer for good (a client's erasure); one Stripe has already
    forgotten is fine. Detach its cards first: that is what `payment_method_detach` is for."""
    try:
        _call(
            "delete customer",
            None,
            lambda: _client().v1.customers.delete(customer_id),
        )
    except StripeError as error:
        if error.kind != "not_found":
            raise


def setup_intent_create(
    *, customer_id: str, metadata: dict[str, str], idempotency_key: str
) -> SetupIntent:
    """A SetupIntent for saving a card for later, off-session charges."""
    params = {
        "customer": customer_id,
        "usage": "off_session",
        "payment_method_types": ["card"],
        "metadata": metadata,
    }
    intent = _call(
        "create setup intent",
        idempotency_key,
        lambda: _client().v1.setup_intents.create(params, _options(idempotency_key)),
    )
    return setup_intent_from(intent)


def setup_intent_retrieve(setup_intent_id: str) -> SetupIntent:
    intent = _call(
        "retrieve setup intent",
        None,
        lambda: _client().v1.setup_intents.retrieve(setup_intent_id),
    )
    return setup_intent_from(intent)


def payment_method_retrieve(payment_method_id: str) -> Card:
    method = _call(
        "retrieve payment method",
        None,
        lambda: _client().v1.payment_methods.retrieve(payment_method_id),
    )
    return card_from(method)


def payment_method_attach(*, payment_method_id: str, customer_id: str) -> Card:
    key = f"attach-{payment_method_id}-{customer_id}"
    method = _call(
        "attach payment method",
        key,
        lambda: _client().v1.payment_methods.attach(
            payment_method_id, {"customer": customer_id}, _options(key)
        ),
    )
    return card_from(method)


def payment_method_detach(payment_method_id: str) -> None:
    """Detach a card from its customer; a card Stripe has already forgotten is fine."""
    key = f"detach-{payment_method_id}"
    try:
        _call(
            "detach payment method",
            key,
            lambda: _client().v1.payment_methods.detach(payment_method_id, None, _options(key)),
        )
    except StripeError as error:
        if error.kind != "not_found" and "not attached" not in error.message:
            raise


# --- Charges and refunds ---------------------------------------------------------------------


def payment_intent_charge(
    *,
    amount: Decimal,
    currency: str,
    customer_id: str,
    payment_method_id: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> Payment:
    """Charge a saved card now, without the client at a device (off-session).

    Returns only when the payment succeeded; raises StripeError otherwise. A bank asking
    for 3-D Secure comes back as an `authentication_required` error (real Stripe) or as a
    PaymentIntent waiting for action (localstripe): both become the same StripeError, and a
    waiting PaymentIntent is canceled so it can't be completed later by surprise.
    """
    params = {
        "amount": to_minor_units(amount, currency),
        "currency": currency.lower(),
        "customer": customer_id,
        "payment_method": payment_method_id,
        "payment_method_types": ["card"],
        "confirm": True,
        "off_session": True,
        "metadata": metadata,
    }
    intent = _call(
        "create payment intent",
        idempotency_key,
        lambda: _client().v1.payment_intents.create(params, _options(idempotency_key)),
    )
    intent_id, status = intent["id"], intent.get("status") or ""
    if status == "succeeded":
        return Payment(payment_intent_id=intent_id, status=status)
    if status == "requires_action":
        _cancel_quietly(intent_id)
        raise StripeError(
            AUTHENTICATION_REQUIRED,
            kind="authentication_required",
            code="authentication_required",
            payment_intent_id=intent_id,
        )
    error = _value(intent, "last_payment_error", {})
    code = _value(error, "code", "") or status
    logger.warning("Stripe payment intent %s ended as %s (%s)", intent_id, status, code)
    raise StripeError(
        "The card was not charged (Stripe says the payment is "
        f"{status.replace('_', ' ')}). Ask the client for another way to pay.",
        kind="declined",
        code=code,
        payment_intent_id=intent_id,
    )


def _cancel_quietly(payment_intent_id: str) -> None:
    key = f"cancel-{payment_intent_id}"
    # A failure is logged by _call; the charge has failed either way.
    with contextlib.suppress(StripeError):
        _call(
            "cancel payment intent",
            key,
            lambda: _client().v1.payment_intents.cancel(payment_intent_id, None, _options(key)),
        )


def refund_create(
    *, payment_intent_id: str, amount: Decimal, currency: str, idempotency_key: str
) -> Refund:
    """Refund `amount` of a succeeded payment."""
    params = {"payment_intent": payment_intent_id, "amount": to_minor_units(amount, currency)}
    refund = _call(
        "create refund",
        idempotency_key,
        lambda: _client().v1.refunds.create(params, _options(idempotency_key)),
    )
    return Refund(id=refund["id"], status=refund.get("status") or "")


# --- Webhooks --------------------------------------------------------------------------------


def webhook_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """Check the signature on the raw body and return the event as plain data.

    Raises WebhookError for a missing, wrong or stale signature, or a body that isn't an
    event.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise WebhookError("No webhook secret is configured.")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=WEBHOOK_TOLERANCE
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as error:
        raise WebhookError(str(error.user_message or "Bad signature.")) from None
    except (ValueError, UnicodeDecodeError):
        raise WebhookError("The body is not JSON.") from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise WebhookError("The body is not a Stripe event.")
    return event
