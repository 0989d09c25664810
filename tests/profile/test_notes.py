"""Notes: add, edit, pin and delete; allergies feed the alert banner; who may change what."""

import pytest
from django.urls import reverse

from clients.models import ClientNote, NoteKind
from tests.factories import ClientFactory
from tests.factories_profile import make_note
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def note_url(world, client, name, note=None) -> str:
    kwargs = {"business": world.business.slug, "pk": client.pk}
    if note is not None:
        kwargs["note_pk"] = note.pk
    return reverse(f"profile:{name}", kwargs=kwargs)


@pytest.fixture
def ava(world):
    with all_tenants():
        return ClientFactory(business=world.business, first_name="Ava", last_name="Moss")


def notes_of(client) -> list[ClientNote]:
    with all_tenants():
        return list(ClientNote.objects.filter(client=client).order_by("id"))


def test_staff_adds_an_allergy_note_and_it_shows_in_the_alert_banner(as_staff, world, ava):
    response = as_staff.post(
        note_url(world, ava, "note-add"), {"note-kind": "allergy", "note-text": "  Nut oils "}
    )
    assert response.status_code == 302
    assert response.url == note_url(world, ava, "notes")
    [note] = notes_of(ava)
    assert (note.kind, note.text, note.created_by) == ("allergy", "Nut oils", world.staff)
    page = as_staff.get(response.url).content.decode()
    banner = page[page.index("alert-banner") : page.index("</div>", page.index("alert-banner"))]
    assert "Nut oils" in banner
    assert "Allergy note added." in page


def test_adding_a_note_with_htmx_returns_the_refreshed_tab(as_staff, world, ava):
    response = as_staff.post(
        note_url(world, ava, "note-add"),
        {"note-kind": "preference", "note-text": "Oat milk latte"},
        **HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<!doctype" not in html
    assert "Oat milk latte" in html and "Preference note added." in html
    assert response["HX-Replace-Url"] == note_url(world, ava, "notes")


def test_an_empty_note_is_refused_with_a_message(as_staff, world, ava):
    response = as_staff.post(
        note_url(world, ava, "note-add"), {"note-kind": "preference", "note-text": "   "}, **HTMX
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert notes_of(ava) == []


def test_unknown_note_kind_is_refused(as_staff, world, ava):
    response = as_staff.post(
        note_url(world, ava, "note-add"), {"note-kind": "gossip", "note-text": "x"}, **HTMX
    )
    assert "Select a valid choice" in response.content.decode()
    assert notes_of(ava) == []


def test_author_edits_their_note(as_staff, world, ava):
    with all_tenants():
        note = make_note(ava, text="Likes tea", by=world.staff)
    form = as_staff.get(note_url(world, ava, "note-edit", note))
    assert form.status_code == 200 and "Save note" in form.content.decode()
    response = as_staff.post(
        note_url(world, ava, "note-edit", note),
        {"edit-kind": "allergy", "edit-text": "Tea tree oil"},
        **HTMX,
    )
    assert response.status_code == 200
    with all_tenants():
        note.refresh_from_db()
    assert (note.kind, note.text, note.updated_by) == (
        NoteKind.ALLERGY,
        "Tea tree oil",
        world.staff,
    )


def test_staff_cannot_change_or_delete_someone_elses_note(as_staff, world, ava):
    with all_tenants():
        note = make_note(ava, text="Manager's note", by=world.manager)
    assert as_staff.get(note_url(world, ava, "note-edit", note)).status_code == 403
    edit = as_staff.post(
        note_url(world, ava, "note-edit", note), {"edit-kind": "preference", "edit-text": "x"}
    )
    assert edit.status_code == 403
    assert as_staff.post(note_url(world, ava, "note-delete", note)).status_code == 403
    assert [n.text for n in notes_of(ava)] == ["Manager's note"]
    html = as_staff.get(note_url(world, ava, "notes")).content.decode()
    assert ">Edit<span" not in html  # no links to what they may not do


def test_manager_may_edit_and_delete_any_note(as_manager, world, ava):
    with all_tenants():
        note = make_note(ava, text="Staff note", by=world.staff)
    response = as_manager.post(
        note_url(world, ava, "note-edit", note), {"edit-kind": "internal", "edit-text": "Tidied"}
    )
    assert response.status_code == 302
    assert as_manager.post(note_url(world, ava, "note-delete", note)).status_code == 302
    assert notes_of(ava) == []


def test_any_member_pins_and_unpins_and_pinned_notes_come_first(as_staff, world, ava):
    with all_tenants():
        older = make_note(ava, text="Older", by=world.manager)
        make_note(ava, text="Newer", by=world.staff)
    as_staff.post(note_url(world, ava, "note-pin", older))
    texts = [n.text for n in as_staff.get(note_url(world, ava, "notes")).context["page"]]
    assert texts == ["Older", "Newer"]
    overview = as_staff.get(note_url(world, ava, "notes")).context["overview"]
    assert [n.text for n in overview.pinned_notes] == ["Older"]
    as_staff.post(note_url(world, ava, "note-pin", older))
    texts = [n.text for n in as_staff.get(note_url(world, ava, "notes")).context["page"]]
    assert texts == ["Newer", "Older"]


def test_note_actions_need_post(as_staff, world, ava):
    with all_tenants():
        note = make_note(ava, text="x", by=world.staff)
    assert as_staff.get(note_url(world, ava, "note-add")).status_code == 405
    assert as_staff.get(note_url(world, ava, "note-pin", note)).status_code == 405
    assert as_staff.get(note_url(world, ava, "note-delete", note)).status_code == 405


def test_a_note_of_another_client_is_404_through_this_client(as_manager, world, ava):
    with all_tenants():
        other = ClientFactory(business=world.business)
        theirs = make_note(other, text="Theirs", by=world.manager)
    for name in ["note-edit", "note-pin", "note-delete"]:
        assert as_manager.post(note_url(world, ava, name, theirs)).status_code == 404
    assert [n.text for n in notes_of(other)] == ["Theirs"]


@pytest.mark.parametrize("name", ["notes", "note-add", "note-edit", "note-pin", "note-delete"])
def test_outsider_gets_404_on_note_urls(as_outsider, world, ava, name):
    with all_tenants():
        note = make_note(ava, text="x", by=world.staff)
    url = note_url(world, ava, name, note if name not in {"notes", "note-add"} else None)
    assert as_outsider.get(url).status_code == 404
    assert as_outsider.post(url, {"note-kind": "preference", "note-text": "x"}).status_code == 404
    assert len(notes_of(ava)) == 1
