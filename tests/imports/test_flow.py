"""The whole import, through the pages: preview, duplicates, result, rejected rows, undo."""

import csv
import io

import pytest

from clients.models import ClientImport, ClientNote, ImportStatus, Tag
from tests.factories import ClientFactory
from tests.factories_appointments import AppointmentFactory
from tests.factories_imports import FRESHA_HEADERS, csv_bytes, fresha_row, xlsx_bytes
from tests.imports.conftest import import_url, latest_import, mapping_post, run_import, upload
from tests.rls import all_tenants


def fresha_file(rows) -> bytes:
    return csv_bytes(FRESHA_HEADERS, rows, delimiter=";", title_rows=["Clients export"])


JANE = {"First Name": "JANE", "Last Name": "o'brien", "Email": "Jane@Example.com"}
NO_NAME = {"First Name": "", "Last Name": "", "Full Name": "", "Email": "x@example.com"}


def messy_rows() -> list[list[str]]:
    return [
        fresha_row(1, **JANE),
        fresha_row(2, **{"First Name": "", "Last Name": "", "Full Name": "Zoë Núñez"}),
        fresha_row(3, **NO_NAME),
        fresha_row(4, **{"Email": "not-an-email", "Date of Birth": "31/02/1990"}),
        fresha_row(5, **{"Mobile Number": fresha_row(1)[7], "Email": ""}),  # repeats row 1's phone
        fresha_row(6, **{"First Name": "=HYPERLINK(\"http://evil\")", "Accepts Marketing": "Sì"}),
        fresha_row(7, **{"Date of Birth": "---", "Added": "Never", "Telephone": "12"}),
    ]  # fmt: skip


def test_preview_counts_and_problems_then_nothing_is_written(as_owner, world):
    imp = run_import(as_owner, world, "fresha.csv", fresha_file(messy_rows()), confirm=False)
    assert imp.status == ImportStatus.PREVIEWED
    expected = {"rows": 7, "new": 5, "existing": 0, "in_file": 1, "rejected": 1}
    assert {key: imp.counts[key] for key in expected} == expected
    with all_tenants():
        assert not world.business.clients.exists()
        problems = {(p.row, p.level, p.column) for p in imp.problems.all()}
    # Row numbers as in the spreadsheet: a title row, the header, then row 3 onwards.
    assert (5, "error", "") in problems
    assert (6, "warning", "Email") in problems and (6, "warning", "Date of Birth") in problems
    assert (7, "duplicate", "") in problems
    assert (9, "warning", "Telephone") in problems
    # Placeholders ("---", "Never") are empty cells, not problems.
    assert not {(9, "warning", "Date of Birth"), (9, "warning", "Added")} & problems
    body = as_owner.get(import_url(world, "import-preview", imp)).content.decode()
    assert '5</span><span class="import-stat-label">new clients' in body
    assert "No name: a client needs a first or last name." in body
    assert "Same phone as row 3." in body
    assert "Jane" in body and "O&#x27;Brien" in body  # the first rows as they will be saved
    assert "Import 5 clients" in body


