"""Merges and imports (and their undo) are in the trail; the import's entries are written in
bulk, source "import"."""

import pytest
from django.urls import reverse

from audit.context import Event, Source
from audit.models import AuditEntry
from clients.models import Client, ClientMerge, ClientNote, ImportStatus
from tests.audit.conftest import activity_url, entries
from tests.factories import ClientFactory
from tests.factories_imports import FRESHA_HEADERS, csv_bytes, fresha_row
from tests.imports.conftest import IMMEDIATE, import_url, run_import
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _jobs_inline(settings):
    settings.TASKS = IMMEDIATE


def fresha_file(rows) -> bytes:
    return csv_bytes(FRESHA_HEADERS, rows, delimiter=";", title_rows=["Clients export"])


def merge_url(world, kept, merged) -> str:
    url = reverse("clients:merge", kwargs={"business": world.business.slug})
    return f"{url}?kept={kept.pk}&merged={merged.pk}"


# --- Merges --------------------------------------------------------------------------------


def test_a_merge_and_its_undo_are_recorded_on_both_clients(as_manager, world):
    with all_tenants():
        kept = ClientFactory(business=world.business, first_name="Ana", mobile_phone="")
        merged = ClientFactory(
            business=world.business, first_name="Ana", mobile_phone="+447911123456"
        )
        ClientNote.objects.create(business=world.business, client=merged, text="Likes tea")
    response = as_manager.post(merge_url(world, kept, merged))
    assert response.status_code == 302
    merges = entries(ClientMerge)
    assert {(e.client_id, e.event) for e in merges} == {
        (kept.pk, Event.MERGED),
        (merged.pk, Event.MERGED),
    }
    on_kept = next(e for e in merges if e.client_id == kept.pk)
    assert on_kept.changes == {"merged": [None, merged.pk]}
    assert on_kept.additional_data["moved"] == {"clients.ClientNote.client": 1}
    assert on_kept.actor == world.manager and on_kept.source == Source.WEB
    # The fields it filled are an ordinary change of the kept client.
    filled = [e for e in entries(Client, client_id=kept.pk) if "mobile_phone" in (e.changes or {})]
    assert filled[-1].changes["mobile_phone"] == ["", "+447911123456"]
    page = as_manager.get(activity_url(world, kept), headers={"HX-Request": "true"})
    assert f"{merged.full_name} merged into this client" in page.content.decode()

    with all_tenants():
        record = ClientMerge.objects.get()
    undo = reverse("clients:merge-undo", kwargs={"business": world.business.slug, "pk": record.pk})
    as_manager.post(undo)
    undone = [e for e in entries(ClientMerge) if e.event == Event.MERGE_UNDONE]
    assert {e.client_id for e in undone} == {kept.pk, merged.pk}
    page = as_manager.get(activity_url(world, merged), headers={"HX-Request": "true"})
    assert f"Merge into {kept.full_name} undone" in page.content.decode()


# --- Imports -------------------------------------------------------------------------------


def test_an_import_records_each_client_in_bulk_with_source_import(as_owner, world):
    rows = [fresha_row(n, **{"Note": "Imported note"}) for n in range(1, 4)]
    imp = run_import(as_owner, world, "salon.csv", fresha_file(rows))
    assert imp.status == ImportStatus.DONE, imp.error
    created = entries(Client, event=Event.IMPORTED)
    with all_tenants():
        ids = set(world.business.clients.values_list("pk", flat=True))
    assert {e.client_id for e in created} == ids and len(created) == 3
    for entry in created:
        assert entry.source == Source.IMPORT
        assert entry.action == AuditEntry.Action.CREATE
        assert entry.actor == world.owner
        assert entry.additional_data == {"import": imp.pk, "file": "salon.csv"}
        assert entry.business_id == world.business.pk
    notes = entries(ClientNote, event=Event.IMPORTED)
    assert {e.client_id for e in notes} == ids
    client = Client(pk=created[0].client_id)
    page = as_owner.get(activity_url(world, client), headers={"HX-Request": "true"})
    assert "Client imported (salon.csv)" in page.content.decode()
    assert "Import" in page.content.decode()


def test_an_import_that_updates_clients_records_old_to_new(as_owner, world):
    with all_tenants():
        jane = ClientFactory(
            business=world.business, first_name="Jane", last_name="Old",
            email="anna1@example.com", city="Paris", mobile_phone="",
        )  # fmt: skip
    imp = run_import(as_owner, world, "f.csv", fresha_file([fresha_row(1)]), mode="update")
    assert imp.counts["updated"] == 1
    (entry,) = entries(Client, event=Event.IMPORTED, action=AuditEntry.Action.UPDATE)
    assert entry.client_id == jane.pk and entry.source == Source.IMPORT
    assert entry.changes["city"] == ["Paris", "London"]
    assert entry.changes["last_name"] == ["Old", "Smith"]
    tags = [e for e in entries(event=Event.IMPORTED) if e.content_type.model == "clienttag"]
    assert [e.client_id for e in tags] == [jane.pk]

    as_owner.post(import_url(world, "import-undo", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UNDONE, imp.error
    (back,) = entries(Client, event=Event.IMPORT_UNDONE, action=AuditEntry.Action.UPDATE)
    assert back.client_id == jane.pk
    assert back.changes["city"] == ["London", "Paris"]


def test_undoing_an_import_records_the_clients_it_removed(as_owner, world):
    imp = run_import(as_owner, world, "f.csv", fresha_file([fresha_row(n) for n in range(1, 4)]))
    created = {e.client_id for e in entries(Client, event=Event.IMPORTED)}
    as_owner.post(import_url(world, "import-undo", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UNDONE, imp.error
    removed = entries(Client, event=Event.IMPORT_UNDONE, action=AuditEntry.Action.DELETE)
    assert {e.client_id for e in removed} == created
    assert all(e.source == Source.IMPORT for e in removed)
    # Recorded in bulk: no per-row delete entries for the clients, their tags or notes.
    assert not entries(action=AuditEntry.Action.DELETE, event=Event.CHANGE)
