"""A spreadsheet is parsed once per import: the check behind the preview saves the cells it
read, the import job reads those (clients/imports_read.py, "A sheet's cells, saved once")."""

from __future__ import annotations

import datetime
import io
import os

from django.core.files.storage import default_storage

from clients import imports
from clients.imports_read import cells_readable, read_cells, write_cells
from clients.models import ImportStatus
from tests.factories_imports import xlsx_bytes
from tests.imports.conftest import import_url, latest_import, run_import
from tests.rls import all_tenants

HEADERS = ["Name", "Mobile", "Date of birth", "Added", "Accepts marketing", "Notes"]
# A spreadsheet's date and time cells have no time zone.
ROWS = [
    ["Ann Lee", 447911123456, datetime.date(1990, 4, 3),
     datetime.datetime(2019, 5, 6, 7, 8),  # noqa: DTZ001
     True, "likes {curly} braces\nand two lines"],
    ["Zoë Ødegård", "'07911 123457", 33000, "06/05/2019", "Ja", "Sì: 50% off, \"VIP\""],
]  # fmt: skip


def imported_clients(world) -> list[tuple]:
    with all_tenants():
        return sorted(
            world.business.clients.values_list(
                "first_name", "last_name", "mobile_phone", "birth_day", "birth_month",
                "birth_year", "created_at", "email_marketing", "notes__text",
            )
        )  # fmt: skip


def test_the_import_job_reads_the_cells_the_check_saved(
    as_owner, world, django_capture_on_commit_callbacks
):
    imp = run_import(as_owner, world, "sheet.xlsx", xlsx_bytes(HEADERS, ROWS), confirm=False)
    assert imp.status == ImportStatus.PREVIEWED, imp.error
    saved = imp.cells_file.name
    assert saved and default_storage.exists(saved)
    # Were the job to parse the sheet again, it would fail on this.
    with default_storage.open(imp.file.name, "wb") as sheet:
        sheet.write(b"PK\x03\x04 no longer a workbook")

    with django_capture_on_commit_callbacks(execute=True):
        as_owner.post(import_url(world, "import-confirm", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DONE, imp.error
    assert imp.counts["created"] == 2
    clients = imported_clients(world)
    assert [c[:6] for c in clients] == [
        ("Ann", "Lee", "+447911123456", 3, 4, 1990),
        ("Zoë", "Ødegård", "+447911123457", 7, 5, 1990),  # 33000: an Excel serial date
    ]
    assert clients[0][8] == "likes {curly} braces\nand two lines"
    assert clients[1][8] == 'Sì: 50% off, "VIP"'
    # A copy of the file's personal data, gone once the import is done.
    assert not imp.cells_file and not default_storage.exists(saved)


def test_without_its_saved_cells_the_job_reads_the_sheet_again(as_owner, world):
    imp = run_import(as_owner, world, "sheet.xlsx", xlsx_bytes(HEADERS, ROWS))
    assert imp.status == ImportStatus.DONE, imp.error
    from_saved_cells = imported_clients(world)
    as_owner.post(import_url(world, "import-undo", imp))

    imp = run_import(as_owner, world, "sheet.xlsx", xlsx_bytes(HEADERS, ROWS), confirm=False)
    default_storage.delete(imp.cells_file.name)
    as_owner.post(import_url(world, "import-confirm", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DONE, imp.error
    assert [c[:6] + c[7:] for c in imported_clients(world)] == [
        c[:6] + c[7:] for c in from_saved_cells
    ]


def test_discarding_a_checked_spreadsheet_removes_its_saved_cells(as_owner, world):
    run_import(as_owner, world, "sheet.xlsx", xlsx_bytes(HEADERS, ROWS), confirm=False)
    imp = latest_import(world)
    saved = imp.cells_file.path
    assert os.path.exists(saved)
    as_owner.post(import_url(world, "import-discard", imp))
    assert not os.path.exists(saved)


def test_a_check_that_fails_after_saving_the_cells_leaves_no_copy(as_owner, world, monkeypatch):
    def broken(*args, **kwargs):
        raise imports.ImportFileError("The sheet is damaged near row 2.")

    monkeypatch.setattr(imports, "_batches", broken)  # fails once the cells are saved
    imp = run_import(as_owner, world, "sheet.xlsx", xlsx_bytes(HEADERS, ROWS), confirm=False)
    assert imp.status == ImportStatus.FAILED and not imp.cells_file
    # Only the upload is left in the import's folder.
    assert default_storage.listdir(imp.file.name.rsplit("/", 1)[0])[1] == [
        imp.file.name.rsplit("/", 1)[1]
    ]


def test_saved_cells_keep_every_type_a_sheet_reader_gives():
    rows = [
        (2, ["text", "", None, 0, -7, 2**53 + 1, 1.5, 1e-300, float("inf"), True, False]),
        (3, [datetime.date(1900, 1, 1),
             datetime.datetime(2024, 2, 29, 23, 59, 59, 999999),  # noqa: DTZ001
             datetime.time(7, 30, 1), datetime.timedelta(days=-1, seconds=5, microseconds=6)]),
        (9, ["{\"d\": \"2020-01-01\"}", "line\u2028separator\r\nand\nbreaks", "ünïcödé 😀"]),
    ]  # fmt: skip
    saved = io.BytesIO()
    write_cells(rows, saved)
    saved.seek(0)
    assert cells_readable(saved)
    saved.seek(0)
    assert list(read_cells(saved)) == rows
    assert not cells_readable(io.BytesIO(b"not gzip at all"))
