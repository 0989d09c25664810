"""Checkout with a saved card: charged at Stripe when the sale is completed; a decline leaves
the sale awaiting payment; a double submit charges once; voiding refunds."""

import threading
import uuid
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from glamiti.tenancy import tenant_context
from sales.models import CardCharge, ChargeStatus, PaymentMethod, Sale, SaleStatus
from tests.conftest import logged_in
from tests.factories import ClientFactory
from tests.factories_sales import ProductFactory
from tests.factories_stripe import DECLINED_ON_CHARGE, saved_card
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def checkout_url(business) -> str:
    return reverse("sales:checkout", kwargs={"business": business.slug})


def form_data(*, client, payments, key=None, product):
    data = {
        "idempotency_key": str(key or uuid.uuid4()),
        "client": str(client.pk) if client else "",
        "appointment": "",
        "tip": "",
        "note": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-item": f"product:{product.pk}",
        "items-0-quantity": "1",
        "tips-TOTAL_FORMS": "0",
        "tips-INITIAL_FORMS": "0",
        "payments-TOTAL_FORMS": str(len(payments)),
        "payments-INITIAL_FORMS": "0",
    }
    for index, row in enumerate(payments):
        for name, value in row.items():
            data[f"payments-{index}-{name}"] = value
    return data


def by_card(card, amount="9.50"):
    return {"method": "saved_card", "amount": amount, "card": str(card.pk)}


@pytest.fixture
def desk(world):
    with all_tenants():
        return {
            "product": ProductFactory(business=world.business, name="Wax", price=D("9.50")),
            "client": ClientFactory(business=world.business, first_name="Maya"),
            "other": ClientFactory(business=world.business, first_name="Noor"),
        }


def only_sale(business) -> Sale:
    with tenant_context(business):
        return Sale.objects.get()


def charges(business) -> list[CardCharge]:
    with tenant_context(business):
        return list(CardCharge.objects.order_by("id"))


def customer_of(card) -> str:
    with all_tenants():
        return card.client.stripe_customer.stripe_customer_id


def test_staff_pays_a_sale_with_a_saved_card(as_staff, world, desk, localstripe):
    card = saved_card(desk["client"])
    data = form_data(client=desk["client"], payments=[by_card(card)], product=desk["product"])
    response = as_staff.post(checkout_url(world.business), data)
    sale = only_sale(world.business)
    assert response.status_code == 302 and response.url == sale.get_absolute_url()
    assert sale.status == SaleStatus.COMPLETED
    with tenant_context(world.business):
        payment = sale.payments.get()
        charge = CardCharge.objects.get()
    assert (payment.method, payment.amount) == (PaymentMethod.SAVED_CARD, D("9.50"))
    assert charge.status == ChargeStatus.SUCCEEDED and charge.payment == payment
    (intent,) = localstripe.payment_intents(customer_of(card))
    assert intent["id"] == charge.stripe_payment_intent_id
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 950, "gbp")
    assert intent["metadata"]["glamiti_sale"] == str(sale.pk)


def test_the_charge_sends_an_idempotency_key_made_from_the_sale(
    as_staff, world, desk, stripe_recorder
):
    card = saved_card(desk["client"])
    key = uuid.uuid4()
    data = form_data(
        client=desk["client"], payments=[by_card(card)], key=key, product=desk["product"]
    )
    assert as_staff.post(checkout_url(world.business), data).status_code == 302
    assert stripe_recorder.keys("POST", "/v1/payment_intents") == [f"sale-{key}-1"]


