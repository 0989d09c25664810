"""Stripe webhooks: signed on the raw body, processed once, keeping cards and payments in sync.

The events are Stripe's own objects (fetched from localstripe), signed the way Stripe signs;
the last test has localstripe itself deliver its events to the live test server.
"""

import hashlib
import hmac
import json
import logging
import time
import uuid
from decimal import Decimal as D

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from glamiti.tenancy import tenant_context
from sales import cards
from sales.models import CardCharge, ChargeStatus, SavedCard, StripeEvent
from sales.services import ItemLine, PaymentLine, checkout
from tests.conftest_stripe import WEBHOOK_SECRET
from tests.factories import ClientFactory
from tests.factories_stripe import DECLINED_ON_CHARGE, saved_card
from tests.rls import all_tenants, platform_db_mark

# The business of an event is looked up on the platform connection (before any tenant).
pytestmark = platform_db_mark()

URL = "/webhooks/stripe/"


def signature(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event(kind: str, obj: dict, **extra) -> dict:
    data = {"object": obj, **extra}
    return {"id": f"evt_{uuid.uuid4().hex[:14]}", "object": "event", "type": kind, "data": data}


def deliver(payload: dict | bytes, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if "HTTP_STRIPE_SIGNATURE" not in headers:
        headers["HTTP_STRIPE_SIGNATURE"] = signature(body)
    return HttpClient().post(URL, body, content_type="application/json", **headers)


def events() -> list[StripeEvent]:
    return list(StripeEvent.objects.order_by("id"))


def card_rows(client) -> list[SavedCard]:
    with tenant_context(client.business):
        return list(SavedCard.objects.filter(client=client).order_by("id"))


@pytest.fixture
def maya(world):
    with all_tenants():
        return ClientFactory(business=world.business, first_name="Maya")


# --- Signatures ------------------------------------------------------------------------------


def test_the_url_is_the_documented_one():
    assert reverse("stripe-webhook") == URL


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_STRIPE_SIGNATURE": ""},
        {"HTTP_STRIPE_SIGNATURE": "t=1,v1=nonsense"},
        {"HTTP_STRIPE_SIGNATURE": "garbage"},
    ],
    ids=["missing", "wrong", "unreadable"],
)
def test_a_bad_signature_is_refused_and_changes_nothing(maya, header):
    card = saved_card(maya)
    payload = event("payment_method.detached", {"id": card.stripe_payment_method_id})
    response = deliver(payload, **header)
    assert response.status_code == 400
    assert events() == [] and card_rows(maya)[0].removed_at is None


def test_a_signature_made_with_another_secret_is_refused(maya):
    body = json.dumps(event("payment_method.detached", {"id": "pm_x"})).encode()
    response = deliver(body, HTTP_STRIPE_SIGNATURE=signature(body, secret="whsec_other"))
    assert response.status_code == 400 and events() == []


def test_a_stale_signature_is_refused(maya):
    card = saved_card(maya)
    body = json.dumps(event("payment_method.detached", {"id": card.stripe_payment_method_id}))
    old = signature(body.encode(), at=int(time.time()) - 3600)
    assert deliver(body.encode(), HTTP_STRIPE_SIGNATURE=old).status_code == 400
    assert card_rows(maya)[0].removed_at is None


def test_a_changed_body_is_refused(maya):
    body = json.dumps(event("payment_method.detached", {"id": "pm_a"})).encode()
    header = signature(body)
    tampered = body.replace(b"pm_a", b"pm_b")
    assert deliver(tampered, HTTP_STRIPE_SIGNATURE=header).status_code == 400


def test_only_post_is_accepted():
    assert HttpClient().get(URL).status_code == 405


