"""The client profile in a real browser: tabs load in place, change the URL, the back button
returns to the previous tab, and a consent form goes up and comes back down intact."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import AppointmentStatus
from clients.models import NoteKind
from glamiti.models import Role
from sales.models import SaleStatus
from tests.factories import (
    PASSWORD,
    BusinessFactory,
    ClientFactory,
    MembershipFactory,
    TeamMemberFactory,
)
from tests.factories_profile import (
    make_appointment,
    make_card,
    make_feedback,
    make_note,
    make_sale,
    make_voucher,
)
from tests.rls import all_tenants

TABS = ["History", "Appointments", "Sales", "Notes", "Feedback", "Tips", "Cards", "Vouchers"]
HEADINGS = {"History": "Timeline", "Cards": "Saved cards"}
SIZES = [(1280, 800), (1024, 768)]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def demo_client(business):
    """A regular with a year of visits, sales, tips, feedback, notes, vouchers and cards."""
    now = timezone.now()
    client = ClientFactory(
        business=business,
        first_name="Imogen",
        last_name="Hartley",
        mobile_phone="+447823555321",
        pronouns="she/her",
        alert="Latex allergy",
    )
    sam = TeamMemberFactory(business=business, name="Sam Taylor")
    priya = TeamMemberFactory(business=business, name="Priya Shah")
    services = [("Cut & blow-dry",), ("Colour", "Toner"), ("Balayage",)]
    for n in range(14):
        start = now - datetime.timedelta(days=26 * n + 3, hours=2)
        member = (sam, priya)[n % 2]
        status = AppointmentStatus.COMPLETED
        if n in (4, 9):
            status = AppointmentStatus.CANCELED
        elif n == 6:
            status = AppointmentStatus.NO_SHOW
        appointment = make_appointment(
            client, member, start, status=status, services=services[n % 3]
        )
        if status == AppointmentStatus.COMPLETED:
            sale = make_sale(
                client,
                start + datetime.timedelta(hours=1),
                services=str(45 + 10 * (n % 3)),
                products="18.50" if n % 4 == 0 else "0",
                tip=str(5 + n % 3),
                tips=[(member, str(5 + n % 3))],
                appointment=appointment,
            )
            if n % 3 == 0:
                make_feedback(
                    client,
                    rating=5 - n % 2,
                    comment="Lovely as always" if n % 2 == 0 else "",
                    sale=sale,
                    member=member,
                    at=start + datetime.timedelta(hours=3),
                )
    make_appointment(client, priya, now + datetime.timedelta(days=9), status="booked")
    make_sale(client, now - datetime.timedelta(days=40), vouchers="50")
    make_sale(client, now - datetime.timedelta(days=60), services="80", status=SaleStatus.VOIDED)
    make_voucher(
        business=business,
        code="GLOW-2026",
        value="50",
        balance="20",
        purchaser=client,
        recipient=client,
    )
    make_note(client, text="Nut oils", kind=NoteKind.ALLERGY)
    make_note(client, text="Prefers Saturday mornings; oat milk latte.", pinned=True)
    make_note(client, text="Ask about the wedding in June.", kind=NoteKind.INTERNAL)
    make_card(client, last4="4242", default=True)
    return client


@pytest.fixture
def profile(transactional_db, page):
    with all_tenants():
        business = BusinessFactory(name="Browser Salon", slug="browser-salon", country="GB")
        client = demo_client(business)
        staff = MembershipFactory(business=business, role=Role.STAFF).user
    page.goto("/accounts/login/")
    page.get_by_label("Username or e-mail").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/browser-salon/clients/$"))
    page.goto(f"/browser-salon/clients/{client.pk}/")
    return client


def tab_link(page, name):
    return page.get_by_role("navigation", name="Client record").get_by_role("link", name=name)


def test_click_through_every_tab_and_back(page, profile, screenshot, tmp_path):
    expect(page.get_by_role("heading", name="Imogen Hartley")).to_be_visible()
    expect(page.locator(".alert-banner")).to_contain_text("Latex allergy")
    expect(page.locator(".alert-banner")).to_contain_text("Nut oils")
    expect(tab_link(page, "History")).to_have_attribute("aria-current", "page")
    expect(
        page.get_by_role("img", name=re.compile("Spending and visits per month"))
    ).to_be_visible()
    # A marker on the window survives only if tabs load in place (htmx), not as new pages.
    page.evaluate("window.profileMarker = 'still here'")

    base = f"/browser-salon/clients/{profile.pk}/"
    for name in TABS:
        tab_link(page, name).click()
        expect(page).to_have_url(re.compile(re.escape(base + name.lower() + "/") + "$"))
        expect(tab_link(page, name)).to_have_attribute("aria-current", "page")
        heading = page.get_by_role("heading", name=HEADINGS.get(name, name), exact=True)
        expect(heading).to_be_visible()
        expect(page).to_have_title(re.compile(f"^{name} · Imogen Hartley"))
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            screenshot(f"{name.lower()}-{width}")
        page.set_viewport_size({"width": 1280, "height": 800})
    assert page.evaluate("window.profileMarker") == "still here"

    # Back: from Vouchers to Cards, then to Tips; forward again to Cards.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/cards/$"))
    expect(tab_link(page, "Cards")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("•••• 4242")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/tips/$"))
    expect(tab_link(page, "Tips")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Per team member")).to_be_visible()
    page.go_forward()
    expect(page).to_have_url(re.compile(r"/cards/$"))
    expect(tab_link(page, "Cards")).to_have_attribute("aria-current", "page")

    # Filters inside a tab load in place too and can be undone with the back button.
    tab_link(page, "History").click()
    page.get_by_role("navigation", name="Show in the timeline").get_by_role(
        "link", name="Sales"
    ).click()
    expect(page).to_have_url(re.compile(r"/history/\?kind=sale$"))
    expect(page.locator(".pf-timeline-item").first).to_have_class(re.compile("pf-timeline-sale"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/history/$"))
    expect(page.locator(".pf-timeline-appointment").first).to_be_visible()


def test_upload_a_consent_form_and_download_it(page, profile, screenshot, tmp_path):
    tab_link(page, "Notes").click()
    expect(page).to_have_url(re.compile(r"/notes/$"))
    documents = page.get_by_role("region", name="Documents")
    expect(documents.get_by_text("No documents yet.")).to_be_visible()

    consent = tmp_path / "Imogen consent form.pdf"
    consent.write_bytes(PDF)
    documents.get_by_label("Kind").select_option(label="Consent form")
    documents.get_by_label("Title").fill("Colour consent 2026")
    documents.get_by_label("File").set_input_files(consent)
    documents.get_by_role("button", name="Upload").click()

    expect(page.get_by_text("“Colour consent 2026” attached.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/notes/$"))
    link = documents.get_by_role("link", name="Colour consent 2026")
    expect(link).to_be_visible()
    screenshot("uploaded")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "colour-consent-2026.pdf"
    saved = tmp_path / "downloaded.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == PDF

    # A note added in place appears at once, and its allergy joins the alert on reload.
    note_form = page.locator("#add-note")
    note_form.get_by_label("Kind").select_option(label="Allergy")
    note_form.get_by_label("Note").fill("Hair dye PPD")
    note_form.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Allergy note added.")).to_be_visible()
    expect(page.locator(".pf-note-list")).to_contain_text("Hair dye PPD")
    page.reload()
    expect(page.locator(".alert-banner")).to_contain_text("Hair dye PPD")