def test_a_decline_leaves_the_sale_unpaid_and_another_payment_completes_it(
    as_staff, world, desk, localstripe
):
    card = saved_card(desk["client"], DECLINED_ON_CHARGE)
    key = uuid.uuid4()
    declined = form_data(
        client=desk["client"], payments=[by_card(card)], key=key, product=desk["product"]
    )
    response = as_staff.post(checkout_url(world.business), declined)
    page = response.content.decode()
    assert response.status_code == 200
    assert "The card was declined" in page and "Ask the client for another card" in page
    assert "awaiting payment" in page
    sale = only_sale(world.business)
    assert sale.status == SaleStatus.OPEN and sale.total == D("9.50")
    with tenant_context(world.business):
        assert not sale.payments.exists()
        assert sale.items.count() == 1  # what the open sale is for
    (charge,) = charges(world.business)
    assert charge.status == ChargeStatus.FAILED and "declined" in charge.failure_message
    # The same form, now paid in cash, completes the same sale.
    cash = form_data(
        client=desk["client"],
        payments=[{"method": "cash", "amount": "9.50"}],
        key=key,
        product=desk["product"],
    )
    response = as_staff.post(checkout_url(world.business), cash)
    assert response.status_code == 302
    sale = only_sale(world.business)
    assert sale.status == SaleStatus.COMPLETED
    with tenant_context(world.business):
        assert [p.method for p in sale.payments.all()] == [PaymentMethod.CASH]
        assert sale.items.count() == 1
        desk["client"].refresh_from_db()
    assert desk["client"].total_spend == D("9.50")
    assert len(localstripe.payment_intents(customer_of(card))) == 1


def test_a_double_submit_charges_the_card_once(as_staff, world, desk, localstripe):
    card = saved_card(desk["client"])
    data = form_data(client=desk["client"], payments=[by_card(card)], product=desk["product"])
    first = as_staff.post(checkout_url(world.business), data)
    second = as_staff.post(checkout_url(world.business), data)
    assert first.status_code == second.status_code == 302
    assert first.url == second.url
    assert len(charges(world.business)) == 1
    assert len(localstripe.payment_intents(customer_of(card))) == 1


