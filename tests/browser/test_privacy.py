"""GDPR in a real browser: an owner downloads a client's data, then erases the client."""

import datetime
import json
import re
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import Client, ClientDocument
from glamiti.models import Role
from sales.models import Sale
from tests.factories import (
    PASSWORD,
    BusinessFactory,
    ClientFactory,
    MembershipFactory,
    TeamMemberFactory,
)
from tests.factories_profile import make_note, make_sale, make_voucher
from tests.rls import all_tenants

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def owner_on_profile(transactional_db, page):
    with all_tenants():
        business = BusinessFactory(name="Browser Salon", slug="browser-salon", country="GB")
        client = ClientFactory(
            business=business,
            first_name="Imogen",
            last_name="Hartley",
            email="imogen@example.com",
            mobile_phone="+447823555321",
            alert="Latex allergy",
        )
        make_note(client, text="Prefers Saturday mornings", pinned=True)
        document = ClientDocument(
            business=business,
            client=client,
            title="Colour consent",
            original_name="colour-consent.pdf",
            content_type="application/pdf",
            size=len(PDF),
        )
        document.file.save("upload.pdf", ContentFile(PDF), save=True)
        TeamMemberFactory(business=business, name="Sam Taylor")
        make_sale(client, timezone.now() - datetime.timedelta(days=10), services="55")
        owner = MembershipFactory(business=business, role=Role.OWNER).user
    page.goto("/accounts/login/")
    page.get_by_label("Username or e-mail").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/browser-salon/"))
    page.goto(f"/browser-salon/clients/{client.pk}/")
    return client


def test_export_a_clients_data_then_erase_the_client(page, owner_on_profile, screenshot, tmp_path):
    client = owner_on_profile
    expect(page.get_by_role("heading", name="Imogen Hartley")).to_be_visible()
    screenshot("profile")

    with page.expect_download() as info:
        page.get_by_role("link", name="Export data").click()
    download = info.value
    assert re.fullmatch(
        rf"client-{client.pk}-data-\d{{4}}-\d\d-\d\d\.zip", download.suggested_filename
    )
    saved = tmp_path / "export.zip"
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        record = json.loads(archive.read("client.json"))
        assert (record["first_name"], record["last_name"]) == ("Imogen", "Hartley")
        assert record["email"] == "imogen@example.com"
        notes = json.loads(archive.read("notes.json"))
        assert [n["text"] for n in notes] == ["Prefers Saturday mornings"]
        (document,) = json.loads(archive.read("documents.json"))
        assert archive.read(document["file"]) == PDF
        assert len(json.loads(archive.read("sales.json"))) == 1

    page.get_by_role("link", name="Erase…").click()
    expect(
        page.get_by_role("heading", name="Erase Imogen Hartley’s personal data?")
    ).to_be_visible()
    screenshot("confirm")
    field = page.get_by_label(re.compile("To confirm, type the client’s name"))
    field.fill("Imogen")
    page.get_by_role("button", name="Erase permanently").click()
    expect(page.get_by_text("That is not the client’s name as shown above.").first).to_be_visible()
    page.get_by_label(re.compile("To confirm, type the client’s name")).fill("Imogen Hartley")
    page.get_by_role("button", name="Erase permanently").click()

    expect(page).to_have_url(re.compile(rf"/browser-salon/clients/{client.pk}/$"))
    expect(page.get_by_role("heading", name=f"Erased client #{client.pk}")).to_be_visible()
    expect(page.locator(".profile-badges")).to_contain_text("Erased")
    expect(page.get_by_text(re.compile("The client's personal data was erased"))).to_be_visible()
    body = page.locator("main").inner_text()
    for gone in ("Imogen", "Hartley", "Latex allergy", "Prefers Saturday", "imogen@example.com"):
        assert gone not in body, gone
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Erase…")).to_have_count(0)
    screenshot("erased")

    with all_tenants():
        erased = Client.objects.get(pk=client.pk)
        assert erased.erased_at is not None and erased.email == ""
        assert not ClientDocument.objects.filter(client=erased).exists()
        assert Sale.objects.filter(client=erased).count() == 1

    # Gone from the client list too.
    page.goto("/browser-salon/clients/?q=Erased")
    expect(page.locator("#results")).to_contain_text("No clients match")


def test_set_a_retention_rule_and_preview_it(page, owner_on_profile, screenshot):
    with all_tenants():
        business = owner_on_profile.business
        old = ClientFactory(business=business, first_name="Olwen", last_name="Gray")
        kept = ClientFactory(business=business, first_name="Vera", last_name="Holt")
        long_ago = timezone.now() - datetime.timedelta(days=365 * 8)
        Client.objects.filter(pk__in=[old.pk, kept.pk]).update(created_at=long_ago)
        make_voucher(business=business, code="VERA-25", value="25", balance="25", recipient=kept)
    page.goto("/browser-salon/settings/")
    page.get_by_label("Erase clients with no visit for N years").fill("5")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Business settings saved.")).to_be_visible()
    screenshot("settings")
    page.get_by_role("link", name="see who the retention rule would erase now").click()
    expect(page.get_by_role("heading", name="Data retention")).to_be_visible()
    erasable = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("Would be erased"))
    )
    held = page.locator("section", has=page.get_by_role("heading", name=re.compile("Held back")))
    expect(erasable.get_by_role("link", name="Olwen Gray")).to_be_visible()
    expect(held.get_by_role("link", name="Vera Holt")).to_be_visible()
    expect(held).to_contain_text("Open voucher balance: VERA-25")
    expect(page.get_by_text("Imogen Hartley")).to_have_count(0)  # seen ten days ago
    screenshot("retention")
