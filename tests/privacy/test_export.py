"""GDPR export: an owner downloads everything held about one client as a ZIP."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.storage import FileSystemStorage, default_storage

from tests.factories import ClientFactory
from tests.factories_imports import PDF_BYTES
from tests.privacy.conftest import JPEG_BYTES, url
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def download(http, client) -> zipfile.ZipFile:
    response = http.get(url("data-export", client))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert f"client-{client.pk}-data-" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def section(archive: zipfile.ZipFile, name: str):
    return json.loads(archive.read(name))


def test_owner_downloads_every_kind_of_record(as_owner, rich):
    archive = download(as_owner, rich.client)
    names = set(archive.namelist())
    expected = {
        "README.txt", "manifest.json", "client.json", "notes.json", "appointments.json",
        "sales.json", "tips.json", "feedback.json", "vouchers.json", "cards.json",
        "documents.json", "merges.json", "consent.json", "audit.json",
    }  # fmt: skip
    assert expected <= names

    record = section(archive, "client.json")
    assert (record["first_name"], record["last_name"]) == ("Maya", "Lopez")
    assert record["email"] == "maya.lopez@example.com"
    assert record["mobile_phone"] == "+447700900123"
    assert (record["birth_day"], record["birth_month"], record["birth_year"]) == (14, 3, 1988)
    assert record["alert"] == "Allergic to PPD" and record["tags"] == ["VIP"]
    assert "search_text" not in record and "business" not in record

    notes = {n["text"] for n in section(archive, "notes.json")}
    assert notes == {"Prefers the window seat", "Patch test before colour"}

    appointments = section(archive, "appointments.json")
    assert [a["status"] for a in appointments] == ["completed", "booked"]
    assert appointments[0]["notes"] == "Mentioned her pregnancy"
    assert appointments[0]["team_member_name"] == "Sam Taylor"
    assert appointments[0]["services"][0]["name"] == "Cut & blow-dry"

    sales = section(archive, "sales.json")
    assert len(sales) == 1 and sales[0]["total"] == "60.00" and sales[0]["tip_total"] == "6.00"
    assert [i["total"] for i in sales[0]["items"]] == ["60.00"]
    assert [p["amount"] for p in sales[0]["payments"]] == ["66.00"]

    tips = section(archive, "tips.json")
    assert [(t["amount"], t["team_member_name"]) for t in tips] == [("6.00", "Sam Taylor")]

    assert [f["comment"] for f in section(archive, "feedback.json")] == ["Maya says: loved it"]

    (voucher,) = section(archive, "vouchers.json")
    assert voucher["code"] == "MAYA-50" and voucher["balance"] == "20.00"
    assert voucher["client_is"] == ["purchaser", "recipient"]
    assert [(e["kind"], e["amount"]) for e in voucher["ledger"]] == [
        ("issued", "50.00"),
        ("redeemed", "-30.00"),
    ]

    (consent,) = section(archive, "consent.json")
    assert consent["channel"] == "email" and consent["given"] is True
    assert consent["wording"] == "May we send you offers by e-mail?"
    audit = section(archive, "audit.json")
    created = [e for e in audit if e["record"] == "client" and e["action"] == "create"]
    assert created and created[0]["changes"]["email"][1] == "maya.lopez@example.com"
    assert {e["record"] for e in audit} >= {"client", "clientnote", "clientdocument", "sale"}


def test_the_uploaded_files_are_in_the_zip(as_owner, rich):
    archive = download(as_owner, rich.client)
    (document,) = section(archive, "documents.json")
    assert document["title"] == "Colour consent"
    assert document["original_name"] == "consent form.pdf"
    assert document["file"] == f"files/documents/{rich.document.pk}-consent form.pdf"
    assert archive.read(document["file"]) == PDF_BYTES
    photo = section(archive, "client.json")["photo_file"]
    assert photo == "files/photo.jpg" and archive.read(photo) == JPEG_BYTES
    assert "missing_files.json" not in archive.namelist()


def test_a_document_missing_from_storage_is_listed_not_fatal(as_owner, rich):
    default_storage.delete(rich.document_path)
    archive = download(as_owner, rich.client)
    missing = section(archive, "missing_files.json")
    assert missing == [f"files/documents/{rich.document.pk}-consent form.pdf"]
    assert section(archive, "client.json")["first_name"] == "Maya"


def test_an_unreadable_file_store_gives_a_message_not_a_500(as_owner, rich, monkeypatch):
    def broken(self, name, mode="rb"):
        raise OSError("store down")

    monkeypatch.setattr(FileSystemStorage, "open", broken)
    response = as_owner.get(url("data-export", rich.client))
    assert response.status_code == 302 and response.url == rich.client.get_absolute_url()
    page = as_owner.get(response.url).content.decode()
    assert "The file store could not be reached" in page


def test_a_client_with_nothing_else_exports_empty_sections(as_owner, world):
    with all_tenants():
        client = ClientFactory(business=world.business, first_name="Lone")
    archive = download(as_owner, client)
    assert section(archive, "client.json")["first_name"] == "Lone"
    for name in ("notes", "appointments", "sales", "tips", "feedback", "vouchers", "documents"):
        assert section(archive, f"{name}.json") == []
    assert section(archive, "cards.json")["cards"] == []


def test_another_clients_records_are_not_exported(as_owner, rich, world):
    with all_tenants():
        other = ClientFactory(business=world.business, first_name="Other")
    archive = download(as_owner, other)
    assert section(archive, "notes.json") == [] and section(archive, "documents.json") == []
    assert not [n for n in archive.namelist() if n.startswith("files/")]


@pytest.mark.parametrize("who", ["as_manager", "as_staff"])
def test_only_owners_may_export(request, who, rich):
    http = request.getfixturevalue(who)
    assert http.get(url("data-export", rich.client)).status_code == 403


def test_outsiders_and_other_businesses_get_404(as_outsider, rich, world):
    from tests.conftest import logged_in

    assert as_outsider.get(url("data-export", rich.client)).status_code == 404
    assert logged_in(world.other_owner).get(url("data-export", rich.client)).status_code == 404


def test_another_business_client_id_under_my_business_is_404(as_owner, world):
    with all_tenants():
        theirs = ClientFactory(business=world.other_business)
    mine = url("data-export", theirs).replace(world.other_business.slug, world.business.slug)
    assert as_owner.get(mine).status_code == 404
