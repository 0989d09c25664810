"""The day at the front desk, end to end: book a new client, complete, check out, feedback."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from glamiti.models import Role
from glamiti.tenancy import tenant_context
from tests.factories import PASSWORD, BusinessFactory, MembershipFactory, TeamMemberFactory
from tests.factories_appointments import ServiceFactory
from tests.factories_sales import ProductFactory
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants


@pytest.fixture
def salon(transactional_db, page):
    with all_tenants():
        business = BusinessFactory(name="Flow Salon", slug="flow-salon", country="GB")
        priya = TeamMemberFactory(business=business, name="Priya Shah")
        sam = TeamMemberFactory(business=business, name="Sam Taylor")
        ServiceFactory(business=business, name="Cut", price=Decimal("50.00"), duration_minutes=60)
        ProductFactory(business=business, name="Shampoo", price=Decimal("18.50"))
        staff = MembershipFactory(business=business, role=Role.STAFF).user
    with tenant_context(business):
        voucher = make_voucher(business, "30.00")
    page.goto("/accounts/login/")
    page.get_by_label("Username or e-mail").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/flow-salon/clients/$"))
    return business, priya, sam, voucher


def test_book_new_client_complete_check_out_and_leave_feedback(page, salon, screenshot, chromium):
    business, priya, sam, voucher = salon
    page.goto("/flow-salon/calendar/new/")
    page.get_by_role("button", name="+ Add a new client").click()
    dialog = page.get_by_role("dialog", name="New client")
    dialog.get_by_label("First name").fill("Nora")
    dialog.get_by_label("Last name").fill("Quinn")
    dialog.get_by_label("Mobile phone").fill("07823 555 322")
    dialog.get_by_role("button", name="Add client").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("[data-picker-name]")).to_have_text("Nora Quinn")

    with tenant_context(business):
        today = timezone.localdate()  # the business's day, not the server's
    page.get_by_label("Team member").select_option(label="Priya Shah")
    page.get_by_label("Date").fill(today.isoformat())
    page.get_by_label("Start time").fill("00:05")
    page.locator("label.service-option", has_text="Cut").click()
    page.get_by_role("button", name="Book appointment").click()
    expect(page).to_have_url(re.compile(r"/flow-salon/calendar/"))
    screenshot("calendar")

    with tenant_context(business):
        appointment = Appointment.objects.get(client__first_name="Nora")
    page.goto(f"/flow-salon/calendar/{appointment.pk}/")
    page.get_by_role("button", name="✓ Complete").click()
    expect(page.get_by_text("Completed").first).to_be_visible()

    page.goto(f"/flow-salon/sales/checkout/?appointment={appointment.pk}")
    page.get_by_role("button", name="Add item").click()
    page.locator("#id_items-1-item").select_option(label="Shampoo · £18.50")
    page.locator("#id_tip").fill("10.00")
    page.locator("#id_tips-0-team_member").select_option(label="Priya Shah")
    page.locator("#id_tips-0-percent").fill("50")
    page.get_by_role("button", name="Add team member").click()
    page.locator("#id_tips-1-team_member").select_option(label="Sam Taylor")
    page.locator("#id_tips-1-percent").fill("50")
    page.locator("#id_payments-0-method").select_option(value="voucher")
    page.locator("#id_payments-0-voucher_code").fill(voucher.code.lower())
    page.locator("#id_payments-0-amount").fill("20.00")
    page.get_by_role("button", name="Split payment").click()
    page.locator("#id_payments-1-method").select_option(value="card_terminal")
    page.locator("#id_payments-1-amount").fill("58.50")
    screenshot("checkout")
    page.get_by_role("button", name="Complete sale").click()
    expect(page).to_have_url(re.compile(r"/flow-salon/sales/\d+/$"))
    expect(page.get_by_text("£68.50").first).to_be_visible()
    screenshot("receipt")
    voucher.refresh_from_db()
    assert voucher.balance == Decimal("10.00")

    link = page.locator("#feedback-url").input_value()
    guest = chromium.new_context()
    client_page = guest.new_page()
    client_page.goto(link)
    client_page.locator("input[type=radio][value='5'] + label").click()
    client_page.get_by_role("button", name="Send feedback").click()
    expect(client_page.get_by_role("heading", name="Thank you!")).to_be_visible()
    guest.close()
    with tenant_context(business):
        assert business.feedback.get().rating == 5
