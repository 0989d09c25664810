"""Changes to a client through the web are recorded: who, when, from where, old → new."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.context import Event, Source
from audit.models import AuditEntry
from clients.models import Client, ClientDocument, ClientNote, ClientTag, NoteKind
from glamiti.tenancy import tenant_context
from tests.audit.conftest import client_form, edit_url, entries
from tests.factories import TagFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_web_edit_records_who_when_where_and_old_to_new(as_staff, world, client_row):
    response = as_staff.post(
        edit_url(world, client_row),
        client_form(client_row, email="ana.silva@example.com", alert="Allergic to PPD"),
    )
    assert response.status_code == 302
    (entry,) = entries(Client, action=AuditEntry.Action.UPDATE)
    assert entry.changes == {
        "email": ["ana@example.com", "ana.silva@example.com"],
        "alert": ["", "Allergic to PPD"],
    }
    assert entry.actor == world.staff
    assert entry.source == Source.WEB
    assert entry.business_id == world.business.pk
    assert entry.client_id == client_row.pk
    assert entry.timestamp is not None


def test_creating_a_client_records_what_was_given(as_staff, world):
    data = {"first_name": "Bea", "last_name": "Lopes", "email": "bea@example.com"}
    url = reverse("clients:create", kwargs={"business": world.business.slug})
    assert as_staff.post(url, data).status_code == 302
    (entry,) = entries(Client, action=AuditEntry.Action.CREATE)
    assert entry.changes["first_name"] == [None, "Bea"]
    assert entry.changes["email"] == [None, "bea@example.com"]
    # Empty fields and derived columns say nothing and are left out.
    assert "pronouns" not in entry.changes and "search_text" not in entry.changes
    assert entry.source == Source.WEB and entry.actor == world.staff


def test_a_save_that_changes_nothing_records_nothing(as_staff, world, client_row):
    as_staff.post(edit_url(world, client_row), client_form(client_row))
    assert entries(Client, action=AuditEntry.Action.UPDATE) == []


def test_tags_put_on_and_taken_off_are_recorded(as_staff, world, client_row):
    with all_tenants():
        vip = TagFactory(business=world.business, name="VIP")
    as_staff.post(edit_url(world, client_row), client_form(client_row, tags=[vip.pk]))
    as_staff.post(edit_url(world, client_row), client_form(client_row, new_tags="Colour"))
    added = entries(ClientTag, action=AuditEntry.Action.CREATE)
    removed = entries(ClientTag, action=AuditEntry.Action.DELETE)
    assert [e.object_repr for e in added] == ["VIP", "Colour"]
    assert [e.object_repr for e in removed] == ["VIP"]
    assert {e.client_id for e in added + removed} == {client_row.pk}
    assert all(e.actor == world.staff and e.source == Source.WEB for e in added + removed)


def test_notes_added_changed_and_deleted_are_recorded(as_staff, world, client_row):
    kwargs = {"business": world.business.slug, "pk": client_row.pk}
    as_staff.post(
        reverse("profile:note-add", kwargs=kwargs),
        {"note-kind": NoteKind.ALLERGY, "note-text": "Latex"},
    )
    with all_tenants():
        note = ClientNote.objects.get()
    note_kwargs = {**kwargs, "note_pk": note.pk}
    as_staff.post(
        reverse("profile:note-edit", kwargs=note_kwargs),
        {"edit-kind": NoteKind.ALLERGY, "edit-text": "Latex and PPD"},
    )
    as_staff.post(reverse("profile:note-delete", kwargs=note_kwargs))
    created, updated, deleted = entries(ClientNote)
    assert created.action == AuditEntry.Action.CREATE
    assert created.changes["text"] == [None, "Latex"]
    assert updated.changes == {"text": ["Latex", "Latex and PPD"]}
    assert deleted.action == AuditEntry.Action.DELETE
    assert deleted.changes["text"] == ["Latex and PPD", None]
    assert {e.client_id for e in (created, updated, deleted)} == {client_row.pk}


def test_documents_attached_and_deleted_are_recorded(as_staff, as_manager, world, client_row):
    kwargs = {"business": world.business.slug, "pk": client_row.pk}
    upload = SimpleUploadedFile("consent.pdf", PDF_BYTES, content_type="application/pdf")
    response = as_staff.post(
        reverse("profile:document-add", kwargs=kwargs),
        {"doc-kind": "consent", "doc-title": "Colour consent", "doc-file": upload},
    )
    assert response.status_code in (200, 302)
    with all_tenants():
        document = ClientDocument.objects.get()
    as_manager.post(
        reverse("profile:document-delete", kwargs={**kwargs, "document_pk": document.pk})
    )
    attached, deleted = entries(ClientDocument)
    assert attached.changes["title"] == [None, "Colour consent"]
    assert "file" not in attached.changes  # the storage path is not the trail's business
    assert attached.actor == world.staff and deleted.actor == world.manager
    assert deleted.action == AuditEntry.Action.DELETE


def test_archive_and_restore_are_recorded(as_staff, world, client_row):
    kwargs = {"business": world.business.slug, "pk": client_row.pk}
    as_staff.post(reverse("clients:archive", kwargs=kwargs))
    as_staff.post(reverse("clients:restore", kwargs=kwargs))
    archived, restored = entries(Client, action=AuditEntry.Action.UPDATE)
    assert archived.changes["archived_at"][0] is None and archived.changes["archived_at"][1]
    assert restored.changes["archived_at"][1] is None


def test_a_change_made_by_a_command_has_no_one_as_its_author(world, client_row):
    with tenant_context(world.business):
        client = Client.objects.get(pk=client_row.pk)
        client.city = "Porto"
        client.save()
    (entry,) = entries(Client, action=AuditEntry.Action.UPDATE)
    assert entry.actor is None and entry.source == Source.COMMAND
    assert entry.event == Event.CHANGE


def test_entries_are_tenant_rows(world, client_row):
    """Row-level security keeps each business's entries to it."""
    with tenant_context(world.business):
        client = Client.objects.get(pk=client_row.pk)
        client.city = "Porto"
        client.save()
        assert AuditEntry.objects.filter(client_id=client.pk).count() == 2  # added, changed
    with tenant_context(world.other_business):
        assert not AuditEntry.objects.exists()


def test_deleting_a_user_keeps_their_entries_with_no_author(as_staff, world, client_row):
    """The database does not check an entry's author (audit/models.py says why): Django
    clears it when the user goes, and the entry stays."""
    as_staff.post(edit_url(world, client_row), client_form(client_row, alert="Allergic to PPD"))
    with all_tenants():
        world.staff.delete()
    (entry,) = entries(Client, action=AuditEntry.Action.UPDATE)
    assert entry.actor_id is None
    assert entry.changes == {"alert": ["", "Allergic to PPD"]}
