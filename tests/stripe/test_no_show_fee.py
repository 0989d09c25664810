"""The no-show fee: a business setting, charged off-session to the client's default card from
the appointment page by a manager or the owner."""

import datetime
from decimal import Decimal as D

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from appointments.models import AppointmentStatus
from glamiti.models import Business
from glamiti.tenancy import tenant_context
from sales.cards import card_set_default
from sales.models import CardCharge, ChargePurpose, ChargeStatus, PaymentMethod, Sale, SaleStatus
from tests.factories_appointments import AppointmentFactory
from tests.factories_stripe import AUTHENTICATION_ALWAYS, DECLINED_ON_CHARGE, saved_card
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


@pytest.fixture
def missed(world):
    """An appointment yesterday that the client missed, in a business with a £25 fee."""
    Business.objects.filter(pk=world.business.pk).update(no_show_fee=D("25.00"))
    world.business.refresh_from_db()
    start = timezone.now() - datetime.timedelta(days=1)
    with all_tenants():
        return AppointmentFactory(
            business=world.business,
            start_at=start,
            end_at=start + datetime.timedelta(hours=1),
            status=AppointmentStatus.NO_SHOW,
            no_show_at=start + datetime.timedelta(minutes=20),
        )


def fee_url(appointment) -> str:
    kwargs = {"business": appointment.business.slug, "appointment_pk": appointment.pk}
    return reverse("sales:no-show-fee", kwargs=kwargs)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def fee_charges(business) -> list[CardCharge]:
    with tenant_context(business):
        return list(CardCharge.objects.order_by("id"))


def test_a_manager_charges_the_fee_to_the_default_card(as_manager, world, missed, localstripe):
    card = saved_card(missed.client)
    response = as_manager.post(fee_url(missed))
    assert response.status_code == 302 and response.url == missed.get_absolute_url()
    assert messages_of(response)[0].startswith("No-show fee of £25.00 charged")
    with tenant_context(world.business):
        sale = Sale.objects.get()
        item = sale.items.get()
        payment = sale.payments.get()
        missed.client.refresh_from_db()
    assert (sale.status, sale.total, sale.appointment) == (SaleStatus.COMPLETED, D("25"), missed)
    assert item.description.startswith("No-show fee")
    assert payment.method == PaymentMethod.SAVED_CARD
    assert missed.client.total_spend == D("25.00")
    (charge,) = fee_charges(world.business)
    assert (charge.purpose, charge.status, charge.card) == (
        ChargePurpose.NO_SHOW_FEE,
        ChargeStatus.SUCCEEDED,
        card,
    )
    (intent,) = localstripe.payment_intents(card.client.stripe_customer.stripe_customer_id)
    assert (intent["status"], intent["amount"]) == ("succeeded", 2500)
    assert intent["metadata"]["glamiti_appointment"] == str(missed.pk)


def test_the_fee_is_charged_once(as_owner, world, missed, localstripe, stripe_recorder):
    saved_card(missed.client)
    as_owner.post(fee_url(missed))
    as_owner.post(fee_url(missed))
    with tenant_context(world.business):
        assert Sale.objects.count() == 1
    assert len(fee_charges(world.business)) == 1
    keys = stripe_recorder.keys("POST", "/v1/payment_intents")
    assert len(keys) == 1 and keys[0].startswith(f"no-show-{missed.pk}-")


def test_a_declined_fee_is_explained_and_nothing_is_recorded(as_manager, world, missed):
    saved_card(missed.client, DECLINED_ON_CHARGE)
    response = as_manager.post(fee_url(missed))
    (message,) = messages_of(response)
    assert "not charged" in message and "The card was declined" in message
    with tenant_context(world.business):
        assert not Sale.objects.exists()
    (charge,) = fee_charges(world.business)
    assert charge.status == ChargeStatus.FAILED
    panel = as_manager.get(fee_url(missed), headers={"HX-Request": "true"})
    assert b"The last attempt" in panel.content