def test_import_writes_normalised_clients_tagged_with_the_import(as_owner, world):
    imp = run_import(as_owner, world, "fresha.csv", fresha_file(messy_rows()))
    assert imp.status == ImportStatus.DONE, imp.error
    assert imp.counts["created"] == 5 and imp.counts["skipped"] == 1 and imp.counts["rejected"] == 1
    with all_tenants():
        clients = {c.first_name: c for c in world.business.clients.all()}
        jane = clients["Jane"]
        assert (jane.last_name, jane.email, jane.mobile_phone) == (
            "O'Brien",
            "jane@example.com",
            "+447911100001",
        )
        assert (jane.birth_day, jane.birth_month, jane.birth_year) == (25, 12, 1990)
        assert jane.search_text == "jane o'brien jane@example.com"
        assert jane.phone_digits == "447911100001"
        assert jane.email_marketing and jane.email_marketing_source == "import"
        assert not jane.sms_marketing and jane.sms_marketing_source == ""
        assert jane.created_at.date().isoformat() == "2020-01-02"
        assert jane.city == "London" and jane.postal_code == "N1 9GU"
        assert clients["Zoë"].last_name == "Núñez"
        assert clients["Anna4"].email == "" and clients["Anna4"].birth_month is None
        evil = clients['=HYPERLINK("http://evil")']  # stored as text, nothing more
        assert evil.email_marketing
        assert {t.name for t in jane.tags.all()} == {imp.tag.name}
        assert imp.tag.name.startswith("Import ") and "fresha.csv" in imp.tag.name
    result = as_owner.get(import_url(world, "import-result", imp)).content.decode()
    assert f"?tag={imp.tag_id}" in result
    listing = as_owner.get(f"/{world.business.slug}/clients/?tag={imp.tag_id}").content.decode()
    assert "Zoë Núñez" in listing


def test_the_rejected_rows_file_has_the_original_columns_and_a_reason(as_owner, world):
    imp = run_import(as_owner, world, "fresha.csv", fresha_file(messy_rows()))
    response = as_owner.get(import_url(world, "import-rejected", imp))
    assert response.status_code == 200
    assert 'filename="fresha-rejected.csv"' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [*FRESHA_HEADERS, "Reason"]
    assert len(rows) == 2
    assert rows[1][FRESHA_HEADERS.index("Email")] == "x@example.com"
    assert rows[1][-1] == "No name: a client needs a first or last name."
    # Fixed and uploaded again, the row imports.
    fixed = [r[:-1] for r in rows[1:]]
    fixed[0][FRESHA_HEADERS.index("First Name")] = "Xena"
    again = run_import(as_owner, world, "fixed.csv", csv_bytes(rows[0][:-1], fixed))
    assert again.counts["created"] == 1


def test_no_rejected_rows_no_file(as_owner, world):
    imp = run_import(as_owner, world, "ok.csv", fresha_file([fresha_row(1)]))
    assert not imp.rejected_file
    assert as_owner.get(import_url(world, "import-rejected", imp)).status_code == 404


def existing_jane(world):
    with all_tenants():
        return ClientFactory(
            business=world.business, first_name="Jane", last_name="Old", email="anna1@example.com",
            city="Paris", mobile_phone="",
        )  # fmt: skip


def test_duplicates_skipped(as_owner, world):
    jane = existing_jane(world)
    imp = run_import(as_owner, world, "f.csv", fresha_file([fresha_row(1), fresha_row(2)]))
    assert (imp.counts["created"], imp.counts["updated"], imp.counts["skipped"]) == (1, 0, 1)
    with all_tenants():
        jane.refresh_from_db()
        assert (jane.last_name, jane.city) == ("Old", "Paris")
        assert world.business.clients.count() == 2


def test_duplicates_update_the_existing_client_with_non_empty_values(as_owner, world):
    jane = existing_jane(world)
    rows = [fresha_row(1, **{"Post Code": "", "Note": "Likes tea"}), fresha_row(2)]
    imp = run_import(as_owner, world, "f.csv", fresha_file(rows), mode="update")
    assert (imp.counts["created"], imp.counts["updated"]) == (1, 1)
    with all_tenants():
        jane.refresh_from_db()
        assert (jane.first_name, jane.last_name, jane.city) == ("Anna1", "Smith", "London")
        assert jane.mobile_phone == "+447911100001" and jane.phone_digits == "447911100001"
        assert jane.postal_code == ""  # empty in the file: left as it was
        assert jane.notes.get().text == "Likes tea"
        assert world.business.clients.count() == 2


