"""Each tab: its content, fragment vs whole page, history restore, and who may see it."""

import re

import pytest
from django.urls import reverse

from tests.factories import ClientFactory
from tests.factories_profile import make_card
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

TABS = ["history", "appointments", "sales", "notes", "feedback", "tips", "cards", "vouchers"]
HTMX = {"HTTP_HX_REQUEST": "true"}
RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}


def is_full_page(html: str) -> bool:
    return html.lstrip().startswith("<!doctype html>")


@pytest.mark.parametrize("tab", TABS)
def test_direct_visit_renders_the_whole_page_with_the_tab_current(as_staff, world, history, tab):
    response = as_staff.get(history.url(world, tab))
    html = response.content.decode()
    assert response.status_code == 200
    assert is_full_page(html)
    assert "At a glance" in html  # the overview
    current = re.search(r'<a href="([^"]+)"[^>]*data-tab="(\w+)" aria-current="page"', html)
    assert current and current.group(2) == tab
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("tab", TABS)
def test_htmx_request_gets_the_tab_alone(as_staff, world, history, tab):
    response = as_staff.get(history.url(world, tab), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert not is_full_page(html)
    assert "At a glance" not in html
    assert 'class="pf-tab-nav"' in html and 'class="pf-tab-panel"' in html
    assert "<title>" in html  # htmx updates the document title from it
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("tab", TABS)
def test_history_restore_gets_the_whole_page(as_staff, world, history, tab):
    response = as_staff.get(history.url(world, tab), **RESTORE)
    assert is_full_page(response.content.decode())


def test_default_profile_url_is_the_history_tab(as_staff, world, history):
    html = as_staff.get(history.url(world)).content.decode()
    assert 'data-tab="history" aria-current="page"' in html
    assert "Spending and visits" in html


def tab_links(html: str) -> dict[str, tuple[str, str]]:
    found = re.findall(r'<a href="([^"]+)" hx-get="([^"]+)"[^>]*data-tab="(\w+)"', html)
    return {tab: (href, hx) for href, hx, tab in found}


def test_every_tab_link_has_href_and_hx_get_and_pushes_the_url(as_staff, world, history):
    html = as_staff.get(history.url(world)).content.decode()
    links = tab_links(html)
    assert list(links) == TABS
    for tab, (href, hx_get) in links.items():
        assert href == hx_get == history.url(world, tab)
    assert html.count('hx-push-url="true"') >= len(TABS)


@pytest.mark.parametrize("tab", [*TABS, ""])
def test_outsider_gets_404_on_every_tab(as_outsider, world, history, tab):
    assert as_outsider.get(history.url(world, tab)).status_code == 404
    assert as_outsider.get(history.url(world, tab), **HTMX).status_code == 404


@pytest.mark.parametrize("tab", TABS)
def test_a_client_of_another_business_is_404_on_every_tab(as_owner, world, tab):
    with all_tenants():
        theirs = ClientFactory(business=world.other_business)
    url = reverse(f"profile:{tab}", kwargs={"business": world.business.slug, "pk": theirs.pk})
    assert as_owner.get(url).status_code == 404
    url = reverse(f"profile:{tab}", kwargs={"business": world.other_business.slug, "pk": theirs.pk})
    assert as_owner.get(url).status_code == 404


def test_anonymous_is_sent_to_log_in(client, world, history):
    response = client.get(history.url(world, "sales"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


# --- Appointments ------------------------------------------------------------------------


def test_appointments_tab_lists_upcoming_then_past_with_services_and_team(as_staff, world, history):
    html = as_staff.get(history.url(world, "appointments")).content.decode()
    upcoming, past = html.split(">Upcoming<")[1].split(">Past<")
    assert "Balayage" in upcoming and "Priya Shah" in upcoming
    assert past.count('<tr id="appointment-') == 7
    assert "Colour" in past and "Ill" in past
    for label in ["Completed", "No-show", "Canceled", "Booked"]:
        assert label in past


def test_appointments_tab_filters_by_status(as_staff, world, history):
    context = as_staff.get(history.url(world, "appointments", status="canceled"), **HTMX).context
    assert [a.status for a in context["page"].object_list] == ["canceled", "canceled"]
    assert context["upcoming"] == []
    booked = as_staff.get(history.url(world, "appointments", status="booked"), **HTMX).context
    assert len(booked["upcoming"]) == 1 and len(booked["page"].object_list) == 1
    junk = as_staff.get(history.url(world, "appointments", status="nonsense"), **HTMX).context
    assert junk["status"] == "" and len(junk["page"].object_list) == 7


# --- Sales -------------------------------------------------------------------------------


def test_sales_tab_shows_each_sale_with_breakdown_payments_and_tip(as_staff, world, history):
    response = as_staff.get(history.url(world, "sales"), **HTMX)
    sales = response.context["page"].object_list
    assert len(sales) == 5  # voided and open ones are listed too, marked as such
    html = response.content.decode()
    assert "Voided" in html and "Awaiting payment" in html
    assert "Card (terminal) £75.00" in html  # 70 + 5 tip
    assert "+ £10.00 tip" in html
    assert f'href="/{world.business.slug}/sales/{sales[0].pk}/"' in html  # the receipt


# --- Feedback ----------------------------------------------------------------------------


def test_feedback_tab_shows_ratings_and_the_average(as_staff, world, history):
    response = as_staff.get(history.url(world, "feedback"), **HTMX)
    html = response.content.decode()
    assert response.context["summary"]["count"] == 2
    assert "3.5" in html and "average of 2 ratings" in html
    assert "Lovely" in html and "About Sam Taylor" in html
    assert "5 out of 5" in html and "2 out of 5" in html


# --- Tips --------------------------------------------------------------------------------


def test_tips_tab_totals_per_team_member_leave_out_voided_sales(as_staff, world, history):
    response = as_staff.get(history.url(world, "tips"), **HTMX)
    summary = response.context["summary"]
    assert str(summary.total) == "15.00"
    assert [(m.team_member.name, str(m.total), m.count) for m in summary.by_member] == [
        ("Sam Taylor", "11.00", 2),
        ("Priya Shah", "4.00", 1),
    ]
    html = response.content.decode()
    assert "Sam Taylor (£6.00), Priya Shah (£4.00)" in html
    assert len(response.context["page"].object_list) == 2
    assert "Tips per month, last 12 months" in html


# --- Cards -------------------------------------------------------------------------------


def test_cards_tab_shows_saved_cards_but_not_removed_ones(as_staff, world, history):
    with all_tenants():
        make_card(history.client, last4="4242", default=True)
        make_card(history.client, last4="0005", brand="mastercard", exp=(1, 2020))
        make_card(history.client, last4="9999", removed=True)
    html = as_staff.get(history.url(world, "cards"), **HTMX).content.decode()
    assert "•••• 4242" in html and "Default" in html
    assert "•••• 0005" in html and "Expired" in html and "01/2020" in html
    assert "9999" not in html


def test_cards_tab_empty_state(as_staff, world, history):
    html = as_staff.get(history.url(world, "cards"), **HTMX).content.decode()
    assert "No saved cards" in html


# --- Vouchers ----------------------------------------------------------------------------


def test_vouchers_tab_shows_status_balance_and_ledger(as_staff, world, history):
    response = as_staff.get(history.url(world, "vouchers"), **HTMX)
    statuses = {v.code: v.current_status.label for v in response.context["page"].object_list}
    assert statuses == {
        "SELF-0001": "Partially used",
        "GIFT-0002": "Active",
        "OLD-0003": "Expired",
        "USED-0004": "Fully redeemed",
    }
    html = response.content.decode()
    assert "Bought by this client for themselves" in html
    assert "Bought by this client for" in html and "Zoe Hart" in html
    assert "A gift from" in html
    assert "Redeemed" in html and "−£60.00" in html


# --- Empty client ------------------------------------------------------------------------


@pytest.mark.parametrize("tab", TABS)
def test_every_tab_renders_for_a_client_with_no_history(as_staff, world, tab):
    with all_tenants():
        client = ClientFactory(business=world.business)
    url = reverse(f"profile:{tab}", kwargs={"business": world.business.slug, "pk": client.pk})
    assert as_staff.get(url).status_code == 200
