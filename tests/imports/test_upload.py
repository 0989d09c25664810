"""Uploading: what is refused (and leaves nothing behind), and what is detected."""

import pytest

from clients.models import ClientImport
from tests.factories_imports import (
    FRESHA_HEADERS,
    JUNK_BYTES,
    PDF_BYTES,
    XLS_BYTES,
    csv_bytes,
    fresha_row,
    xlsx_bytes,
    zip_bomb_xlsx,
)
from tests.imports.conftest import latest_import, upload
from tests.rls import all_tenants

NAMES = [["Zoë", "Núñez", "zoe@example.com"], ["François", "Dupré", "francois@example.com"]]
HEADERS = ["First name", "Last name", "Email"]


def stored_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("clients.csv", b"", "The file is empty."),
        ("clients.csv", b"\xef\xbb\xbf \r\n\r\n", "The file is empty."),
        ("clients.csv", csv_bytes(HEADERS, []), "header row but no clients"),
        ("clients.xlsx", xlsx_bytes(HEADERS, []), "header row but no clients"),
        ("clients.csv", PDF_BYTES, "This is a PDF document"),
        ("clients.xls", XLS_BYTES, "old-style Excel (.xls)"),
        ("clients.csv", XLS_BYTES, "old-style Excel (.xls)"),
        ("clients.csv", JUNK_BYTES, "binary data"),
        ("clients.xlsx", zip_bomb_xlsx(), "zip bomb"),
        ("clients.csv", csv_bytes(["Email", "Phone"], [["a@example.com", "07911 123456"]]),
         "No column in this file can be a client"),
        ("clients.csv", csv_bytes(["Amount", "Visits"], [["12.50", "3"], ["7", "1"]]),
         "No column in this file can be a client"),
    ],
)  # fmt: skip
def test_refused_files_create_nothing(as_owner, world, settings, name, content, message):
    response = upload(as_owner, world, name, content)
    assert response.status_code == 422
    assert message in response.content.decode()
    with all_tenants():
        assert not ClientImport.objects.exists()
    assert stored_files(settings) == []


def test_a_file_over_50_mb_is_refused(as_owner, world, monkeypatch):
    from clients import imports_read

    monkeypatch.setattr(imports_read, "MAX_BYTES", 100)
    response = upload(as_owner, world, "big.csv", csv_bytes(HEADERS, NAMES * 10))
    assert response.status_code == 422
    assert "larger than 50 MB" in response.content.decode()


def test_a_file_over_a_million_rows_is_refused(as_owner, world, monkeypatch):
    from clients import imports_read

    monkeypatch.setattr(imports_read, "MAX_ROWS", 3)
    response = upload(as_owner, world, "big.csv", csv_bytes(HEADERS, NAMES * 3))
    assert response.status_code == 422
    assert "more than 3 rows" in response.content.decode()


def test_the_page_states_the_limits(as_owner, world):
    body = as_owner.get(f"/{world.business.slug}/clients/import/").content.decode()
    assert "50 MB" in body and "1,000,000 rows" in body


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", False, "utf-8"),
        ("utf-8", True, "utf-8-sig"),
        ("utf-16", False, "utf-16"),
        ("cp1252", False, "cp1252"),
        ("latin-1", False, "cp1252"),  # Latin-1 letters read the same in Windows-1252
    ],
)
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_encoding_and_delimiter_are_detected(as_owner, world, encoding, bom, expected, delimiter):
    content = csv_bytes(HEADERS, NAMES, encoding=encoding, delimiter=delimiter, bom=bom)
    assert upload(as_owner, world, "clients.csv", content).status_code == 302
    imp = latest_import(world)
    assert (imp.encoding, imp.delimiter) == (expected, delimiter)
    assert imp.headers == HEADERS
    assert imp.mapping == ["first_name", "last_name", "email"]
    assert imp.options["samples"][0] == ["Zoë", "Núñez", "zoe@example.com"]


def test_latin1_bytes_windows_1252_leaves_undefined_go_to_latin1(as_owner, world):
    content = "Name\nAnn\x81e\n".encode("latin-1")
    assert upload(as_owner, world, "clients.csv", content).status_code == 302
    assert latest_import(world).encoding == "latin-1"


TITLES = ["Client list — Bella", "Exported on 04/12/2026 by Olivia", ""]


def test_header_row_below_title_rows_in_a_csv(as_owner, world):
    rows = [fresha_row(1), fresha_row(2)]
    content = csv_bytes(FRESHA_HEADERS, rows, title_rows=TITLES, delimiter=";")
    assert upload(as_owner, world, "fresha.csv", content).status_code == 302
    imp = latest_import(world)
    assert imp.header_row == 3
    assert imp.headers == FRESHA_HEADERS
    assert imp.vendor == "fresha"


def test_header_row_below_title_rows_in_a_spreadsheet(as_owner, world):
    rows = [fresha_row(1), fresha_row(2)]
    content = xlsx_bytes(FRESHA_HEADERS, rows, title_rows=TITLES[:2])
    assert upload(as_owner, world, "fresha.xlsx", content).status_code == 302
    imp = latest_import(world)
    assert (imp.file_kind, imp.header_row, imp.headers) == ("xlsx", 2, FRESHA_HEADERS)
    assert imp.options["samples"][0][1] == "Anna1"


def test_the_stored_file_has_a_server_generated_name(as_owner, world):
    upload(as_owner, world, "../../etc/passwd.csv", csv_bytes(HEADERS, NAMES))
    imp = latest_import(world)
    assert imp.file_name == "passwd.csv" or imp.file_name.endswith("passwd.csv")
    assert "passwd" not in imp.file.name
    assert imp.file.name.startswith(f"imports/{world.business.pk}/")