def test_duplicates_created_anyway(as_owner, world):
    existing_jane(world)
    rows = [fresha_row(1), fresha_row(1), fresha_row(2)]
    imp = run_import(as_owner, world, "f.csv", fresha_file(rows), mode="create")
    assert (imp.counts["created"], imp.counts["skipped"]) == (3, 0)
    with all_tenants():
        assert world.business.clients.filter(email="anna1@example.com").count() == 3


def test_duplicates_inside_the_file_are_found_by_email_or_phone(as_owner, world):
    rows = [
        fresha_row(1),
        fresha_row(2, **{"Email": "ANNA1@example.com"}),  # same e-mail
        fresha_row(3, **{"Mobile Number": "+44 7911 100001", "Email": ""}),  # same phone
        fresha_row(4, **{"Telephone": "07911100001", "Mobile Number": ""}),  # phone, other column
        fresha_row(5),
    ]
    imp = run_import(as_owner, world, "f.csv", fresha_file(rows), confirm=False)
    assert (imp.counts["new"], imp.counts["in_file"]) == (2, 3)


def test_a_second_import_of_the_same_file_with_skip_creates_nothing(as_owner, world):
    content = fresha_file([fresha_row(n) for n in range(1, 30)])
    first = run_import(as_owner, world, "f.csv", content)
    assert first.counts["created"] == 29
    second = run_import(as_owner, world, "f.csv", content)
    assert (second.counts["created"], second.counts["skipped"]) == (0, 29)
    assert second.tag is None
    with all_tenants():
        assert world.business.clients.count() == 29
        assert Tag.objects.filter(business=world.business).count() == 1


def test_undo_removes_created_clients_and_reverts_updates(as_owner, world):
    jane = existing_jane(world)
    rows = [fresha_row(n, **{"Note": "Imported note"}) for n in range(1, 6)]
    imp = run_import(as_owner, world, "f.csv", fresha_file(rows), mode="update")
    assert (imp.counts["created"], imp.counts["updated"]) == (4, 1)
    with all_tenants():
        # Since the import: one new client had an appointment, one got a note by hand,
        # and Jane's city was edited by hand.
        created = list(world.business.clients.exclude(pk=jane.pk).order_by("pk"))
        booked, noted = created[0], created[1]
        AppointmentFactory(business=world.business, client=booked)
        ClientNote.objects.create(business=world.business, client=noted, text="Hand-written")
        jane.refresh_from_db()
        jane.city = "Lyon"
        jane.save()
    response = as_owner.post(import_url(world, "import-undo", imp))
    assert response.status_code == 302
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UNDONE, imp.error
    with all_tenants():
        remaining = set(world.business.clients.values_list("first_name", flat=True))
        jane.refresh_from_db()
        assert (jane.first_name, jane.last_name) == ("Jane", "Old")  # reverted
        assert jane.city == "Lyon"  # edited since: kept
        assert jane.mobile_phone == "" and jane.phone_digits == ""
        assert not jane.notes.exists() and not jane.tags.exists()
        assert {booked.first_name, noted.first_name} <= remaining
        assert len(remaining) == 3
        assert ClientNote.objects.filter(client=noted, text="Hand-written").exists()
    kept = {k["name"]: k["why"] for k in imp.undo_summary["kept"]}
    assert kept == {booked.full_name: "appointments", noted.full_name: "client notes"}
    body = as_owner.get(import_url(world, "import-result", imp)).content.decode()
    assert "This import was undone" in body and noted.first_name in body


