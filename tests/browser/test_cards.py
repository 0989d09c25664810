"""Saved cards in a real browser: a card typed into the card field served by localstripe's
Stripe.js is saved, appears in the Cards tab, and pays a checkout. Everything, Stripe.js
included, is served from 127.0.0.1."""

import re
from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from glamiti.models import Role
from sales.models import CardCharge, ChargeStatus, SaleStatus, SavedCard
from tests.conftest_stripe import (  # noqa: F401 (fixtures)
    card_numbers_in_database,
    card_numbers_in_logs,
    localstripe,
    stripe_settings,
)
from tests.factories import PASSWORD, BusinessFactory, ClientFactory, MembershipFactory
from tests.factories_sales import ProductFactory
from tests.rls import all_tenants

TEST_CARD = "4242424242424242"  # Stripe's test Visa


@pytest.fixture
def salon(transactional_db, page, stripe_settings):  # noqa: F811 (a fixture)
    with all_tenants():
        business = BusinessFactory(name="Card Salon", slug="card-salon", country="GB")
        client = ClientFactory(business=business, first_name="Imogen", last_name="Hartley")
        ProductFactory(business=business, name="Argan oil", price=D("18.00"))
        staff = MembershipFactory(business=business, role=Role.STAFF).user
    page.goto("/accounts/login/")
    page.get_by_label("Username or e-mail").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/card-salon/clients/$"))
    return client


def add_card_in_stripes_field(page, client, screenshot) -> None:
    page.goto(f"/card-salon/clients/{client.pk}/cards/")
    page.get_by_role("button", name="Add a card").click()
    expect(page.get_by_role("heading", name="Add a card for Imogen Hartley")).to_be_visible()
    field = page.locator("[data-card-element]")
    # localstripe's stand-in for Stripe's card element: plain inputs named by placeholder.
    field.get_by_placeholder("number").fill(TEST_CARD)
    field.get_by_placeholder("exp_month").fill("12")
    field.get_by_placeholder("exp_year").fill("34")
    field.get_by_placeholder("cvc").fill("123")
    field.get_by_placeholder("postal_code").fill("N1 9GU")
    screenshot("card-field")
    page.get_by_role("button", name="Save card").click()


def test_add_a_card_and_pay_a_checkout_with_it(
    page,
    salon,
    localstripe,  # noqa: F811 (a fixture)
    screenshot,
    caplog,
):
    client = salon
    add_card_in_stripes_field(page, client, screenshot)
    expect(page).to_have_url(re.compile(rf"/clients/{client.pk}/cards/$"))
    expect(page.get_by_role("status").or_(page.locator(".alert-success")).first).to_contain_text(
        "Visa •••• 4242 saved"
    )
    saved = page.locator(".pf-saved-card")
    expect(saved).to_have_count(1)
    expect(saved).to_contain_text("4242")
    expect(saved).to_contain_text("Default")
    expect(saved).to_contain_text("Imogen Hartley")
    for width, height in [(1280, 800), (1024, 768)]:
        page.set_viewport_size({"width": width, "height": height})
        screenshot(f"cards-tab-{width}")

    page.goto(f"/card-salon/sales/checkout/?client={client.pk}")
    page.get_by_label("Item", exact=True).first.select_option(label="Argan oil · £18.00")
    page.get_by_label("Payment method", exact=True).first.select_option("saved_card")
    card_menu = page.get_by_label("Saved card", exact=True).first
    expect(card_menu).to_be_visible()
    expect(card_menu).to_contain_text("Visa •••• 4242")
    page.get_by_role("button", name="Pay the rest").first.click()
    screenshot("checkout-saved-card")
    page.get_by_role("button", name=re.compile("^Complete sale")).click()
    expect(page.get_by_role("heading", name=re.compile(r"Sale #\d+"))).to_contain_text("Paid")
    screenshot("receipt")

    with all_tenants():
        card = SavedCard.objects.get(client=client)
        charge = CardCharge.objects.get()
        sale = charge.sale
        customer_id = client.stripe_customer.stripe_customer_id
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 12, 2034)
    assert (charge.status, charge.card, charge.amount) == (ChargeStatus.SUCCEEDED, card, D("18"))
    assert sale.status == SaleStatus.COMPLETED
    (intent,) = localstripe.payment_intents(customer_id)
    assert (intent["status"], intent["amount"]) == ("succeeded", 1800)
    # The number typed in the card field went to Stripe, not to us.
    assert card_numbers_in_database() == []
    assert card_numbers_in_logs(caplog.records) == []
