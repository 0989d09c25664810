"""The profile's Activity log: managers and owners read it; owners revert a field change."""

import pytest
from django.urls import reverse

from audit.context import Event, Source
from audit.models import AuditEntry
from clients.models import Client, ReferralSource
from glamiti.tenancy import tenant_context
from tests.audit.conftest import activity_url, client_form, edit_url, entries, revert_url
from tests.factories import ClientFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def edit(http, world, client, **changes):
    with all_tenants():
        client.refresh_from_db()
    response = http.post(edit_url(world, client), client_form(client, **changes))
    assert response.status_code == 302, response.content.decode()[:500]


def last_change(field):
    return [e for e in entries(Client, action=AuditEntry.Action.UPDATE) if field in e.changes][-1]


# --- Reading -------------------------------------------------------------------------------


def test_the_activity_log_lists_changes_newest_first_with_who_when_where(
    as_owner, as_staff, world, client_row
):
    edit(as_staff, world, client_row, email="ana.silva@example.com")
    edit(as_owner, world, client_row, city="Lisbon")
    tab = {"HX-Request": "true"}  # the tab alone: the page's header shows the current e-mail
    page = as_owner.get(activity_url(world, client_row), headers=tab).content.decode()
    assert "Activity log" in page
    assert page.index("Lisbon") < page.index("ana.silva@example.com")  # newest first
    assert "ana@example.com" in page  # the old value
    assert world.staff.get_full_name() in page and world.owner.get_full_name() in page
    assert "Web" in page and "Client details changed" in page and "Client added" in page


