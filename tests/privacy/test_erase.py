"""GDPR erasure: personal data wiped for good, the accounts kept under a placeholder."""

from __future__ import annotations

import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from audit.context import Event
from audit.models import AuditEntry
from clients import privacy
from clients.merge import client_merge
from clients.models import (
    Client,
    ClientDocument,
    ClientImport,
    ClientImportChange,
    ClientMerge,
    ClientNote,
    ClientTag,
    ConsentRecord,
    ImportStatus,
)
from glamiti.tenancy import tenant_context
from sales.models import Feedback, Payment, Sale, TipAllocation
from tests.conftest import logged_in
from tests.factories import ClientFactory
from tests.privacy.conftest import url
from tests.rls import all_tenants
from vouchers.models import Voucher, VoucherLedgerEntry

pytestmark = pytest.mark.django_db


def reload(client: Client) -> Client:
    with all_tenants():
        return Client.objects.get(pk=client.pk)


def erase(http, client, typed=None):
    return http.post(url("erase", client), {"confirm_name": typed or client.full_name})


def test_the_confirmation_page_says_what_goes_and_what_stays(as_owner, rich):
    page = as_owner.get(url("erase", rich.client)).content.decode()
    assert "Erase Maya Lopez’s personal data?" in page
    assert "type the client’s name: <strong>Maya Lopez</strong>" in page
    assert "1 document, deleted from storage" in page and "2 notes" in page
    assert "1 tag" in page and "1 consent record" in page and "Their photo" in page
    assert "1 sale<" in page and "1 tip<" in page and "1 voucher<" in page
    assert "2 appointments" in page
    assert "1 upcoming appointment (canceled)" in page
    assert "cannot be undone" in page


def test_a_wrong_name_changes_nothing(as_owner, rich):
    response = erase(as_owner, rich.client, typed="Maya")
    assert response.status_code == 200
    assert "That is not the client’s name as shown above." in response.content.decode()
    client = reload(rich.client)
    assert client.erased_at is None and client.email == "maya.lopez@example.com"
    assert default_storage.exists(rich.document_path)


def test_erasure_wipes_personal_data_and_keeps_the_accounts(as_owner, rich):
    response = erase(as_owner, rich.client, typed="  maya   LOPEZ ")  # case and spaces aside
    assert response.status_code == 302 and response.url == rich.client.get_absolute_url()
    client = reload(rich.client)
    pk = client.pk
    assert client.erased_at is not None and client.archived_at is not None
    assert client.full_name == f"Erased client #{pk}"
    for attname, value in privacy.WIPED_VALUES.items():
        stored = getattr(client, attname)
        assert (not stored) if attname == "photo" else stored == value, attname
    assert (client.email, client.mobile_phone, client.city, client.alert) == ("", "", "", "")
    assert (client.birth_day, client.birth_month, client.birth_year) == (None, None, None)
    assert client.external_id == "" and not client.photo and not client.email_marketing
    assert client.search_text == f"erased client #{pk}" and client.phone_digits == ""
    with all_tenants():
        assert not ClientNote.objects.filter(client_id=pk).exists()
        assert not ClientTag.objects.filter(client_id=pk).exists()
        assert not ConsentRecord.objects.filter(client_id=pk).exists()
        assert not ClientDocument.objects.filter(client_id=pk).exists()
        # The accounts: the sale, its payment, the tip and the voucher ledger stay, on the
        # same (now anonymous) client row.
        sale = Sale.objects.get(pk=rich.sale.pk)
        assert sale.client_id == pk and str(sale.total) == "60.00"
        assert Payment.objects.filter(sale=sale).count() == 1
        assert TipAllocation.objects.filter(sale=sale).count() == 1
        voucher = Voucher.objects.get(pk=rich.voucher.pk)
        assert (voucher.purchaser_id, voucher.recipient_id) == (pk, pk)
        assert voucher.recipient_name == "" and str(voucher.balance) == "20.00"
        assert VoucherLedgerEntry.objects.filter(voucher=voucher).count() == 2
        # Free text about the client in kept rows is cleared.
        assert set(Appointment.objects.filter(client_id=pk).values_list("notes", flat=True)) == {""}
        upcoming = Appointment.objects.get(client_id=pk, start_at__gt=timezone.now())
        assert upcoming.status == AppointmentStatus.CANCELED
        assert Feedback.objects.get(client_id=pk).comment == ""
        assert Feedback.objects.get(client_id=pk).rating == 5
    # Files are gone from storage.
    assert not default_storage.exists(rich.document_path)
    assert not default_storage.exists(rich.photo_path)


