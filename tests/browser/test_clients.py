import re

import pytest
from playwright.sync_api import expect

from glamiti.models import Role
from tests.factories import PASSWORD, BusinessFactory, ClientFactory, MembershipFactory
from tests.rls import all_tenants


@pytest.fixture
def front_desk(transactional_db, page):
    """A salon with a few clients, and its receptionist logged in."""
    with all_tenants():
        business = BusinessFactory(name="Browser Salon", slug="browser-salon", country="GB")
        ClientFactory.create_batch(5, business=business)
        staff = MembershipFactory(business=business, role=Role.STAFF).user
    page.goto("/accounts/login/")
    page.get_by_label("Username or e-mail").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/browser-salon/clients/$"))
    return business


def test_add_find_edit_and_archive_a_client(page, front_desk, screenshot):
    for width, height in [(1280, 800), (1024, 768)]:
        page.set_viewport_size({"width": width, "height": height})
        screenshot(f"list-{width}")

    page.get_by_role("link", name="New client").click()
    dialog = page.get_by_role("dialog", name="New client")
    expect(dialog).to_be_visible()
    dialog.get_by_label("First name").fill("Imogen")
    dialog.get_by_label("Last name").fill("Hartley")
    dialog.get_by_label("Mobile phone").fill("07823 555 321")
    dialog.get_by_label("Alert").fill("Latex allergy")
    screenshot("dialog")
    dialog.get_by_role("button", name="Add client").click()
    expect(page).to_have_url(re.compile(r"/browser-salon/clients/\d+/$"))
    expect(page.get_by_role("heading", name="Imogen Hartley")).to_be_visible()
    expect(page.get_by_text("Latex allergy").first).to_be_visible()
    expect(page.get_by_text("07823 555321")).to_be_visible()

    page.get_by_role("link", name="Clients").first.click()
    page.get_by_label("Search clients").fill("555 321")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Imogen Hartley")).to_be_visible()
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"\?q=555(\+|%20)321"))
    screenshot("search")
    results.get_by_role("link", name="Imogen Hartley").click()

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("E-mail", exact=True).fill("not-an-email")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Imogen")
    page.set_viewport_size({"width": 1024, "height": 768})
    screenshot("form-1024")
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot("form-1280")
    page.get_by_label("E-mail", exact=True).fill("Imogen.Hartley@Example.com")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("link", name="imogen.hartley@example.com")).to_be_visible()

    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_text(re.compile("archived. Their history is kept"))).to_be_visible()
    page.get_by_role("link", name="Clients").first.click()
    page.get_by_label("Search clients").fill("Imogen")
    expect(page.locator("#results")).to_contain_text("No clients match")
    page.get_by_text("Archived", exact=True).click()
    expect(page.locator("#results").get_by_role("link", name="Imogen Hartley")).to_be_visible()