def test_undo_of_a_plain_import_leaves_nothing(as_owner, world):
    imp = run_import(as_owner, world, "f.csv", fresha_file([fresha_row(n) for n in range(1, 8)]))
    as_owner.post(import_url(world, "import-undo", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UNDONE
    assert imp.undo_summary["removed"] == 7
    with all_tenants():
        assert not world.business.clients.exists()
        assert not Tag.objects.filter(business=world.business).exists()
        assert not world.business.referralsources.exists()
    # An undone import cannot be undone again.
    as_owner.post(import_url(world, "import-undo", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UNDONE


def test_an_xlsx_import_with_typed_cells(as_owner, world):
    import datetime

    rows = [["Ann Lee", 447911123456, datetime.date(1990, 4, 3), True, "=1+1"]]
    content = xlsx_bytes(["Name", "Mobile", "Date of birth", "Accepts marketing", "Notes"], rows)
    imp = run_import(as_owner, world, "sheet.xlsx", content)
    assert imp.status == ImportStatus.DONE, imp.error
    with all_tenants():
        client = world.business.clients.get()
        assert (client.first_name, client.last_name, client.mobile_phone) == (
            "Ann",
            "Lee",
            "+447911123456",
        )
        assert (client.birth_day, client.birth_month, client.birth_year) == (3, 4, 1990)
        assert client.email_marketing


def test_the_date_order_is_decided_from_the_whole_column(as_owner, world):
    rows = [[f"Client {n}", f"0{n}/04/1990"] for n in range(1, 8)] + [["Last", "04/25/1990"]]
    imp = run_import(as_owner, world, "us.csv", csv_bytes(["Name", "Birthday"], rows))
    assert imp.options["date_orders"] == {"1": "mdy"}
    with all_tenants():
        first = world.business.clients.get(first_name="Client", last_name="1")
        assert (first.birth_month, first.birth_day) == (1, 4)


def test_history_lists_past_imports(as_owner, world, django_assert_max_num_queries):
    run_import(as_owner, world, "one.csv", fresha_file([fresha_row(1)]))
    run_import(as_owner, world, "two.csv", fresha_file([fresha_row(2)]), confirm=False)
    with django_assert_max_num_queries(12):
        body = as_owner.get(import_url(world, "import")).content.decode()
    assert "one.csv" in body and "two.csv" in body
    assert world.owner.get_full_name() in body or world.owner.username in body


def test_progress_page_polls_and_redirects_when_done(as_owner, world):
    imp = run_import(as_owner, world, "f.csv", fresha_file([fresha_row(1)]))
    url = import_url(world, "import-progress", imp)
    full = as_owner.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'aria-valuenow="100"' in full and "finished=1" in full  # the full bar, briefly
    response = as_owner.get(url + "?finished=1", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].endswith(f"/import/{imp.pk}/result/")
    with all_tenants():
        ClientImport.objects.filter(pk=imp.pk).update(status="running", rows_done=5, rows_total=10)
    page = as_owner.get(import_url(world, "import-progress", imp)).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'aria-valuenow="50"' in page
    bar = as_owner.get(import_url(world, "import-progress", imp), HTTP_HX_REQUEST="true")
    assert bar.status_code == 200 and "50 %" in bar.content.decode()
    assert "<html" not in bar.content.decode()


def test_discarding_an_import_removes_its_file(as_owner, world, settings):
    upload(as_owner, world, "f.csv", fresha_file([fresha_row(1)]))
    imp = latest_import(world)
    path = imp.file.path
    response = as_owner.post(import_url(world, "import-discard", imp))
    assert response.status_code == 302
    with all_tenants():
        assert not ClientImport.objects.exists()
    import os

    assert not os.path.exists(path)


@pytest.mark.parametrize("mode", ["skip", "update", "create"])
def test_preview_counts_follow_the_duplicate_mode(as_owner, world, mode):
    existing_jane(world)
    rows = [fresha_row(1), fresha_row(2), fresha_row(2)]
    upload(as_owner, world, "f.csv", fresha_file(rows))
    imp = latest_import(world)
    as_owner.post(import_url(world, "import-map", imp), mapping_post(imp, mode=mode))
    body = as_owner.get(import_url(world, "import-preview", imp)).content.decode()
    expected = {
        "skip": "Import 1 client<",
        "update": "Import 2 clients",
        "create": "Import 3 clients",
    }
    assert expected[mode] in body
