"""Export: CSV and XLSX of the filtered list, formulas neutralised, and a round trip through
our own importer that loses nothing."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, ClientTag, ReferralSource, Tag
from tests.factories import ClientFactory
from tests.imports.conftest import import_url, latest_import, mapping_post, upload
from tests.rls import all_tenants

EVIL = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]
FIELDS = [
    "first_name", "last_name", "email", "mobile_phone", "other_phone", "birth_day",
    "birth_month", "birth_year", "gender", "pronouns", "address_line1", "address_line2",
    "city", "region", "postal_code", "country", "email_marketing", "sms_marketing",
    "is_blocked", "blocked_reason", "alert", "external_id", "created_at", "archived_at",
]  # fmt: skip


def export(http, world, query: str = "") -> bytes:
    response = http.get(reverse("clients:export", kwargs={"business": world.business.slug}) + query)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_csv_export_neutralises_formula_cells(as_owner, world):
    with all_tenants():
        for n, evil in enumerate(EVIL):
            ClientFactory(business=world.business, first_name=evil, last_name=f"E{n}")
    rows = list(csv.reader(io.StringIO(export(as_owner, world).decode("utf-8-sig"))))
    firsts = {row[1] for row in rows[1:]}
    assert firsts == {"'" + evil for evil in EVIL}


def test_xlsx_export_stores_formula_like_cells_as_text(as_owner, world):
    with all_tenants():
        for n, evil in enumerate(EVIL[:4]):
            ClientFactory(business=world.business, first_name=evil, last_name=f"E{n}",
                          mobile_phone="+447911123456")  # fmt: skip
    response = as_owner.get(
        reverse("clients:export", kwargs={"business": world.business.slug}) + "?format=xlsx"
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"].endswith('.xlsx"')
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Glamiti ID", "First name", "Last name", "E-mail"]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert {c.value for c in cells} == set(EVIL[:4])
    assert all(c.data_type == "s" for c in cells)  # text, never "f" (formula)
    phones = [row[4] for row in sheet.iter_rows(min_row=2)]
    assert {(c.value, c.data_type) for c in phones} == {("+44 7911 123456", "s")}


def test_export_follows_the_list_filters(as_owner, world):
    with all_tenants():
        vip = Tag.objects.create(business=world.business, name="VIP")
        tagged = ClientFactory(business=world.business, first_name="Tagged")
        ClientTag.objects.create(business=world.business, client=tagged, tag=vip)
        ClientFactory(business=world.business, first_name="Plain")
        ClientFactory(business=world.other_business, first_name="Foreign")
    body = export(as_owner, world, f"?tag={vip.pk}").decode("utf-8-sig")
    assert "Tagged" in body and "Plain" not in body and "Foreign" not in body
    xlsx = export(as_owner, world, f"?tag={vip.pk}&format=xlsx")
    names = [
        r[1].value for r in openpyxl.load_workbook(io.BytesIO(xlsx)).active.iter_rows(min_row=2)
    ]
    assert names == ["Tagged"]


def full_client(business) -> Client:
    source = ReferralSource.objects.create(business=business, name="Instagram")
    client = ClientFactory(
        business=business, first_name="=Zoë", last_name="Núñez-O'Brien", email="zoe@example.com",
        mobile_phone="+447911123456", other_phone="+33612345678", birth_day=29, birth_month=2,
        birth_year=None, gender="non_binary", pronouns="they/them", address_line1="1 High St",
        address_line2="Flat 2", city="london", region="Greater London", postal_code="n1 9gu",
        country="GB", email_marketing=True, sms_marketing=False, is_blocked=True,
        blocked_reason="No-shows", alert="-Latex allergy", external_id="F-123",
        referral_source=source,
    )  # fmt: skip
    Client.objects.filter(pk=client.pk).update(
        created_at=timezone.now().replace(year=2019, microsecond=123456)
    )
    for name in ["VIP", "Colour"]:
        tag = Tag.objects.create(business=business, name=name)
        ClientTag.objects.create(business=business, client=client, tag=tag)
    client.refresh_from_db()
    return client


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_loses_nothing(as_owner, world, fmt):
    with all_tenants():
        original = full_client(world.business)
        ClientFactory(business=world.business, first_name="Plain", email="plain@example.com")
        before = {c.email: {f: getattr(c, f) for f in FIELDS} for c in world.business.clients.all()}
        extras = (original.referral_source.name, sorted(t.name for t in original.tags.all()))
    content = export(as_owner, world, "?format=xlsx" if fmt == "xlsx" else "")
    with all_tenants():
        for client in world.business.clients.all():
            client.delete()
    assert upload(as_owner, world, f"export.{fmt}", content).status_code == 302
    imp = latest_import(world)
    assert imp.vendor == "glamiti"
    assert all(imp.mapping), imp.mapping  # every column maps back by itself
    as_owner.post(import_url(world, "import-map", imp), mapping_post(imp))
    as_owner.post(import_url(world, "import-confirm", imp))
    imp.refresh_from_db()
    assert imp.counts["created"] == 2, (imp.status, imp.error, imp.counts)
    with all_tenants():
        after = {c.email: {f: getattr(c, f) for f in FIELDS} for c in world.business.clients.all()}
        changed = {
            (email, f, before[email][f], after[email][f])
            for email in before for f in FIELDS if before[email][f] != after[email][f]
        }  # fmt: skip
        assert not changed
        copy = world.business.clients.get(email="zoe@example.com")
        tags = sorted(t.name for t in copy.tags.all() if not t.name.startswith("Import "))
        assert (copy.referral_source.name, tags) == extras


def test_reimporting_an_edited_export_updates_the_same_clients(as_owner, world):
    with all_tenants():
        client = ClientFactory(business=world.business, first_name="Ann", email="ann@example.com")
    text = export(as_owner, world).decode("utf-8-sig").replace("Ann,", "Annie,")
    assert upload(as_owner, world, "edited.csv", text.encode()).status_code == 302
    imp = latest_import(world)
    as_owner.post(import_url(world, "import-map", imp), mapping_post(imp, mode="update"))
    as_owner.post(import_url(world, "import-confirm", imp))
    with all_tenants():
        client.refresh_from_db()
        assert client.first_name == "Annie"
        assert world.business.clients.count() == 1