def test_htmx_gets_the_tab_alone(as_manager, world, client_row):
    response = as_manager.get(activity_url(world, client_row), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "Activity log" in body


def test_the_tab_shows_only_for_roles_that_may_open_it(as_staff, as_manager, world, client_row):
    detail = reverse(
        "clients:detail", kwargs={"business": world.business.slug, "pk": client_row.pk}
    )
    assert activity_url(world, client_row) in as_manager.get(detail).content.decode()
    assert activity_url(world, client_row) not in as_staff.get(detail).content.decode()


def test_staff_cannot_read_the_activity_log(as_staff, world, client_row):
    assert as_staff.get(activity_url(world, client_row)).status_code == 403


def test_outsiders_and_other_businesses_get_404(as_outsider, as_owner, world, client_row):
    assert as_outsider.get(activity_url(world, client_row)).status_code == 404
    other = activity_url(world, client_row, business=world.other_business)
    assert as_owner.get(other).status_code == 404
    with all_tenants():
        theirs = ClientFactory(business=world.other_business)
    assert as_owner.get(activity_url(world, theirs)).status_code == 404


def test_the_log_is_paginated(as_owner, world, client_row):
    with tenant_context(world.business):
        client = Client.objects.get(pk=client_row.pk)
        for n in range(30):
            client.pronouns = f"p{n}"
            client.save()
    first = as_owner.get(activity_url(world, client_row)).content.decode()
    second = as_owner.get(activity_url(world, client_row) + "?page=2").content.decode()
    assert "p29" in first and "p0</td>" not in first
    assert "p0" in second and "Page 2" in second


def test_the_page_reads_a_bounded_number_of_rows(
    as_owner, world, client_row, django_assert_max_num_queries
):
    with all_tenants():
        source = ReferralSource.objects.create(business=world.business, name="Instagram")
        friend = ClientFactory(business=world.business)
    with tenant_context(world.business):
        client = Client.objects.get(pk=client_row.pk)
        for n in range(40):
            client.pronouns = f"p{n}"
            client.referral_source = source if n % 2 else None
            client.referred_by = friend if n % 3 else None
            client.save()
    url = activity_url(world, client_row)
    as_owner.get(url)  # warm the content-type cache
    with django_assert_max_num_queries(20):
        page = as_owner.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "Instagram" in page and friend.last_name in page


# --- Reverting -----------------------------------------------------------------------------


def test_an_owner_reverts_a_field_and_the_revert_is_recorded(as_owner, as_staff, world, client_row):
    edit(as_staff, world, client_row, email="wrong@example.com", city="Porto")
    entry = last_change("email")
    response = as_owner.post(revert_url(world, client_row, entry), {"field": "email"})
    assert response.status_code == 302
    with all_tenants():
        client_row.refresh_from_db()
    assert client_row.email == "ana@example.com"
    assert client_row.city == "Porto"  # only the field asked for
    revert = entries(Client)[-1]
    assert revert.event == Event.REVERTED
    assert revert.changes == {"email": ["wrong@example.com", "ana@example.com"]}
    assert revert.actor == world.owner and revert.source == Source.WEB
    page = as_owner.get(activity_url(world, client_row)).content.decode()
    assert "Change reverted" in page


def test_revert_over_htmx_reloads_the_whole_profile(as_owner, as_staff, world, client_row):
    edit(as_staff, world, client_row, last_name="Silvaa")
    response = as_owner.post(
        revert_url(world, client_row, last_change("last_name")),
        {"field": "last_name"},
        headers={"HX-Request": "true"},
    )
    # The header shows the name too: the page comes back whole, with the message.
    assert response.status_code == 200
    assert response["HX-Redirect"] == activity_url(world, client_row)
    page = as_owner.get(response["HX-Redirect"]).content.decode()
    assert "Change reverted." in page
    with all_tenants():
        client_row.refresh_from_db()
    assert client_row.last_name == "Silva"


def test_a_field_changed_again_since_is_not_reverted(as_owner, as_staff, world, client_row):
    edit(as_staff, world, client_row, email="first@example.com")
    stale = last_change("email")
    edit(as_staff, world, client_row, email="second@example.com")
    response = as_owner.post(
        revert_url(world, client_row, stale), {"field": "email"}, headers={"HX-Request": "true"}
    )
    assert "changed again since" in response.content.decode()
    with all_tenants():
        client_row.refresh_from_db()
    assert client_row.email == "second@example.com"
    assert not [e for e in entries(Client) if e.event == Event.REVERTED]


def test_a_value_no_longer_valid_is_not_put_back(as_owner, as_staff, world, client_row):
    with all_tenants():
        source = ReferralSource.objects.create(business=world.business, name="Flyer")
    edit(as_staff, world, client_row, referral_source=source.pk)
    edit(as_staff, world, client_row, referral_source="")
    with all_tenants():
        source.is_active = False
        source.save()
    response = as_owner.post(
        revert_url(world, client_row, last_change("referral_source")),
        {"field": "referral_source"},
        headers={"HX-Request": "true"},
    )
    assert "no longer valid" in response.content.decode()
    with all_tenants():
        client_row.refresh_from_db()
    assert client_row.referral_source_id is None


def test_a_field_that_cannot_be_reverted_is_refused(as_owner, as_staff, world, client_row):
    edit(as_staff, world, client_row, email="new@example.com")
    entry = last_change("email")
    for field in ("search_text", "email_marketing", "", "x" * 300):
        response = as_owner.post(
            revert_url(world, client_row, entry), {"field": field}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert "can&#x27;t be reverted" in response.content.decode()


def test_only_an_owner_may_revert(as_manager, as_staff, world, client_row):
    edit(as_staff, world, client_row, email="new@example.com")
    url = revert_url(world, client_row, last_change("email"))
    assert as_manager.post(url, {"field": "email"}).status_code == 403
    assert as_staff.post(url, {"field": "email"}).status_code == 403
    with all_tenants():
        client_row.refresh_from_db()
    assert client_row.email == "new@example.com"


def test_revert_needs_a_post_with_a_csrf_token(world, client_row, as_staff):
    from django.test import Client as HttpClient

    edit(as_staff, world, client_row, email="new@example.com")
    url = revert_url(world, client_row, last_change("email"))
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(world.owner)
    assert browser.get(url).status_code == 405
    assert browser.post(url, {"field": "email"}).status_code == 403
    with all_tenants():
        client_row.refresh_from_db()
    assert client_row.email == "new@example.com"


def test_reverting_another_clients_entry_is_404(as_owner, as_staff, world, client_row):
    edit(as_staff, world, client_row, email="new@example.com")
    entry = last_change("email")
    with all_tenants():
        other = ClientFactory(business=world.business)
        theirs = ClientFactory(business=world.other_business)
    assert as_owner.post(revert_url(world, other, entry), {"field": "email"}).status_code == 404
    url = revert_url(world, theirs, entry, business=world.other_business)
    assert as_owner.post(url, {"field": "email"}).status_code == 404


def test_revert_links_show_only_for_the_newest_change_of_a_field(
    as_owner, as_manager, as_staff, world, client_row
):
    edit(as_staff, world, client_row, email="first@example.com")
    edit(as_staff, world, client_row, email="second@example.com")
    page = as_owner.get(activity_url(world, client_row)).content.decode()
    newest = revert_url(world, client_row, last_change("email"))
    assert page.count('name="field"') == 1 and newest in page
    assert "/revert/" not in as_manager.get(activity_url(world, client_row)).content.decode()
