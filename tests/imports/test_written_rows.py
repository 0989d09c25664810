"""What an import writes beside each new client (on PostgreSQL, from the staged batch):
the import tag and the file's tags, notes, consent records, the audit entries and the
record undo reads, across more than one batch."""

import pytest

from audit.context import Event
from audit.models import AuditEntry
from clients import imports
from clients.models import (
    ClientImportChange,
    ClientNote,
    ClientTag,
    ConsentRecord,
    ImportStatus,
    Tag,
)
from tests.factories_imports import csv_bytes
from tests.imports.conftest import import_url, run_import
from tests.rls import all_tenants

HEADERS = ["Name", "Email", "Tags", "Notes", "Accepts Marketing", "Accepts SMS Marketing"]


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(imports, "FIRST_BATCH_SIZE", 2)
    monkeypatch.setattr(imports, "BATCH_SIZE", 3)


def test_each_new_client_gets_its_tags_note_and_consents(as_owner, world, small_batches):
    with all_tenants():
        vip = Tag.objects.create(business=world.business, name="VIP")
    rows = [
        ["Ann One", "ann@example.com", "vip, Colour", "Likes tea", "Yes", "No"],
        ["Bob Two", "bob@example.com", "", "", "No", "Yes"],
        ["Cat Three", "cat@example.com", "colour, COLOUR, Balayage", "", "Yes", "Yes"],
        ["Dan Four", "dan@example.com", "Balayage", "Allergic to PPD\nPatch test", "", ""],
        ["Eve Five", "eve@example.com", 'Nails {gel}; "Bio" \\ NULL', "", "", ""],
        ["Fay Six", "fay@example.com", "vip", "Prefers mornings", "Yes", ""],
    ]
    imp = run_import(as_owner, world, "tags.csv", csv_bytes(HEADERS, rows))
    assert imp.status == ImportStatus.DONE, imp.error
    assert imp.counts["created"] == 6
    with all_tenants():
        clients = {c.first_name: c for c in world.business.clients.all()}
        assert len(clients) == 6

        def tags(name):
            return sorted(t.name for t in clients[name].tags.all() if t.pk != imp.tag_id)

        # Tags are matched whatever their case: an existing one is reused, a new one is
        # created once, spelled as first written, and each is put on a client once.
        assert tags("Ann") == ["Colour", "VIP"]
        assert tags("Bob") == []
        assert tags("Cat") == ["Balayage", "Colour"]
        assert tags("Dan") == ["Balayage"]
        assert tags("Fay") == ["VIP"]
        # Semicolons separate tags too; braces, quotes and backslashes arrive as written.
        assert tags("Eve") == ['"Bio" \\ NULL', "Nails {gel}"]
        names = sorted(Tag.objects.filter(business=world.business).values_list("name", flat=True))
        assert names == sorted(["VIP", "Colour", "Balayage", *tags("Eve"), imp.tag.name])
        assert ClientTag.objects.filter(tag=imp.tag).count() == 6
        assert ClientTag.objects.filter(tag=vip).count() == 2

        notes = {n.client.first_name: n for n in ClientNote.objects.select_related("client")}
        assert sorted(notes) == ["Ann", "Dan", "Fay"]
        assert notes["Dan"].text == "Allergic to PPD\nPatch test"
        assert notes["Ann"].created_by == world.owner and notes["Ann"].kind == "internal"

        consents = sorted(
            (r.client.first_name, r.channel, r.given, r.verified, r.source, r.client_import_id)
            for r in ConsentRecord.objects.select_related("client")
        )
        assert consents == [
            ("Ann", "email", True, False, "import", imp.pk),
            ("Bob", "sms", True, False, "import", imp.pk),
            ("Cat", "email", True, False, "import", imp.pk),
            ("Cat", "sms", True, False, "import", imp.pk),
            ("Fay", "email", True, False, "import", imp.pk),
        ]
        assert all(r.recorded_by == world.owner for r in ConsentRecord.objects.all())

        created = AuditEntry.objects.filter(
            event=Event.IMPORTED, content_type__model="client", action=AuditEntry.Action.CREATE
        )
        assert sorted(e.client_id for e in created) == sorted(c.pk for c in clients.values())
        assert all(e.object_id == e.client_id and e.actor == world.owner for e in created)
        assert created.first().additional_data == {"import": imp.pk, "file": "tags.csv"}
        note_entries = AuditEntry.objects.filter(
            event=Event.IMPORTED, content_type__model="clientnote"
        )
        assert sorted(e.object_id for e in note_entries) == sorted(n.pk for n in notes.values())

        # Undo reads the ids of every batch, in the file's order.
        changes = ClientImportChange.objects.filter(client_import=imp)
        created_ids = [pk for c in changes.filter(kind="created").order_by("pk") for pk in c.ids]
        by_name = [clients[n].pk for n in ("Ann", "Bob", "Cat", "Dan", "Eve", "Fay")]
        assert created_ids == by_name
        assert changes.filter(kind="created").count() == 3  # batches of 2, 3 and 1 rows
        note_ids = [pk for c in changes.filter(kind="notes") for pk in c.ids]
        assert sorted(note_ids) == sorted(n.pk for n in notes.values())

    as_owner.post(import_url(world, "import-undo", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UNDONE, imp.error
    with all_tenants():
        assert not world.business.clients.exists()
        assert not ClientNote.objects.exists() and not ConsentRecord.objects.exists()
        assert list(Tag.objects.filter(business=world.business)) == [vip]
