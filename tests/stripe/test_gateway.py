"""The Stripe gateway (sales/stripe_api.py) against localstripe: money in minor units, our
own errors with messages staff can act on, and idempotency keys on every create."""

from decimal import Decimal as D

import pytest

from sales import stripe_api
from tests.conftest_stripe import card_numbers_in, luhn_ok


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (D("12.34"), "GBP", 1234),
        (D("0.01"), "eur", 1),
        (D("1200"), "JPY", 1200),
        (D("9.995"), "USD", 1000),
    ],
)
def test_money_becomes_minor_units(amount, currency, minor):
    assert stripe_api.to_minor_units(amount, currency) == minor


def test_minor_units_come_back_as_money():
    assert stripe_api.from_minor_units(1234, "gbp") == D("12.34")


def test_a_customer_card_and_charge_round_trip():
    customer = stripe_api.customer_create(
        name="Maya Lopez",
        email="maya@example.com",
        metadata={"glamiti_client": "1"},
        idempotency_key="customer-test-1",
    )
    card = stripe_api.payment_method_retrieve("pm_card_visa")
    attached = stripe_api.payment_method_attach(
        payment_method_id=card.payment_method_id, customer_id=customer
    )
    assert (attached.customer_id, attached.brand, attached.last4) == (customer, "visa", "4242")
    paid = stripe_api.payment_intent_charge(
        amount=D("25.50"),
        currency="GBP",
        customer_id=customer,
        payment_method_id=card.payment_method_id,
        metadata={},
        idempotency_key="charge-test-1",
    )
    assert paid.status == "succeeded"
    refund = stripe_api.refund_create(
        payment_intent_id=paid.payment_intent_id,
        amount=D("25.50"),
        currency="GBP",
        idempotency_key="refund-test-1",
    )
    assert refund.status == "succeeded"


def test_a_decline_is_our_error_with_a_message_for_staff():
    customer = stripe_api.customer_create(
        name="Ann", email="", metadata={}, idempotency_key="customer-test-2"
    )
    card = stripe_api.payment_method_retrieve("pm_card_chargeCustomerFail")
    stripe_api.payment_method_attach(payment_method_id=card.payment_method_id, customer_id=customer)
    with pytest.raises(stripe_api.StripeError) as caught:
        stripe_api.payment_intent_charge(
            amount=D("5"),
            currency="GBP",
            customer_id=customer,
            payment_method_id=card.payment_method_id,
            metadata={},
            idempotency_key="charge-test-2",
        )
    assert caught.value.kind == "declined"
    assert "declined" in caught.value.message and "another card" in caught.value.message


def test_an_unreachable_stripe_is_our_error(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # the discard port: nobody listens
    with pytest.raises(stripe_api.StripeError) as caught:
        stripe_api.payment_method_retrieve("pm_card_visa")
    assert caught.value.kind == "unreachable"
    assert "could not be reached" in caught.value.message


def test_missing_keys_are_our_error(settings):
    settings.STRIPE_SECRET_KEY = ""
    assert not stripe_api.is_configured()
    with pytest.raises(stripe_api.StripeError) as caught:
        stripe_api.payment_method_retrieve("pm_card_visa")
    assert caught.value.kind == "not_configured"


def test_a_card_stripe_does_not_know_is_not_found():
    with pytest.raises(stripe_api.StripeError) as caught:
        stripe_api.payment_method_retrieve("pm_nothing_here")
    assert caught.value.kind == "not_found"


def test_every_create_sends_the_idempotency_key_we_give(stripe_recorder):
    customer = stripe_api.customer_create(
        name="Key Test", email="", metadata={}, idempotency_key="customer-key-1"
    )
    stripe_api.setup_intent_create(customer_id=customer, metadata={}, idempotency_key="setup-key-1")
    assert stripe_recorder.keys("POST", "/v1/customers") == ["customer-key-1"]
    assert stripe_recorder.keys("POST", "/v1/setup_intents") == ["setup-key-1"]


def test_text_from_stripe_loses_anything_like_a_card_number():
    assert stripe_api.scrub("card 4242 4242 4242 4242 was declined") == (
        "card [number removed] was declined"
    )


def test_the_card_number_scan_finds_card_numbers_and_ignores_phones_and_ids():
    assert luhn_ok("4242424242424242") and not luhn_ok("4242424242424241")
    assert card_numbers_in("paid with 4000 0025 0000 3155 today") == ["4000 0025 0000 3155"]
    assert card_numbers_in('{"number": "5555555555554444"}') == ["5555555555554444"]
    assert card_numbers_in("+4915123456789 pm_4242424242424242 sale-1") == []