def test_without_a_webhook_secret_nothing_is_accepted(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert deliver(event("payment_method.detached", {"id": "pm_x"})).status_code == 400


# --- Once only -------------------------------------------------------------------------------


def test_the_same_event_twice_is_processed_once(maya, localstripe):
    card = saved_card(maya)
    pm = localstripe.call("GET", f"/v1/payment_methods/{card.stripe_payment_method_id}")
    customer = pm["customer"]
    pm["customer"] = None
    detached = event("payment_method.detached", pm, previous_attributes={"customer": customer})
    first = deliver(detached)
    assert first.status_code == 200 and first.json()["outcome"] == f"card {card.pk} removed"
    # Were the event applied again, it would remove the card once more.
    with all_tenants():
        SavedCard.objects.filter(pk=card.pk).update(removed_at=None)
    second = deliver(detached)
    assert second.status_code == 200
    assert second.json()["outcome"] == "duplicate: already processed"
    assert card_rows(maya)[0].removed_at is None
    (record,) = events()
    assert (record.event_id, record.business_id) == (detached["id"], maya.business_id)


def test_events_we_do_not_use_are_acknowledged_and_not_stored():
    response = deliver(event("customer.created", {"id": "cus_x", "object": "customer"}))
    assert response.status_code == 200 and events() == []


def test_an_event_about_no_client_of_ours_is_ignored_and_logged(caplog):
    pm = {"id": "pm_nobody", "object": "payment_method", "type": "card", "customer": "cus_nobody"}
    with caplog.at_level(logging.INFO, logger="glamiti.stripe"):
        response = deliver(event("payment_method.attached", pm))
    assert response.json()["outcome"] == "ignored: no client of ours"
    assert "no client of ours" in caplog.text
    assert [e.business_id for e in events()] == [None]
    with all_tenants():
        assert not SavedCard.objects.exists()


# --- Cards -----------------------------------------------------------------------------------


def test_a_confirmed_setup_saves_the_card_when_the_page_never_came_back(world, maya, localstripe):
    with tenant_context(world.business):
        setup, secret = cards.card_setup_start(client=maya, by=world.staff)
    localstripe.call(
        "POST",
        f"/v1/setup_intents/{setup.stripe_setup_intent_id}/confirm",
        {"client_secret": secret, "payment_method": "pm_card_visa"},
    )
    intent = localstripe.call("GET", f"/v1/setup_intents/{setup.stripe_setup_intent_id}")
    response = deliver(event("setup_intent.succeeded", intent))
    assert response.status_code == 200
    (card,) = card_rows(maya)
    assert (card.brand, card.last4, card.is_default) == ("visa", "4242", True)
    with tenant_context(world.business):
        setup.refresh_from_db()
    assert setup.card == card
    # The card was attached to the client's customer (localstripe doesn't do it on confirm).
    pm = localstripe.call("GET", f"/v1/payment_methods/{card.stripe_payment_method_id}")
    assert pm["customer"] == intent["customer"]


def test_a_card_attached_at_stripe_appears_in_the_tab(world, maya, localstripe):
    with tenant_context(world.business):
        customer = cards.stripe_customer_for(maya)
    pm_id = localstripe.call("GET", "/v1/payment_methods/pm_card_visa")["id"]
    pm = localstripe.call(
        "POST",
        f"/v1/payment_methods/{pm_id}/attach",
        {"customer": customer.stripe_customer_id},
    )
    assert deliver(event("payment_method.attached", pm)).status_code == 200
    assert [c.stripe_payment_method_id for c in card_rows(maya)] == [pm_id]
    # Twice (another delivery of a different event about the same card) is still one card.
    deliver(event("payment_method.attached", pm))
    assert len(card_rows(maya)) == 1


def test_a_card_updated_at_stripe_gets_its_new_expiry(maya, localstripe):
    card = saved_card(maya)
    pm = localstripe.call("GET", f"/v1/payment_methods/{card.stripe_payment_method_id}")
    pm["card"]["exp_year"], pm["card"]["exp_month"] = 2035, 7
    assert deliver(event("payment_method.updated", pm)).status_code == 200
    card = card_rows(maya)[0]
    assert (card.exp_month, card.exp_year) == (7, 2035)


def test_a_card_detached_at_stripe_is_removed_and_the_next_becomes_default(maya, localstripe):
    first, second = saved_card(maya), saved_card(maya)
    assert first.is_default and not second.is_default
    pm = localstripe.call("GET", f"/v1/payment_methods/{first.stripe_payment_method_id}")
    previous = {"customer": pm["customer"]}
    pm["customer"] = None
    deliver(event("payment_method.detached", pm, previous_attributes=previous))
    first, second = card_rows(maya)
    assert first.removed_at is not None and not first.is_default
    assert second.is_default


# --- Payments --------------------------------------------------------------------------------


def pending_charge(world, card) -> CardCharge:
    with tenant_context(world.business):
        return CardCharge.objects.create(
            business=world.business,
            client=card.client,
            card=card,
            purpose="checkout",
            amount=D("30.00"),
            currency="GBP",
            idempotency_key=f"test-{uuid.uuid4()}",
        )


def test_a_payment_that_failed_at_stripe_marks_the_attempt_failed(world, maya):
    card = saved_card(maya)
    charge = pending_charge(world, card)
    intent = {
        "id": "pi_failed",
        "object": "payment_intent",
        "customer": maya.stripe_customer.stripe_customer_id,
        "metadata": {"glamiti_charge": str(charge.pk)},
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"},
    }
    deliver(event("payment_intent.payment_failed", intent))
    with tenant_context(world.business):
        charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED
    assert charge.failure_message.startswith("The card was declined: there isn't enough money")


def test_a_payment_that_succeeded_at_stripe_marks_the_attempt_paid(world, maya):
    card = saved_card(maya)
    charge = pending_charge(world, card)
    intent = {
        "id": "pi_paid",
        "object": "payment_intent",
        "customer": maya.stripe_customer.stripe_customer_id,
        "metadata": {"glamiti_charge": str(charge.pk)},
    }
    deliver(event("payment_intent.succeeded", intent))
    with tenant_context(world.business):
        charge.refresh_from_db()
    assert (charge.status, charge.stripe_payment_intent_id) == (ChargeStatus.SUCCEEDED, "pi_paid")
    # A late failure event for the same payment changes nothing.
    deliver(event("payment_intent.payment_failed", intent))
    with tenant_context(world.business):
        charge.refresh_from_db()
    assert charge.status == ChargeStatus.SUCCEEDED


def test_a_refund_made_at_stripe_is_recorded(world, maya, localstripe):
    card = saved_card(maya)
    with tenant_context(world.business):
        sale = checkout(
            business=world.business,
            idempotency_key=uuid.uuid4(),
            client=maya,
            appointment=None,
            items=[ItemLine(kind="voucher", unit_price=D("40"))],
            payments=[PaymentLine(method="saved_card", amount=D("40"), card=card)],
            tips=[],
            by=None,
        )
        charge = CardCharge.objects.get(sale=sale)
    intent_id = charge.stripe_payment_intent_id
    localstripe.call("POST", "/v1/refunds", {"payment_intent": intent_id, "amount": 1500})
    refunded = localstripe.call("GET", f"/v1/payment_intents/{intent_id}")["latest_charge"]
    assert deliver(event("charge.refunded", refunded)).status_code == 200
    with tenant_context(world.business):
        charge.refresh_from_db()
    assert (charge.amount_refunded, charge.status) == (D("15.00"), ChargeStatus.SUCCEEDED)


def test_events_for_another_business_are_applied_to_that_business(world, maya):
    with all_tenants():
        theirs = ClientFactory(business=world.other_business)
    card = saved_card(theirs)
    intent = {"id": "pi_x", "object": "payment_method", "customer": "cus_none"}
    deliver(event("payment_method.updated", intent))  # unknown: ignored
    pm = {
        "id": card.stripe_payment_method_id,
        "object": "payment_method",
        "type": "card",
        "customer": theirs.stripe_customer.stripe_customer_id,
        "card": {"brand": "visa", "last4": "4242", "exp_month": 1, "exp_year": 2036},
    }
    deliver(event("payment_method.updated", pm))
    assert card_rows(theirs)[0].exp_year == 2036
    assert events()[-1].business_id == world.other_business.pk


# --- Real deliveries from localstripe to the live server -------------------------------------


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    return None


def test_localstripe_delivers_signed_events_that_are_processed_once(
    world, stripe_webhooks, localstripe
):
    with all_tenants():
        maya = ClientFactory(business=world.business, first_name="Maya")
    good, bad = saved_card(maya), saved_card(maya, DECLINED_ON_CHARGE)
    with tenant_context(world.business):
        paid = checkout(
            business=world.business,
            idempotency_key=uuid.uuid4(),
            client=maya,
            appointment=None,
            items=[ItemLine(kind="voucher", unit_price=D("20"))],
            payments=[PaymentLine(method="saved_card", amount=D("20"), card=good)],
            tips=[],
            by=None,
        )
        intent_id = CardCharge.objects.get(sale=paid).stripe_payment_intent_id
        with pytest.raises(Exception, match="declined"):
            checkout(
                business=world.business,
                idempotency_key=uuid.uuid4(),
                client=maya,
                appointment=None,
                items=[ItemLine(kind="voucher", unit_price=D("20"))],
                payments=[PaymentLine(method="saved_card", amount=D("20"), card=bad)],
                tips=[],
                by=None,
            )

    def event_about(kind: str, intent: str | None) -> dict:
        listing = localstripe.call("GET", f"/v1/events?type={kind}&limit=100")["data"]
        return next(
            e
            for e in listing
            if e["data"]["object"]["customer"] == maya.stripe_customer.stripe_customer_id
            and (intent is None or e["data"]["object"]["id"] == intent)
        )

    def processed(event_id: str):
        return lambda: StripeEvent.objects.filter(event_id=event_id).first()

    sent_ok = event_about("payment_intent.succeeded", intent_id)
    sent_failed = event_about("payment_intent.payment_failed", None)
    succeeded = wait_for(processed(sent_ok["id"]))
    failed = wait_for(processed(sent_failed["id"]))
    assert succeeded.business_id == failed.business_id == world.business.pk
    assert succeeded.outcome.endswith("already recorded")  # the checkout recorded it first
    assert failed.outcome.startswith("charge")
    # Stripe delivers again (a retry): the stored event id makes it a no-op.
    again = deliver(sent_ok)
    assert again.json()["outcome"] == "duplicate: already processed"
    assert StripeEvent.objects.filter(event_id=sent_ok["id"]).count() == 1
