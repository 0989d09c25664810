"""The client's Cards tab: add cards through a SetupIntent, make one the default, remove one;
only this business's members reach them."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from glamiti.tenancy import tenant_context
from sales.models import CardSetup, SavedCard, StripeCustomer
from tests.factories import ClientFactory
from tests.factories_stripe import DECLINED_ON_SAVE, saved_card
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


@pytest.fixture
def maya(world):
    with all_tenants():
        return ClientFactory(business=world.business, first_name="Maya", last_name="Lopez")


def url(name: str, client, **kwargs) -> str:
    kwargs = {"business": client.business.slug, "pk": client.pk, **kwargs}
    return reverse(f"profile:{name}", kwargs=kwargs)


def active_cards(client) -> list[SavedCard]:
    with tenant_context(client.business):
        return list(SavedCard.objects.filter(client=client, removed_at__isnull=True).order_by("id"))


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def add_card(http, client, localstripe, payment_method="pm_card_visa"):
    """What the page does: start the setup, confirm it in "the browser", come back."""
    start = http.post(url("card-add", client))
    assert start.status_code == 302
    page = http.get(start.url)
    assert page.status_code == 200
    secret = page.context["client_secret"]
    setup = page.context["setup"]
    # Stripe.js confirms with the publishable key and the client secret.
    localstripe.call(
        "POST",
        f"/v1/setup_intents/{setup.stripe_setup_intent_id}/confirm",
        {"key": "pk_test_glamiti", "client_secret": secret, "payment_method": payment_method},
    )
    return http.post(url("card-setup-complete", client, setup_pk=setup.pk))


def test_staff_add_two_cards_and_the_first_is_the_default(as_staff, maya, localstripe):
    first = add_card(as_staff, maya, localstripe)
    assert first.status_code == 302 and first.url == url("cards", maya)
    assert messages_of(first) == ["Visa •••• 4242 saved for Maya Lopez. It is the default card."]
    add_card(as_staff, maya, localstripe)
    one, two = active_cards(maya)
    assert (one.is_default, two.is_default) == (True, False)
    assert (one.brand, one.last4, one.exp_month, one.exp_year) == ("visa", "4242", 12, 2030)
    # Both are attached to the client's one Stripe customer (localstripe doesn't attach on
    # confirm: we did), whose metadata names our business and client.
    with all_tenants():
        customer = StripeCustomer.objects.get(client=maya)
    on_stripe = localstripe.call("GET", f"/v1/customers/{customer.stripe_customer_id}")
    assert on_stripe["metadata"] == {
        "glamiti_business": str(maya.business_id),
        "glamiti_client": str(maya.pk),
    }
    for card in (one, two):
        pm = localstripe.call("GET", f"/v1/payment_methods/{card.stripe_payment_method_id}")
        assert pm["customer"] == customer.stripe_customer_id
    tab = as_staff.get(url("cards", maya)).content.decode()
    assert tab.count('class="pf-card-number"') == 2 and "Default" in tab


def test_the_setup_intent_is_for_off_session_use(as_staff, maya, localstripe, stripe_recorder):
    response = as_staff.post(url("card-add", maya))
    with tenant_context(maya.business):
        setup = CardSetup.objects.get()
    intent = localstripe.call("GET", f"/v1/setup_intents/{setup.stripe_setup_intent_id}")
    assert intent["usage"] == "off_session"
    assert intent["metadata"]["glamiti_setup"] == str(setup.pk)
    keys = stripe_recorder.keys("POST", "/v1/setup_intents")
    assert len(keys) == 1 and keys[0].startswith(f"setup-{setup.pk}-")
    page = as_staff.get(response.url).content.decode()
    assert "/js.stripe.com/v3/" in page and "pk_test_glamiti" in page


def test_a_card_refused_by_the_bank_is_not_saved(as_staff, maya, localstripe):
    response = add_card(as_staff, maya, localstripe, DECLINED_ON_SAVE)
    assert response.status_code == 302
    assert "wasn't saved" in messages_of(response)[0]
    assert active_cards(maya) == []


def test_the_default_can_be_changed(as_staff, maya):
    saved_card(maya)
    second = saved_card(maya)
    response = as_staff.post(url("card-default", maya, card_pk=second.pk))
    assert response.status_code == 302
    assert messages_of(response) == ["Visa •••• 4242 is now the default card."]
    assert [c.is_default for c in active_cards(maya)] == [False, True]


def test_removing_a_card_detaches_it_and_the_next_becomes_default(as_staff, maya, localstripe):
    first, second = saved_card(maya), saved_card(maya)
    response = as_staff.post(url("card-remove", maya, card_pk=first.pk))
    assert messages_of(response) == ["Visa •••• 4242 removed."]
    (left,) = active_cards(maya)
    assert left == second and left.is_default
    pm = localstripe.call("GET", f"/v1/payment_methods/{first.stripe_payment_method_id}")
    assert pm["customer"] is None
    with tenant_context(maya.business):
        first.refresh_from_db()
    assert first.removed_at is not None  # kept for the charges it made
    assert "•••• 4242" in as_staff.get(url("cards", maya)).content.decode()


def test_a_card_is_kept_when_stripe_cannot_be_reached(as_staff, maya, settings):
    card = saved_card(maya)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    response = as_staff.post(url("card-remove", maya, card_pk=card.pk))
    assert "was not removed" in messages_of(response)[0]
    assert active_cards(maya) == [card]


def test_expired_cards_are_marked(as_staff, maya, localstripe):
    last_year = timezone.localdate().year - 1
    saved_card(maya, localstripe.card("4242424242424242", exp_month=1, exp_year=last_year))
    tab = as_staff.get(url("cards", maya)).content.decode()
    assert "Expired" in tab and f"01/{last_year}" in tab


def test_without_stripe_keys_the_tab_says_cards_are_not_set_up(as_staff, maya, settings):
    settings.STRIPE_SECRET_KEY = ""
    tab = as_staff.get(url("cards", maya)).content.decode()
    assert "aren't set up" in tab and url("card-add", maya) not in tab
    response = as_staff.post(url("card-add", maya))
    assert "not set up" in messages_of(response)[0]


# --- Who may ---------------------------------------------------------------------------------


def test_a_card_of_another_business_client_is_404(as_owner, world, maya):
    with all_tenants():
        theirs = ClientFactory(business=world.other_business)
    card = saved_card(theirs)
    for name in ("card-default", "card-remove"):
        # Through our business with their client, or with our client and their card.
        assert as_owner.post(url(name, theirs, card_pk=card.pk)).status_code == 404
        mixed = reverse(
            f"profile:{name}",
            kwargs={"business": world.business.slug, "pk": maya.pk, "card_pk": card.pk},
        )
        assert as_owner.post(mixed).status_code == 404
    assert active_cards(theirs) == [card]


def test_a_card_of_another_client_of_ours_is_404(as_staff, world, maya):
    with all_tenants():
        other = ClientFactory(business=world.business)
    card = saved_card(other)
    assert as_staff.post(url("card-remove", maya, card_pk=card.pk)).status_code == 404
    assert active_cards(other) == [card]


def test_outsiders_get_404_everywhere(as_outsider, maya):
    card = saved_card(maya)
    assert as_outsider.get(url("cards", maya)).status_code == 404
    assert as_outsider.post(url("card-add", maya)).status_code == 404
    assert as_outsider.post(url("card-default", maya, card_pk=card.pk)).status_code == 404
    assert as_outsider.post(url("card-remove", maya, card_pk=card.pk)).status_code == 404
    assert as_outsider.get(url("card-setup", maya, setup_pk=1)).status_code == 404


def test_a_setup_of_another_client_is_404(as_staff, world, maya, localstripe):
    start = as_staff.post(url("card-add", maya))
    setup_pk = as_staff.get(start.url).context["setup"].pk
    with all_tenants():
        other = ClientFactory(business=world.business)
    assert as_staff.get(url("card-setup", other, setup_pk=setup_pk)).status_code == 404
    done = url("card-setup-complete", other, setup_pk=setup_pk)
    assert as_staff.post(done).status_code == 404


@pytest.mark.parametrize("role", ["staff", "manager", "owner"])
def test_every_role_of_the_business_may_manage_cards(role, as_staff, as_manager, as_owner, maya):
    http = {"staff": as_staff, "manager": as_manager, "owner": as_owner}[role]
    first, second = saved_card(maya), saved_card(maya)
    assert http.post(url("card-default", maya, card_pk=second.pk)).status_code == 302
    assert http.post(url("card-remove", maya, card_pk=first.pk)).status_code == 302
    assert active_cards(maya) == [second]


def test_card_actions_take_post_only(as_staff, maya):
    card = saved_card(maya)
    assert as_staff.get(url("card-add", maya)).status_code == 405
    assert as_staff.get(url("card-remove", maya, card_pk=card.pk)).status_code == 405


def test_an_archived_client_gets_no_new_card(as_staff, maya):
    with all_tenants():
        maya.archived_at = timezone.now() - datetime.timedelta(days=1)
        maya.save()
    response = as_staff.post(url("card-add", maya))
    assert "archived" in messages_of(response)[0]
