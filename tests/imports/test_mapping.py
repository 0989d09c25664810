"""Column mapping: each vendor's export is recognised, and the owner can change the mapping."""

import pytest

from clients.imports_fields import detect_vendor, propose_mapping
from tests.factories import ClientFactory
from tests.factories_imports import (
    FRESHA_HEADERS,
    FRESHA_HEADERS_DE,
    FRESHA_HEADERS_ES,
    FRESHA_HEADERS_FR,
    SIMPLE_HEADERS,
    SQUARE_HEADERS,
    VAGARO_HEADERS,
    csv_bytes,
    xlsx_bytes,
)
from tests.imports.conftest import import_url, latest_import, mapping_post, run_import, upload
from tests.rls import all_tenants

FRESHA_MAPPING = [
    "external_id", "first_name", "last_name", "full_name", "is_blocked", "blocked_reason",
    "gender", "mobile_phone", "other_phone", "email", "email_marketing", "sms_marketing",
    "address_line1", "address_line2", "address_line2", "city", "region", "postal_code",
    "birthday", "client_since", "note", "referral_source",
]  # fmt: skip


@pytest.mark.parametrize(
    "headers", [FRESHA_HEADERS, FRESHA_HEADERS_ES, FRESHA_HEADERS_FR, FRESHA_HEADERS_DE],
    ids=["en", "es", "fr", "de"],
)  # fmt: skip
def test_a_fresha_export_in_any_language_is_recognised(headers):
    assert detect_vendor(headers) == "fresha"
    assert propose_mapping(headers, "fresha") == FRESHA_MAPPING


def test_a_square_export_is_recognised():
    assert detect_vendor(SQUARE_HEADERS) == "square"
    mapping = dict(zip(SQUARE_HEADERS, propose_mapping(SQUARE_HEADERS, "square"), strict=True))
    assert mapping["Reference ID"] == "external_id"
    assert mapping["Email Address"] == "email"
    assert mapping["Phone Number"] == "mobile_phone"
    assert mapping["Street Address 1"] == "address_line1"
    assert mapping["Street Address 2"] == "address_line2"
    assert mapping["Birthday"] == "birthday"
    assert mapping["Memo"] == "note"
    assert mapping["Email Subscription Status"] == "email_marketing"
    assert mapping["First Visit"] == "client_since"
    assert mapping["Nickname"] == mapping["Lifetime Spend"] == ""


def test_a_vagaro_customers_list_is_recognised():
    assert detect_vendor(VAGARO_HEADERS) == "vagaro"
    mapping = dict(zip(VAGARO_HEADERS, propose_mapping(VAGARO_HEADERS, "vagaro"), strict=True))
    assert mapping["Mobile"] == "mobile_phone"
    assert mapping["Day"] == mapping["Night"] == "other_phone"
    assert mapping["Zip"] == "postal_code"
    assert mapping["Birthdate"] == "birthday"
    assert mapping["Customer Since"] == "client_since"
    assert mapping["Refered By"] == "referral_source"
    assert mapping["Points"] == ""


def test_a_simple_sheet_is_recognised():
    assert detect_vendor(SIMPLE_HEADERS) == ""
    assert propose_mapping(SIMPLE_HEADERS) == ["full_name", "mobile_phone", "email", "note"]


def test_square_rows_import(as_owner, world):
    row = ["SQ-1", "Ana", "Lopez", "ANA@example.com", "'07911 123456", "", "", "2 Low Rd", "",
           "Leeds", "", "ls1 1aa", "0000-04-03", "Prefers mornings", "subscribed", "Third Party",
           "2019-05-01", "", "3", "£120"]  # fmt: skip
    run_import(as_owner, world, "square.csv", csv_bytes(SQUARE_HEADERS, [row]))
    with all_tenants():
        client = world.business.clients.get()
        assert (client.first_name, client.email, client.mobile_phone) == (
            "Ana",
            "ana@example.com",
            "+447911123456",
        )
        assert (client.birth_day, client.birth_month, client.birth_year) == (3, 4, None)
        assert client.email_marketing and client.email_marketing_source == "import"
        assert client.external_id == "SQ-1" and client.postal_code == "LS1 1AA"
        assert client.notes.get().text == "Prefers mornings"


