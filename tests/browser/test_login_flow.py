import re

from django.core.management import call_command
from playwright.sync_api import expect


def test_demo_owner_logs_in_and_sees_the_navigation(page, screenshot, transactional_db):
    call_command("seed_demo", "--no-history", stdout=open("/dev/null", "w"))  # noqa: SIM115

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username or e-mail").fill("olivia")
    page.get_by_label("Password").fill("glamiti-demo")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/bella/clients/$"))
    nav = page.get_by_role("navigation", name="Sections")
    for section in ["Clients", "Calendar", "Sales", "Vouchers", "Settings"]:
        expect(nav.get_by_role("link", name=section)).to_be_visible()
    expect(nav.get_by_role("link", name="Clients")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\s*3\d\d clients\s*$"))).to_be_visible()
    assert screenshot("clients").exists()

    # The owner of two businesses switches to the other one.
    page.locator(".switcher summary").click()
    page.get_by_role("link", name=re.compile("Northside Barbers")).click()
    expect(page).to_have_url(re.compile(r"/northside/clients/$"))
    expect(page.get_by_text(re.compile(r"^\s*1\d\d clients\s*$"))).to_be_visible()
    screenshot("switched")