def test_the_profile_says_erased_and_offers_no_changes(as_owner, rich):
    erase(as_owner, rich.client)
    page = as_owner.get(rich.client.get_absolute_url()).content.decode()
    assert f"Erased client #{rich.client.pk}" in page
    assert "Maya" not in page and "maya.lopez@example.com" not in page
    assert "Allergic to PPD" not in page and "Prefers the window seat" not in page
    assert 'badge-danger">Erased' in page and "personal data was erased on" in page
    assert url("edit", rich.client) not in page and url("erase", rich.client) not in page
    assert url("restore", rich.client) not in page


def test_an_erased_client_is_in_no_list_search_or_picker(as_owner, rich, world):
    erase(as_owner, rich.client)
    slug = world.business.slug
    listing = reverse("clients:list", kwargs={"business": slug})
    for query in ("", "?archived=1", "?q=Erased", "?q=Maya", "?q=07700900123"):
        body = as_owner.get(listing + query).content.decode()
        assert f"/clients/{rich.client.pk}/" not in body, query
    picker = reverse("clients:picker", kwargs={"business": slug})
    assert f"/clients/{rich.client.pk}/" not in as_owner.get(picker + "?q=Erased").content.decode()


def test_an_erased_client_cannot_be_edited_restored_or_given_notes(as_owner, rich):
    erase(as_owner, rich.client)
    edited = as_owner.post(url("edit", rich.client), {"first_name": "Maya", "last_name": "L"})
    assert edited.status_code == 302
    restored = as_owner.post(url("restore", rich.client))
    assert restored.status_code == 302
    note_add = reverse(
        "profile:note-add", kwargs={"business": rich.client.business.slug, "pk": rich.client.pk}
    )
    assert as_owner.post(note_add, {"note-kind": "internal", "note-text": "x"}).status_code == 403
    client = reload(rich.client)
    assert client.first_name.startswith("Erased client") and client.archived_at is not None
    with all_tenants():
        assert not ClientNote.objects.filter(client=client).exists()


def test_erasing_again_does_nothing(as_owner, rich):
    erase(as_owner, rich.client)
    erased_at = reload(rich.client).erased_at
    again = as_owner.get(url("erase", rich.client))
    assert again.status_code == 302
    erase(as_owner, reload(rich.client))
    assert reload(rich.client).erased_at == erased_at


def test_the_audit_trail_keeps_the_erasure_without_the_erased_data(as_owner, rich):
    with all_tenants():
        before = AuditEntry.objects.filter(client_id=rich.client.pk).count()
        assert before and "Maya" in json.dumps([e.changes for e in AuditEntry.objects.all()])
    erase(as_owner, rich.client)
    with all_tenants():
        entries = list(AuditEntry.objects.filter(client_id=rich.client.pk))
        erasure = [e for e in entries if e.event == Event.ERASED and e.changes is None]
        assert (
            len(erasure) == 1
            and erasure[0].actor_id == rich.client.business.memberships.get(role="owner").user_id
        )
        assert all(e.values_erased for e in entries)
        trail = json.dumps(
            [(e.changes, e.object_repr, e.changes_text) for e in entries], ensure_ascii=False
        )
    for personal in ("Maya", "Lopez", "maya.lopez@example.com", "447700900123", "Leeds",
                     "Allergic to PPD", "Prefers the window seat", "consent form.pdf"):  # fmt: skip
        assert personal not in trail, personal