def test_a_double_submit_after_a_decline_does_not_try_the_card_again(
    as_staff, world, desk, localstripe
):
    card = saved_card(desk["client"], DECLINED_ON_CHARGE)
    data = form_data(client=desk["client"], payments=[by_card(card)], product=desk["product"])
    assert as_staff.post(checkout_url(world.business), data).status_code == 200
    again = as_staff.post(checkout_url(world.business), data)
    assert again.status_code == 200 and b"declined" in again.content
    # A retry is a new attempt with a new key (a decline is not remembered as a payment).
    assert len(charges(world.business)) == 2
    assert only_sale(world.business).status == SaleStatus.OPEN


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
def test_two_submits_at_the_same_time_charge_once(world, desk, localstripe):
    card = saved_card(desk["client"])
    data = form_data(client=desk["client"], payments=[by_card(card)], product=desk["product"])
    clients = [logged_in(world.staff), logged_in(world.staff)]
    start = threading.Barrier(2)
    results = []

    def submit(http: HttpClient) -> None:
        start.wait()
        try:
            results.append(http.post(checkout_url(world.business), data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(http,)) for http in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [302, 302]
    assert only_sale(world.business).status == SaleStatus.COMPLETED
    assert len(charges(world.business)) == 1
    assert len(localstripe.payment_intents(customer_of(card))) == 1


def test_only_the_chosen_clients_cards_can_be_charged(as_staff, world, desk, localstripe):
    card = saved_card(desk["other"])
    data = form_data(client=desk["client"], payments=[by_card(card)], product=desk["product"])
    response = as_staff.post(checkout_url(world.business), data)
    assert response.status_code == 200
    assert b"has no saved card" in response.content
    with tenant_context(world.business):
        assert not Sale.objects.exists()
    assert localstripe.payment_intents(customer_of(card)) == []


def test_a_card_of_another_business_cannot_be_charged(as_staff, world, desk, localstripe):
    with all_tenants():
        foreign_client = ClientFactory(business=world.other_business)
    card = saved_card(foreign_client)
    data = form_data(client=desk["client"], payments=[by_card(card)], product=desk["product"])
    assert as_staff.post(checkout_url(world.business), data).status_code == 200
    assert localstripe.payment_intents(customer_of(card)) == []


def test_a_walk_in_cannot_pay_by_saved_card(as_staff, world, desk):
    card = saved_card(desk["client"])
    data = form_data(client=None, payments=[by_card(card)], product=desk["product"])
    response = as_staff.post(checkout_url(world.business), data)
    assert response.status_code == 200
    assert b"Choose the client whose saved card" in response.content


def test_the_card_menu_lists_the_chosen_clients_cards(as_staff, world, desk):
    card = saved_card(desk["client"])
    url = checkout_url(world.business)
    response = as_staff.get(
        url, {"card_options": "1", "client": desk["client"].pk}, headers={"HX-Request": "true"}
    )
    assert f'value="{card.pk}"' in response.content.decode()
    assert "Visa •••• 4242" in response.content.decode()
    none = as_staff.get(url, {"card_options": "1", "client": desk["other"].pk})
    assert b"No saved cards" in none.content


def test_checkout_offers_saved_cards_only_when_stripe_is_set_up(as_staff, world, settings):
    assert b'value="saved_card"' in as_staff.get(checkout_url(world.business)).content
    settings.STRIPE_SECRET_KEY = ""
    assert b'value="saved_card"' not in as_staff.get(checkout_url(world.business)).content


def test_outsiders_get_404_for_the_card_menu(as_outsider, world, desk):
    url = checkout_url(world.business)
    assert as_outsider.get(url, {"card_options": "1"}).status_code == 404


# --- Void ------------------------------------------------------------------------------------


def paid_by_card(http, world, desk) -> Sale:
    card = saved_card(desk["client"])
    data = form_data(client=desk["client"], payments=[by_card(card)], product=desk["product"])
    assert http.post(checkout_url(world.business), data).status_code == 302
    return only_sale(world.business)


def test_voiding_a_sale_paid_by_card_refunds_it(as_manager, world, desk, localstripe):
    sale = paid_by_card(as_manager, world, desk)
    url = reverse("sales:void", kwargs={"business": world.business.slug, "pk": sale.pk})
    response = as_manager.post(url, {"reason": "Charged the wrong client"}, follow=True)
    assert "£9.50 refunded to the card" in response.content.decode()
    (charge,) = charges(world.business)
    assert charge.status == ChargeStatus.REFUNDED and charge.amount_refunded == D("9.50")
    refunds = localstripe.call(
        "GET", f"/v1/refunds?payment_intent={charge.stripe_payment_intent_id}"
    )
    assert [r["amount"] for r in refunds["data"]] == [950]
    assert only_sale(world.business).status == SaleStatus.VOIDED


def test_a_sale_is_not_voided_when_the_refund_fails(as_manager, world, desk, settings):
    sale = paid_by_card(as_manager, world, desk)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # Stripe unreachable
    url = reverse("sales:void", kwargs={"business": world.business.slug, "pk": sale.pk})
    response = as_manager.post(url, {"reason": "Mistake"})
    assert response.status_code == 200
    assert b"couldn&#x27;t be refunded" in response.content
    assert only_sale(world.business).status == SaleStatus.COMPLETED
    assert charges(world.business)[0].status == ChargeStatus.SUCCEEDED


def test_check_out_from_a_profile_starts_with_that_clients_cards(as_staff, world, desk):
    card = saved_card(desk["client"])
    page = as_staff.get(checkout_url(world.business), {"client": desk["client"].pk})
    content = page.content.decode()
    assert f'value="{desk["client"].pk}"' in content and "Maya" in content
    assert f'<option value="{card.pk}">Visa •••• 4242' in content
    with all_tenants():
        foreign = ClientFactory(business=world.other_business, first_name="Zed")
    other = as_staff.get(checkout_url(world.business), {"client": foreign.pk})
    assert b"Zed" not in other.content


def test_a_refusal_of_ours_never_charges_the_card(as_staff, world, desk, localstripe):
    card = saved_card(desk["client"])
    payments = [
        by_card(card, amount="5.00"),
        {"method": "voucher", "amount": "4.50", "voucher_code": "NOPE-NOPE-NOPE"},
    ]
    data = form_data(client=desk["client"], payments=payments, product=desk["product"])
    response = as_staff.post(checkout_url(world.business), data)
    assert response.status_code == 200
    assert localstripe.payment_intents(customer_of(card)) == []
    assert only_sale(world.business).status == SaleStatus.OPEN
