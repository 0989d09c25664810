"""The Activity log in a real browser: an owner finds a colleague's edit, reverts it after
confirming, and sees the revert recorded in place."""

import re

from playwright.sync_api import expect

from audit.context import Source, audit_context
from clients.models import Client
from glamiti.models import Role
from glamiti.tenancy import tenant_context
from tests.factories import PASSWORD, BusinessFactory, ClientFactory, MembershipFactory
from tests.rls import all_tenants


def test_an_owner_reverts_a_colleagues_edit_from_the_activity_log(
    transactional_db, page, screenshot
):
    with all_tenants():
        business = BusinessFactory(name="Browser Salon", slug="browser-salon", country="GB")
        owner = MembershipFactory(business=business, role=Role.OWNER).user
        client = ClientFactory(
            business=business, first_name="Imogen", last_name="Hartley", email="imogen@example.com"
        )
        staff = MembershipFactory(business=business, role=Role.STAFF).user
    # A colleague's edit at the front desk, as the web would record it.
    with tenant_context(business), audit_context(Source.WEB, actor=staff):
        client = Client.objects.get(pk=client.pk)
        client.email = "wrong@example.com"
        client.alert = "Latex allergy"
        client.save()
    page.goto("/accounts/login/")
    page.get_by_label("Username or e-mail").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/browser-salon/clients/$"))
    page.goto(f"/browser-salon/clients/{client.pk}/")

    page.locator(".pf-tab-nav").get_by_role("link", name="Activity log").click()
    expect(page).to_have_url(re.compile(rf"/clients/{client.pk}/activity/$"))
    log = page.locator(".audit-log")
    expect(log.locator(".audit-item").first).to_contain_text("Client details changed")
    expect(log).to_contain_text("wrong@example.com")
    expect(log.locator(".audit-item").first).to_contain_text(staff.get_full_name())
    screenshot("activity")

    page.once("dialog", lambda dialog: dialog.accept())
    log.get_by_role("button", name=re.compile("Revert E-mail")).click()
    expect(page.get_by_text("Change reverted.")).to_be_visible()
    expect(log.locator(".audit-item").first).to_contain_text("Change reverted")
    # The whole page came back: the contact card shows the e-mail that was put back.
    expect(page.locator(".profile-contact")).to_contain_text("imogen@example.com")
    expect(page).to_have_url(re.compile(rf"/clients/{client.pk}/activity/$"))
    screenshot("reverted")
    with all_tenants():
        client.refresh_from_db()
    assert client.email == "imogen@example.com" and client.alert == "Latex allergy"