def test_clients_merged_into_the_erased_one_are_erased_and_merges_cannot_be_undone(as_owner, world):
    with all_tenants():
        kept = ClientFactory(business=world.business, first_name="Ana", last_name="Ruiz")
        merged = ClientFactory(
            business=world.business,
            first_name="Ana",
            last_name="Ruiz",
            email="",
            mobile_phone="+447700900555",
            city="York",
        )
        kept.email = ""
        kept.save()
    with tenant_context(world.business):
        record = client_merge(kept=kept, merged=merged, by=world.owner)
    with all_tenants():
        assert ClientMerge.objects.get(pk=record.pk).filled_fields["mobile_phone"]
    assert erase(as_owner, reload(kept)).status_code == 302
    for client in (reload(kept), reload(merged)):
        assert client.erased_at is not None and client.mobile_phone == "" and client.city == ""
    with all_tenants():
        assert ClientMerge.objects.get(pk=record.pk).filled_fields == {}
    undo = reverse("clients:merge-undo", kwargs={"business": world.business.slug, "pk": record.pk})
    response = as_owner.post(undo, follow=True)
    assert "merge can&#x27;t be undone" in response.content.decode()
    with all_tenants():
        assert ClientMerge.objects.get(pk=record.pk).undone_at is None
    assert reload(merged).archived_at is not None and reload(merged).mobile_phone == ""


def test_import_snapshots_lose_the_erased_values(as_owner, world):
    with all_tenants():
        client = ClientFactory(business=world.business, first_name="Jo", last_name="Bloggs")
        other = ClientFactory(business=world.business)
        imp = ClientImport.objects.create(
            business=world.business,
            file_name="clients.csv",
            file="imports/x.csv",
            file_kind="csv",
            status=ImportStatus.UNDONE,
            undo_summary={"kept": [{"id": client.pk, "name": "Jo Bloggs", "why": "sales"}]},
            preview_rows=[{"row": 2, "values": {"first_name": "Jo", "last_name": "Bloggs"}}],
        )
        change = ClientImportChange.objects.create(
            business=world.business,
            client_import=imp,
            kind=ClientImportChange.Kind.UPDATED,
            previous={
                str(client.pk): {"city": ["Old Town", "Leeds"], "alert": ["", "Nut allergy"]},
                str(other.pk): {"city": ["A", "B"]},
            },
        )
    erase(as_owner, client)
    with all_tenants():
        change.refresh_from_db()
        imp.refresh_from_db()
    assert change.previous == {str(other.pk): {"city": ["A", "B"]}}
    assert imp.undo_summary["kept"][0]["name"] == f"Erased client #{client.pk}"
    assert imp.preview_rows[0]["values"] == {}


def test_an_import_file_row_cannot_refill_an_erased_client(as_owner, world, settings):
    from tests.factories_imports import csv_bytes
    from tests.imports.conftest import IMMEDIATE, run_import

    settings.TASKS = IMMEDIATE
    with all_tenants():
        client = ClientFactory(business=world.business, first_name="Kim", email="kim@example.com")
    erase(as_owner, client)
    content = csv_bytes(["Glamiti ID", "First Name", "Email"], [[str(client.pk), "Kim", "k@x.io"]])
    imp = run_import(as_owner, world, "back.csv", content, mode="update")
    assert imp.status == ImportStatus.DONE, imp.error
    assert reload(client).email == "" and reload(client).first_name.startswith("Erased")


@pytest.mark.parametrize("who", ["as_manager", "as_staff"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_owners_may_erase(request, who, method, rich):
    http = request.getfixturevalue(who)
    response = getattr(http, method)(url("erase", rich.client), {"confirm_name": "Maya Lopez"})
    assert response.status_code == 403
    assert reload(rich.client).erased_at is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_outsiders_and_other_businesses_get_404(as_outsider, rich, world, method):
    data = {"confirm_name": "Maya Lopez"}
    assert getattr(as_outsider, method)(url("erase", rich.client), data).status_code == 404
    other = logged_in(world.other_owner)
    assert getattr(other, method)(url("erase", rich.client), data).status_code == 404
    with all_tenants():
        theirs = ClientFactory(business=world.other_business, first_name="Theirs")
    mine = url("erase", theirs).replace(world.other_business.slug, world.business.slug)
    assert as_outsider.post(mine, {"confirm_name": "Theirs"}).status_code == 404
    assert logged_in(world.owner).post(mine, {"confirm_name": "Theirs"}).status_code == 404
    assert reload(rich.client).erased_at is None and reload(theirs).erased_at is None
