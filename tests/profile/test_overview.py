"""The overview's counters, against the hand-computed history in conftest.py."""

import datetime
from decimal import Decimal

import pytest

from clients.profile import client_overview
from glamiti.tenancy import tenant_context
from tests.factories import ClientFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def test_counters_match_the_hand_computed_history(world, history):
    with tenant_context(world.business):
        overview = client_overview(history.client)
    assert (overview.completed, overview.no_show, overview.canceled) == (3, 1, 2)
    assert overview.upcoming == 1
    # Paid sales only: 70 + 60 + 100. The voided 999 and the open 30 are left out.
    assert overview.total_sales == Decimal("230.00")
    assert overview.services == Decimal("110.00")
    assert overview.products == Decimal("20.00")
    assert overview.vouchers == Decimal("100.00")  # a voucher bought counts under vouchers
    assert overview.tips == Decimal("15.00")  # not the voided sale's 50
    assert overview.paid_sales == 3
    assert overview.average_spend.quantize(Decimal("0.01")) == Decimal("76.67")
    # 3 completed visits 300 and 100 days ago: 200 days / 2 gaps.
    assert overview.average_days_between_visits == 100
    # The first paid sale (310 days ago) came before the first appointment (300).
    assert overview.first_visit == history.now - datetime.timedelta(days=310)
    # The voucher bought 95 days ago is later than the last appointment (100 days ago).
    assert overview.last_visit == history.now - datetime.timedelta(days=95)
    assert overview.next_appointment == history.now + datetime.timedelta(days=7)
    # Bought by or for the client and still usable: 40 left of SELF + 25 of GIFT.
    assert overview.voucher_balance == Decimal("65.00")
    assert overview.redeemable_vouchers == 2


def test_alerts_combine_the_client_alert_and_allergy_notes(world, history):
    with tenant_context(world.business):
        overview = client_overview(history.client)
    assert overview.alerts == ["Latex allergy", "Nut oils"]
    assert [n.text for n in overview.pinned_notes] == ["Likes oat milk"]


def test_a_new_client_has_empty_counters(world):
    with all_tenants():
        client = ClientFactory(business=world.business)
    with tenant_context(world.business):
        overview = client_overview(client)
    assert (overview.completed, overview.no_show, overview.canceled, overview.paid_sales) == (
        0,
        0,
        0,
        0,
    )
    assert overview.total_sales == overview.tips == overview.voucher_balance == Decimal("0")
    assert overview.average_spend is None
    assert overview.average_days_between_visits is None
    assert overview.first_visit is None and overview.next_appointment is None


def test_overview_is_four_queries_whatever_the_history(world, history, django_assert_num_queries):
    with tenant_context(world.business), django_assert_num_queries(4):
        client_overview(history.client)


def test_profile_page_shows_the_counters(as_staff, world, history):
    response = as_staff.get(history.url(world))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        "Ava Moss",
        "£230.00",
        "£110.00",
        "£20.00",
        "£100.00",
        "£15.00",
        "£76.67",
        "£65.00",
        "100 days",
        "Latex allergy",
        "Nut oils",
        "Likes oat milk",
    ]:
        assert text in html, text
    assert 'class="badge badge-danger">Blocked' not in html


def test_blocked_client_shows_the_badge_and_no_book_button(as_staff, world, history):
    with all_tenants():
        history.client.is_blocked = True
        history.client.blocked_reason = "Abusive to staff"
        history.client.save()
    html = as_staff.get(history.url(world)).content.decode()
    assert ">Blocked<" in html and "Abusive to staff" in html
    assert ">Book<" not in html


def test_quick_actions_book_check_out_add_note_and_edit(as_staff, world, history):
    html = as_staff.get(history.url(world)).content.decode()
    slug, pk = world.business.slug, history.client.pk
    assert f'href="/{slug}/calendar/new/?client={pk}">Book<' in html
    assert f'href="/{slug}/sales/checkout/?client={pk}">Check out<' in html
    assert f'href="/{slug}/clients/{pk}/notes/#add-note">Add note<' in html
    assert f'href="/{slug}/clients/{pk}/edit/">Edit<' in html


def test_an_archived_client_cannot_be_booked_or_checked_out(as_staff, world, history):
    with all_tenants():
        history.client.archive()
    html = as_staff.get(history.url(world)).content.decode()
    assert ">Book<" not in html and ">Check out<" not in html
    assert ">Restore<" in html


def test_tags_show_on_the_profile(as_staff, world, history):
    from tests.factories import ClientTagFactory, TagFactory

    with all_tenants():
        tag = TagFactory(business=world.business, name="VIP")
        ClientTagFactory(client=history.client, tag=tag)
    assert ">VIP<" in as_staff.get(history.url(world)).content.decode()


def test_a_client_without_tags_merges_or_alert_notes_skips_those_queries(
    as_staff, world, django_assert_max_num_queries
):
    with all_tenants():
        client = ClientFactory(business=world.business)
    url = f"/{world.business.slug}/clients/{client.pk}/"
    as_staff.get(url)
    with django_assert_max_num_queries(11):
        assert as_staff.get(url).status_code == 200
