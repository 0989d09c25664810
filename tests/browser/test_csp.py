"""In Chromium, with the Content-Security-Policy on: the pages work and report no violation,
an injected inline script is refused, and a locked-out login says so on the login page."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from glamiti.models import Role
from tests.factories import PASSWORD, BusinessFactory, ClientFactory, MembershipFactory
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants


@pytest.fixture
def problems(page):
    """Console errors (CSP violations are reported there) and uncaught script errors."""
    seen = []
    page.on(
        "console", lambda message: seen.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


@pytest.fixture
def owner(transactional_db):
    with all_tenants():
        business = BusinessFactory(name="Policy Salon", slug="policy-salon")
        ClientFactory.create_batch(3, business=business)
        make_voucher(business, "50.00", code="ACTIVE-ONE")
        make_voucher(
            business,
            "30.00",
            code="EXPIRED-ONE",
            expires_on=timezone.localdate() - datetime.timedelta(days=3),
        )
        return MembershipFactory(business=business, role=Role.OWNER).user


def log_in(page, username, password):
    page.goto("/accounts/login/")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_pages_work_under_the_policy_without_violations(page, problems, owner):
    log_in(page, owner.username, PASSWORD)
    expect(page).to_have_url(re.compile(r"/policy-salon/clients/$"))
    expect(page.get_by_text("3 clients")).to_be_visible()

    page.get_by_role("link", name="Calendar").first.click()
    expect(page).to_have_url(re.compile(r"/policy-salon/calendar/"))

    # Voucher status chips filter with htmx (a data attribute, not an eval'd trigger filter),
    # and keep working after htmx swapped them out of band.
    page.get_by_role("link", name="Vouchers").first.click()
    results = page.locator("#results")
    expect(results.locator("tbody tr")).to_have_count(2)
    page.locator(".chip", has_text="Expired").click()
    expect(page).to_have_url(re.compile(r"status=expired"))
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results.get_by_text("EXPIRED-ONE")).to_be_visible()
    page.locator(".chip", has_text="Active").click()
    expect(page).to_have_url(re.compile(r"status=active"))
    expect(results.get_by_text("ACTIVE-ONE")).to_be_visible()
    expect(results.locator("tbody tr")).to_have_count(1)

    # htmx's indicator styles come from our stylesheet, not an injected <style>.
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert not problems, problems


def test_an_injected_inline_script_is_refused(page, problems, owner):
    page.goto("/accounts/login/")
    with pytest.raises(Exception):  # noqa: B017, PT011 (Playwright reports the refusal)
        page.add_script_tag(content="window.injected = true;")
    assert page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in text for text in problems), problems


def test_locked_out_login_says_to_try_again_later(page, problems, owner, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        log_in(page, owner.username.upper(), "not-the-password")
        expect(page.get_by_role("alert")).to_contain_text("don't match")
    log_in(page, owner.username, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("try again later")
    log_in(page, owner.username, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("try again later")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    # The 429 status is reported in the console; nothing else is.
    assert all("429" in text for text in problems), problems
