"""Marketing consent records: every change of answer adds a record (who, when, how, which
wording), nothing edits or removes one, imports are recorded in bulk as unverified, and the
profile shows the current answers with their history."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.consent import CONSENT_WORDING, CURRENT_WORDING
from clients.merge import client_merge, client_merge_undo
from clients.models import Client, ConsentRecord, ConsentSource, ImportStatus
from glamiti.tenancy import tenant_context
from tests.factories import ClientFactory
from tests.factories_imports import FRESHA_HEADERS, csv_bytes, fresha_row
from tests.imports.conftest import IMMEDIATE, import_url, run_import
from tests.rls import all_tenants, platform_db_mark

pytestmark = pytest.mark.django_db


def create_url(world) -> str:
    return reverse("clients:create", kwargs={"business": world.business.slug})


def edit_url(world, client) -> str:
    return reverse("clients:edit", kwargs={"business": world.business.slug, "pk": client.pk})


def notes_url(world, client) -> str:
    return reverse("profile:notes", kwargs={"business": world.business.slug, "pk": client.pk})


def valid(**overrides) -> dict:
    return {"first_name": "Amelia", "last_name": "Stone", "email": "", "mobile_phone": ""} | (
        overrides
    )


def records(client, channel=None) -> list[ConsentRecord]:
    """Oldest first."""
    with all_tenants():
        rows = ConsentRecord.objects.filter(client_id=client.pk).order_by("recorded_at", "id")
        if channel:
            rows = rows.filter(channel=channel)
        return list(rows)


def reload(client) -> Client:
    with all_tenants():
        return Client.objects.get(pk=client.pk)


def fresha_file(rows) -> bytes:
    return csv_bytes(FRESHA_HEADERS, rows, delimiter=";", title_rows=["Clients export"])


@pytest.fixture
def _jobs_inline(settings):
    settings.TASKS = IMMEDIATE


# --- The client form and the dialog -----------------------------------------------------------


def test_giving_then_withdrawing_consent_adds_a_record_each_time(as_staff, world):
    assert as_staff.post(create_url(world), valid(email_marketing="on")).status_code == 302
    with tenant_context(world.business):
        client = Client.objects.get()
    (given,) = records(client)
    assert (given.channel, given.given, given.source) == ("email", True, ConsentSource.FORM)
    assert given.recorded_by == world.staff and given.verified
    assert given.wording_version == CURRENT_WORDING
    assert given.wording == CONSENT_WORDING[CURRENT_WORDING]["email"]
    assert given.recorded_at == reload(client).email_marketing_at

    as_manager_edit = as_staff.post(edit_url(world, client), valid(email_marketing="on"))
    assert as_manager_edit.status_code == 302
    assert records(client) == [given]  # the same answer again records nothing

    as_staff.post(edit_url(world, client), valid())
    first, withdrawn = records(client)
    assert first.pk == given.pk and first.given  # the earlier record is left as it was
    assert (withdrawn.channel, withdrawn.given, withdrawn.source) == ("email", False, "form")
    assert withdrawn.recorded_at == reload(client).email_marketing_at > given.recorded_at
    assert not reload(client).email_marketing

    as_staff.post(edit_url(world, client), valid(email_marketing="on", sms_marketing="on"))
    assert [(r.channel, r.given) for r in records(client)] == [
        ("email", True),
        ("email", False),
        ("email", True),
        ("sms", True),
    ]


def test_a_new_client_who_says_no_and_unchanged_answers_add_no_record(as_staff, world):
    as_staff.post(create_url(world), valid())
    with tenant_context(world.business):
        client = Client.objects.get()
    as_staff.post(edit_url(world, client), valid(first_name="Amy"))
    assert records(client) == []
    client = reload(client)
    assert client.email_marketing_at is None and client.sms_marketing_at is None


def test_the_form_shows_the_wording_to_read_to_the_client(as_staff, world):
    page = as_staff.get(create_url(world)).content.decode()
    assert CONSENT_WORDING[CURRENT_WORDING]["sms"] in page


def test_the_dialog_records_consent_too(as_staff, world):
    response = as_staff.post(
        create_url(world), valid(dialog="1", sms_marketing="on"), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "clientSaved" in response["HX-Trigger"]
    with tenant_context(world.business):
        client = Client.objects.get()
    (record,) = records(client)
    assert (record.channel, record.given, record.recorded_by) == ("sms", True, world.staff)


# --- Imports ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("_jobs_inline")
def test_an_import_records_unverified_consent_in_bulk(as_owner, world):
    rows = [fresha_row(n) for n in range(1, 31)]  # e-mail yes, SMS no
    rows[0] = fresha_row(1, **{"Accepts SMS Marketing": "Yes"})
    rows[1] = fresha_row(2, **{"Accepts Marketing": "No"})
    with CaptureQueriesContext(connection) as captured:
        imp = run_import(as_owner, world, "fresha.csv", fresha_file(rows))
    assert imp.status == ImportStatus.DONE, imp.error
    inserts = [q["sql"] for q in captured if q["sql"].startswith('\nINSERT INTO "clients_consent')]
    assert len(inserts) == 1  # one statement for the batch, not one per client
    with all_tenants():
        found = list(ConsentRecord.objects.filter(business=world.business))
        clients = {c.pk: c for c in world.business.clients.all()}
    assert sorted(r.channel for r in found) == ["email"] * 29 + ["sms"]
    for record in found:
        client = clients[record.client_id]
        assert record.given and record.source == ConsentSource.IMPORT
        assert not record.verified and record.client_import_id == imp.pk
        assert record.recorded_by == world.owner
        assert record.wording == "" and record.wording_version == ""
        assert record.recorded_at == getattr(client, f"{record.channel}_marketing_at")
    anna2 = next(c for c in clients.values() if c.first_name == "Anna2")
    assert records(anna2) == []  # said no: a new client with nothing to record
    anna1 = next(c for c in clients.values() if c.first_name == "Anna1")
    section = as_owner.get(notes_url(world, anna1)).content.decode()
    section = section[section.index('id="consent"') :]
    assert section.count("Imported (unverified)") == 4  # both answers now, and both records
    assert "fresha.csv" in section


@pytest.mark.usefixtures("_jobs_inline")
def test_an_import_that_changes_an_answer_records_it_and_undo_records_the_way_back(
    as_owner, as_staff, world
):
    with all_tenants():
        jane = ClientFactory(business=world.business, first_name="Jane", email="anna1@example.com")
    as_staff.post(edit_url(world, jane), valid(first_name="Jane", email="anna1@example.com"))
    assert records(jane) == []
    imp = run_import(as_owner, world, "f.csv", fresha_file([fresha_row(1)]), mode="update")
    assert imp.counts["updated"] == 1
    (imported,) = records(jane)
    assert imported.given and not imported.verified and imported.source == "import"
    as_owner.post(import_url(world, "import-undo", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.UNDONE, imp.error
    assert not reload(jane).email_marketing
    first, undone = records(jane)
    assert first.pk == imported.pk  # the import's record stays: it happened
    assert (undone.given, undone.source, undone.client_import_id) == (False, "import_undo", imp.pk)
    assert undone.answer_label == "Not given"


@pytest.mark.usefixtures("_jobs_inline")
def test_undo_still_removes_clients_whose_only_records_came_from_the_import(as_owner, world):
    imp = run_import(as_owner, world, "f.csv", fresha_file([fresha_row(1), fresha_row(2)]))
    with all_tenants():
        assert ConsentRecord.objects.filter(business=world.business).count() == 2
    as_owner.post(import_url(world, "import-undo", imp))
    imp.refresh_from_db()
    assert imp.undo_summary["removed"] == 2
    with all_tenants():
        assert not world.business.clients.exists()


# --- Merges -----------------------------------------------------------------------------------


def test_a_merge_moves_the_records_and_its_undo_moves_them_back(as_staff, world):
    with all_tenants():
        kept = ClientFactory(business=world.business, first_name="Ann")
        merged = ClientFactory(business=world.business, first_name="Annie")
    as_staff.post(edit_url(world, merged), valid(first_name="Annie", sms_marketing="on"))
    (record,) = records(merged)
    with tenant_context(world.business):
        done = client_merge(kept=kept, merged=merged, by=world.manager)
    assert records(kept) == [record] and records(merged) == []
    assert reload(kept).sms_marketing  # the answer and its record travel together
    with tenant_context(world.business):
        client_merge_undo(merge=done, by=world.manager)
    assert records(merged) == [record] and records(kept) == []


# --- The profile --------------------------------------------------------------------------------


def test_the_profile_shows_current_answers_and_their_history(as_staff, world):
    with all_tenants():
        client = ClientFactory(business=world.business, first_name="Ava")
    as_staff.post(edit_url(world, client), valid(first_name="Ava", email_marketing="on"))
    as_staff.post(edit_url(world, client), valid(first_name="Ava"))
    with all_tenants():
        client = Client.objects.get(pk=client.pk)
        client.sms_marketing, client.sms_marketing_source = True, ConsentSource.IMPORT
        client.sms_marketing_at = timezone.now()
        client.save()
        ConsentRecord.objects.create(
            business=world.business, client=client, channel="sms", given=True,
            recorded_at=client.sms_marketing_at, source=ConsentSource.IMPORT, verified=False,
        )  # fmt: skip
    html = as_staff.get(notes_url(world, client)).content.decode()
    assert "Marketing consent" in html
    section = html[html.index('id="consent"') :]
    assert "Withdrawn" in section and "Given" in section
    assert section.count("Imported (unverified)") == 2  # the current SMS answer and its record
    assert world.staff.get_full_name() in section
    assert f"Wording {CURRENT_WORDING}" in section
    assert CONSENT_WORDING[CURRENT_WORDING]["email"] in section
    assert "Recorded by staff" in section
    # The same section in the tab alone (htmx).
    fragment = as_staff.get(notes_url(world, client), headers={"HX-Request": "true"})
    assert 'id="consent"' in fragment.content.decode()


def test_a_client_without_records_says_so(as_staff, world):
    with all_tenants():
        client = ClientFactory(business=world.business)
    section = as_staff.get(notes_url(world, client)).content.decode()
    assert "Not asked" in section and "No answer recorded yet." in section


def test_outsiders_and_other_businesses_get_404(world, as_outsider):
    from tests.conftest import logged_in

    with all_tenants():
        client = ClientFactory(business=world.business)
    assert as_outsider.get(notes_url(world, client)).status_code == 404
    # The other business's owner, through their own business's address, cannot reach it.
    other = reverse(
        "profile:notes", kwargs={"business": world.other_business.slug, "pk": client.pk}
    )
    assert logged_in(world.other_owner).get(other).status_code == 404


def test_another_business_records_are_invisible_and_unreachable(as_owner, world):
    with all_tenants():
        mine = ClientFactory(business=world.business, first_name="Mine")
        theirs = ClientFactory(business=world.other_business, first_name="Theirs")
        ConsentRecord.objects.create(
            business=world.other_business, client=theirs, channel="email", given=True,
            source=ConsentSource.FORM, wording="Their secret wording",
        )  # fmt: skip
    html = as_owner.get(notes_url(world, mine)).content.decode()
    assert "Their secret wording" not in html
    with tenant_context(world.business):
        assert not ConsentRecord.objects.exists()
        with connection.cursor() as cursor:  # row-level security, below the ORM
            cursor.execute("SELECT COUNT(*) FROM clients_consentrecord")
            assert cursor.fetchone()[0] == 0
    # A record of one business can never point at another business's client.
    with all_tenants(), pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.create(
            business=world.business, client=theirs, channel="email", given=True, source="form"
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


# --- The platform admin -------------------------------------------------------------------------


def admin_post_data(form) -> dict:
    """What the admin change form would post back unchanged."""
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None or value is False or hasattr(value, "field"):  # no file to re-post
            continue
        data[name] = "on" if value is True else getattr(value, "pk", value)
    return data


@platform_db_mark()
def test_a_change_in_the_admin_is_dated_and_recorded(world, django_user_model):
    from tests.conftest import logged_in

    root = django_user_model.objects.create_superuser("root", "r@example.com", "pw-1x")
    with all_tenants():
        client = ClientFactory(business=world.business, first_name="Ava")
    url = reverse("admin:clients_client_change", args=[client.pk])
    http = logged_in(root)
    page = http.get(url)
    assert page.status_code == 200
    data = admin_post_data(page.context["adminform"].form) | {"sms_marketing": "on"}
    data |= {"consent_records-TOTAL_FORMS": "0", "consent_records-INITIAL_FORMS": "0"}
    response = http.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    client = reload(client)
    assert client.sms_marketing and client.sms_marketing_source == ConsentSource.ADMIN
    (record,) = records(client)
    assert (record.channel, record.given, record.source) == ("sms", True, "admin")
    assert record.recorded_by == root and record.recorded_at == client.sms_marketing_at
    assert "Recorded in the admin" in http.get(url).content.decode()


def test_the_admin_import_resource_records_unverified_consent(world):
    import tablib

    from clients.resources import ClientResource

    data = tablib.Dataset(headers=["Full Name", "Email", "Accepts Marketing"])
    data.append(["Jane Doe", "jane@example.com", "Yes"])
    data.append(["John Doe", "john@example.com", "No"])
    with all_tenants():
        result = ClientResource(business=world.business).import_data(data, dry_run=False)
        assert result.totals["new"] == 2, [r.errors for r in result.rows]
        jane = Client.objects.get(first_name="Jane")
        john = Client.objects.get(first_name="John")
    (record,) = records(jane)
    assert (record.channel, record.given, record.source, record.verified) == (
        "email",
        True,
        "import",
        False,
    )
    assert records(john) == []
