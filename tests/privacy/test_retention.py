"""Retention: "erase clients with no visit for N years", its preview and its command."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from glamiti.models import Business
from sales.models import Sale
from tests.conftest import logged_in
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_profile import make_appointment, make_sale, make_voucher
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

YEAR = datetime.timedelta(days=365)


def preview_url(business) -> str:
    return reverse("clients:retention", kwargs={"business": business.slug})


def set_years(business, years) -> None:
    with all_tenants():
        Business.objects.filter(pk=business.pk).update(retention_years=years)
    business.refresh_from_db()


def client_since(business, years_ago: float, **fields) -> Client:
    client = ClientFactory(business=business, **fields)
    Client.objects.filter(pk=client.pk).update(created_at=timezone.now() - years_ago * YEAR)
    client.refresh_from_db()
    return client


@pytest.fixture
def people(world):
    """With a 3-year rule: who goes, who stays, who is held back."""
    now = timezone.now()
    business = world.business
    set_years(business, 3)
    with all_tenants():
        member = TeamMemberFactory(business=business)
        gone = client_since(business, 6, first_name="Gone", last_name="Longago")
        make_appointment(gone, member, now - 5 * YEAR)
        never = client_since(business, 4, first_name="Never", last_name="Came")
        recent = client_since(business, 6, first_name="Recent", last_name="Visit")
        make_appointment(recent, member, now - YEAR)
        Client.objects.filter(pk=recent.pk).update(last_visit_at=now - YEAR)
        buyer = client_since(business, 6, first_name="Shop", last_name="Only")
        make_sale(buyer, now - YEAR, products="12")
        booked = client_since(business, 6, first_name="Booked", last_name="Ahead")
        make_appointment(booked, member, now + datetime.timedelta(days=10), status="booked")
        new = client_since(business, 1, first_name="New", last_name="Client")
        held = client_since(business, 5, first_name="Held", last_name="Voucher")
        make_voucher(
            business=business,
            code="KEEP-1",
            value="40",
            balance="15",
            recipient=held,
            issued_on=timezone.localdate() - datetime.timedelta(days=30),
            expires_on=timezone.localdate() + datetime.timedelta(days=300),
        )
        spent = client_since(business, 5, first_name="Spent", last_name="Voucher")
        make_voucher(business=business, code="USED-1", value="40", balance="0", purchaser=spent)
        expired = client_since(business, 5, first_name="Expired", last_name="Voucher")
        make_voucher(
            business=business,
            code="OLD-1",
            value="40",
            balance="10",
            purchaser=expired,
            issued_on=timezone.localdate() - 3 * YEAR,
            expires_on=timezone.localdate() - 2 * YEAR,
        )
        theirs = client_since(world.other_business, 9, first_name="Other", last_name="Salon")
    return {
        "gone": gone, "never": never, "recent": recent, "buyer": buyer, "booked": booked,
        "new": new, "held": held, "spent": spent, "expired": expired, "theirs": theirs,
    }  # fmt: skip


def erased(client) -> bool:
    with all_tenants():
        return Client.objects.get(pk=client.pk).erased_at is not None


def test_the_owner_sets_the_rule_in_settings(as_owner, world):
    settings_url = reverse("settings:index", kwargs={"business": world.business.slug})
    page = as_owner.get(settings_url).content.decode()
    assert "Erase clients with no visit for N years" in page
    assert preview_url(world.business) in page
    data = {
        "name": world.business.name, "time_zone": "Europe/London", "currency": "GBP",
        "country": "GB", "locale": "en-GB", "no_show_fee": "0",
    }  # fmt: skip
    assert as_owner.post(settings_url, {**data, "retention_years": "0"}).status_code == 200
    assert as_owner.post(settings_url, {**data, "retention_years": "7"}).status_code == 302
    world.business.refresh_from_db()
    assert world.business.retention_years == 7
    as_owner.post(settings_url, {**data, "retention_years": ""})
    world.business.refresh_from_db()
    assert world.business.retention_years is None


def test_preview_lists_who_would_be_erased_and_who_is_held_back(as_owner, world, people):
    response = as_owner.get(preview_url(world.business))
    assert response.status_code == 200
    plan = response.context["plan"]
    assert {c.first_name for c in plan.erasable} == {"Gone", "Never", "Spent", "Expired"}
    assert [h.client.first_name for h in plan.held_back] == ["Held"]
    assert "KEEP-1" in plan.held_back[0].reason and "15.00 GBP" in plan.held_back[0].reason
    assert (plan.erasable_count, plan.held_back_count) == (4, 1)
    page = response.content.decode()
    assert "Gone Longago" in page and "Held Voucher" in page and "Open voucher balance" in page
    for name in ("Recent Visit", "Shop Only", "Booked Ahead", "New Client", "Other Salon"):
        assert name not in page
    # A preview erases nobody.
    assert not any(erased(c) for c in people.values())


def test_preview_when_the_rule_is_off(as_owner, world):
    page = as_owner.get(preview_url(world.business)).content.decode()
    assert "Retention is off" in page


@pytest.mark.parametrize("who", ["as_manager", "as_staff"])
def test_only_owners_see_the_preview(request, who, world):
    assert request.getfixturevalue(who).get(preview_url(world.business)).status_code == 403


def test_outsiders_get_404(as_outsider, world):
    assert as_outsider.get(preview_url(world.business)).status_code == 404
    assert logged_in(world.other_owner).get(preview_url(world.business)).status_code == 404


def test_dry_run_says_what_it_would_do_and_changes_nothing(world, people):
    out = StringIO()
    call_command("erase_lapsed_clients", "--dry-run", stdout=out)
    text = out.getvalue()
    assert (
        "Bella Test Salon (bella-test, 3 years): 4 client(s) would be erased, 1 held back" in text
    )
    assert "Total: 4 client(s) would be erased, 1 held back, 0 failed." in text
    assert not any(erased(c) for c in people.values())


def test_the_command_erases_lapsed_clients_and_keeps_the_rest(world, people):
    with all_tenants():
        sale_count = Sale.objects.count()
    out = StringIO()
    call_command("erase_lapsed_clients", stdout=out)
    assert "Total: 4 client(s) erased, 1 held back, 0 failed." in out.getvalue()
    assert {name for name, c in people.items() if erased(c)} == {
        "gone", "never", "spent", "expired",
    }  # fmt: skip
    with all_tenants():
        assert Sale.objects.count() == sale_count
        gone = Client.objects.get(pk=people["gone"].pk)
        assert gone.full_name == f"Erased client #{gone.pk}" and gone.email == ""
    # Running it again finds nobody new.
    again = StringIO()
    call_command("erase_lapsed_clients", stdout=again)
    assert "Total: 0 client(s) erased, 1 held back, 0 failed." in again.getvalue()


def test_the_command_leaves_businesses_without_a_rule_alone(world, people):
    set_years(world.business, None)
    out = StringIO()
    call_command("erase_lapsed_clients", stdout=out)
    assert "Total: 0 client(s) erased" in out.getvalue()
    assert not any(erased(c) for c in people.values())


def test_the_command_can_be_limited_to_one_business(world, people):
    set_years(world.other_business, 1)
    out = StringIO()
    call_command("erase_lapsed_clients", "--business", "other-test", stdout=out)
    assert erased(people["theirs"]) and not erased(people["gone"])
    with pytest.raises(CommandError):
        call_command("erase_lapsed_clients", "--business", "nope", stdout=StringIO())
