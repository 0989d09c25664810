"""Saved cards made the way the app makes them: through the card services, against the
localstripe server of tests/conftest_stripe.py (Stripe settings must point at it)."""

from __future__ import annotations

from decimal import Decimal

from clients.models import Client
from glamiti.tenancy import tenant_context
from sales import cards
from sales.models import SavedCard

# Stripe's test payment methods (https://docs.stripe.com/testing); localstripe knows these.
VISA = "pm_card_visa"
DECLINED_ON_CHARGE = "pm_card_chargeCustomerFail"  # saves fine, every charge is declined
DECLINED_ON_SAVE = "pm_card_visa_chargeDeclined"  # refused when saved (attached)
# Raw test numbers for cards localstripe has no test id for.
AUTHENTICATION_ALWAYS = "4000002760003184"  # 3-D Secure on every charge, even off-session


def saved_card(client: Client, payment_method: str = VISA) -> SavedCard:
    """A card saved for `client` (its Stripe customer is created if needed)."""
    with tenant_context(client.business):
        customer = cards.stripe_customer_for(client)
        return cards.card_save_from_stripe(
            client=client, customer=customer, payment_method_id=payment_method
        )


def money(value: str) -> Decimal:
    return Decimal(value)
