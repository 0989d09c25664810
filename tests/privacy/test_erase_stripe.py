"""Erasure deletes the client's Stripe customer (cards detached first), on localstripe."""

from __future__ import annotations

import pytest

from clients.models import Client
from sales.models import (
    CardCharge,
    ChargePurpose,
    ChargeStatus,
    SavedCard,
    StripeCustomer,
)
from tests.conftest_stripe import localstripe, stripe_settings  # noqa: F401 (fixtures)
from tests.factories import ClientFactory
from tests.factories_stripe import saved_card
from tests.privacy.conftest import url
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


@pytest.fixture
def carded(world, stripe_settings):  # noqa: F811
    with all_tenants():
        client = ClientFactory(business=world.business, first_name="Nia", last_name="Cole")
    first = saved_card(client)
    second = saved_card(client)
    with all_tenants():
        customer = StripeCustomer.objects.get(client=client)
    return client, customer.stripe_customer_id, [first, second]


def test_erasure_deletes_the_stripe_customer_and_detaches_the_cards(as_owner, carded, localstripe):  # noqa: F811
    client, customer_id, cards = carded
    assert localstripe.call("GET", f"/v1/customers/{customer_id}")["id"] == customer_id
    response = as_owner.post(url("erase", client), {"confirm_name": "Nia Cole"})
    assert response.status_code == 302
    gone = localstripe.call("GET", f"/v1/customers/{customer_id}")
    assert "error" in gone and gone.get("id") is None
    for card in cards:
        method = localstripe.call("GET", f"/v1/payment_methods/{card.stripe_payment_method_id}")
        assert method["customer"] is None
    with all_tenants():
        assert not StripeCustomer.objects.filter(client=client).exists()
        assert not SavedCard.objects.filter(client=client).exists()


def test_a_charged_card_stays_for_the_accounts_without_the_cardholder(as_owner, carded):
    client, _, cards = carded
    with all_tenants():
        SavedCard.objects.filter(pk=cards[0].pk).update(cardholder_name="Nia Cole")
        CardCharge.objects.create(
            business=client.business,
            client=client,
            card=cards[0],
            purpose=ChargePurpose.NO_SHOW_FEE,
            amount="15.00",
            currency="GBP",
            idempotency_key="noshow-test-1",
            status=ChargeStatus.SUCCEEDED,
        )
    as_owner.post(url("erase", client), {"confirm_name": "Nia Cole"})
    with all_tenants():
        (kept,) = SavedCard.objects.filter(client=client)
        assert kept.pk == cards[0].pk and kept.cardholder_name == ""
        assert kept.removed_at is not None and not kept.is_default
        assert CardCharge.objects.filter(card=kept).count() == 1


def test_when_stripe_cannot_be_reached_nothing_is_erased(as_owner, carded, settings):
    client, _, _ = carded
    settings.STRIPE_API_BASE = "http://127.0.0.1:8359"  # nothing listens there
    response = as_owner.post(url("erase", client), {"confirm_name": "Nia Cole"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing was erased" in body and "Stripe could not be reached" in body
    with all_tenants():
        client = Client.objects.get(pk=client.pk)
        assert client.erased_at is None and client.first_name == "Nia"
        assert StripeCustomer.objects.filter(client=client).exists()
        assert SavedCard.objects.filter(client=client, removed_at__isnull=True).count() == 2