def test_a_bank_asking_for_authentication_means_paying_in_person(
    as_manager, world, missed, localstripe
):
    saved_card(missed.client, localstripe.card(AUTHENTICATION_ALWAYS))
    response = as_manager.post(fee_url(missed))
    (message,) = messages_of(response)
    assert "Ask the client to pay in person" in message
    with tenant_context(world.business):
        assert not Sale.objects.exists()
    (charge,) = fee_charges(world.business)
    assert (charge.status, charge.failure_code) == (
        ChargeStatus.FAILED,
        "authentication_required",
    )
    # The PaymentIntent waiting for the client's confirmation is not left open.
    (intent,) = localstripe.payment_intents(missed.client.stripe_customer.stripe_customer_id)
    assert intent["status"] == "canceled"


def test_the_default_card_is_the_one_charged(as_manager, world, missed, localstripe):
    first = saved_card(missed.client)
    second = saved_card(missed.client)
    with tenant_context(world.business):
        card_set_default(card=second)
    as_manager.post(fee_url(missed))
    (charge,) = fee_charges(world.business)
    assert charge.card == second != first


def test_without_a_card_the_page_says_so(as_manager, world, missed):
    panel = as_manager.get(fee_url(missed), headers={"HX-Request": "true"})
    assert b"has no saved card" in panel.content
    assert b"Charge \xc2\xa325.00" not in panel.content
    response = as_manager.post(fee_url(missed))
    assert "has no saved card" in messages_of(response)[0]


def test_only_a_no_show_can_be_charged(as_manager, world, missed):
    saved_card(missed.client)
    with all_tenants():
        missed.status = AppointmentStatus.COMPLETED
        missed.save()
    response = as_manager.post(fee_url(missed))
    assert "Only an appointment marked as a no-show" in messages_of(response)[0]
    assert fee_charges(world.business) == []


def test_the_appointment_page_offers_the_fee_after_a_no_show(as_manager, world, missed):
    saved_card(missed.client)
    page = as_manager.get(missed.get_absolute_url()).content.decode()
    assert fee_url(missed) in page
    panel = as_manager.get(fee_url(missed), headers={"HX-Request": "true"}).content.decode()
    assert "Charge £25.00 to Visa •••• 4242" in panel
    full = as_manager.get(fee_url(missed))
    assert b"<html" in full.content and "Charge £25.00" in full.content.decode()


def test_no_fee_setting_no_fee_section(as_manager, world, missed):
    Business.objects.filter(pk=world.business.pk).update(no_show_fee=0)
    assert fee_url(missed) not in as_manager.get(missed.get_absolute_url()).content.decode()


def test_staff_see_the_fee_but_cannot_charge_it(as_staff, world, missed):
    saved_card(missed.client)
    panel = as_staff.get(fee_url(missed), headers={"HX-Request": "true"})
    assert panel.status_code == 200 and b"A manager or the owner can charge" in panel.content
    assert as_staff.post(fee_url(missed)).status_code == 403
    assert fee_charges(world.business) == []


def test_outsiders_and_other_businesses_get_404(as_outsider, as_owner, world, missed):
    assert as_outsider.get(fee_url(missed)).status_code == 404
    assert as_outsider.post(fee_url(missed)).status_code == 404
    with all_tenants():
        foreign = AppointmentFactory(business=world.other_business)
    assert as_owner.post(fee_url(foreign)).status_code == 404


def test_the_owner_sets_the_fee_in_the_business_settings(as_owner, world):
    url = reverse("settings:index", kwargs={"business": world.business.slug})
    data = {
        "name": "Bella",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "locale": "en-GB",
        "no_show_fee": "15.50",
    }
    assert as_owner.post(url, data).status_code == 302
    world.business.refresh_from_db()
    assert world.business.no_show_fee == D("15.50")
    assert as_owner.post(url, data | {"no_show_fee": "-1"}).status_code == 200