def test_vagaro_rows_import(as_owner, world):
    row = [
        "Bea", "Khan", "bea@example.com", "", "020 7946 0000", "020 7946 0001", "3 Mill Ln",
        "York", "", "YO1 7HH", "12/25/1985", "F", "01/15/2018", "", "Instagram", "10",
    ]  # fmt: skip
    with all_tenants():
        world.business.locale = "en-US"
        world.business.save()
    run_import(as_owner, world, "vagaro.csv", csv_bytes(VAGARO_HEADERS, [row]))
    with all_tenants():
        client = world.business.clients.get()
        assert client.other_phone == "+442079460000"
        assert (client.birth_day, client.birth_month, client.birth_year) == (25, 12, 1985)
        assert client.created_at.date().isoformat() == "2018-01-15"
        assert client.referral_source.name == "Instagram"


def test_the_owner_changes_the_mapping_and_keeps_other_columns_as_a_note(as_owner, world):
    headers = ["Client", "Contact", "Colour formula", "Favourite stylist"]
    rows = [["Jane Smith", "jane@example.com", "6N + 20 vol", "Marco"]]
    assert upload(as_owner, world, "sheet.csv", csv_bytes(headers, rows)).status_code == 302
    imp = latest_import(world)
    assert imp.mapping == ["full_name", "", "", ""]
    data = mapping_post(imp, keep=True, changes={1: "email", 2: "", 3: ""})
    response = as_owner.post(import_url(world, "import-map", imp), data)
    assert response.status_code == 302
    as_owner.post(import_url(world, "import-confirm", imp))
    with all_tenants():
        client = world.business.clients.get()
        assert (client.first_name, client.last_name, client.email) == (
            "Jane",
            "Smith",
            "jane@example.com",
        )
        assert client.notes.get().text == "Colour formula: 6N + 20 vol\nFavourite stylist: Marco"


def test_the_mapping_needs_a_name_column(as_owner, world):
    upload(as_owner, world, "sheet.csv", csv_bytes(["Name", "Email"], [["Jo", "jo@example.com"]]))
    imp = latest_import(world)
    response = as_owner.post(
        import_url(world, "import-map", imp), mapping_post(imp, changes={0: ""})
    )
    assert response.status_code == 422
    assert "Choose the column that holds the client" in response.content.decode()


def test_one_field_cannot_take_two_columns(as_owner, world):
    rows = [["Jo", "jo@example.com", "j@example.com"]]
    upload(as_owner, world, "sheet.csv", csv_bytes(["Name", "Email", "Mail 2"], rows))
    imp = latest_import(world)
    response = as_owner.post(
        import_url(world, "import-map", imp), mapping_post(imp, changes={2: "email"})
    )
    assert response.status_code == 422
    assert "are both set to E-mail" in response.content.decode()


def test_the_mapping_page_shows_columns_and_examples(as_owner, world):
    content = xlsx_bytes(FRESHA_HEADERS_ES, [["7", "Lucía", "García", "", "No", "", "Mujer",
                                              "+34 612 345 678"] + [""] * 14])  # fmt: skip
    upload(as_owner, world, "clientes.xlsx", content)
    body = as_owner.get(import_url(world, "import-map", latest_import(world))).content.decode()
    assert "Fresha" in body and "Número de móvil" in body and "Lucía" in body


def test_rows_of_a_duplicate_client_are_counted_in_the_preview(as_owner, world):
    with all_tenants():
        ClientFactory(business=world.business, first_name="Jo", email="jo@example.com")
    content = csv_bytes(["Name", "Email"], [["Jo", "jo@example.com"], ["Al", "al@example.com"]])
    imp = run_import(as_owner, world, "sheet.csv", content, confirm=False)
    assert imp.status == "previewed"
    assert (imp.counts["new"], imp.counts["existing"]) == (1, 1)
