"""Erasure: `forget_client` removes a client's values from the trail, keeps who, when,
where and which field, and records the erasure itself."""

import json

import pytest

from audit.context import Event
from audit.models import AuditEntry
from audit.services import forget_client
from clients.models import Client, ClientNote, NoteKind
from glamiti.tenancy import tenant_context
from sales.models import Sale
from tests.audit.conftest import activity_url, entries
from tests.factories import ClientFactory
from tests.factories_sales import make_sale
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(world):
    """A client with a past: edits, a note, a sale with a note, a voucher for them by name."""
    with all_tenants():
        ana = ClientFactory(
            business=world.business, first_name="Anastasia", email="anastasia@example.com"
        )
        other = ClientFactory(business=world.business, first_name="Bruno", city="Braga")
    with tenant_context(world.business):
        ana = Client.objects.get(pk=ana.pk)
        ana.mobile_phone = "+447911123456"
        ana.alert = "Allergic to hazelnuts"
        ana.save()
        ClientNote.objects.create(
            business=world.business, client=ana, kind=NoteKind.ALLERGY, text="Hazelnut oil"
        )
        sale = make_sale(world.business, client=ana)
        Sale.objects.filter(pk=sale.pk).update(note="Paid for Anastasia's sister")
        make_voucher(world.business, "40.00", recipient=ana, recipient_name="Anastasia Jones")
        other_client = Client.objects.get(pk=other.pk)
        other_client.city = "Faro"
        other_client.save()
    return ana, other, sale


def text_of(rows) -> str:
    return json.dumps(
        [(e.changes, e.object_repr, e.additional_data, e.serialized_data) for e in rows],
        default=str,
    )


def test_forget_removes_the_values_and_keeps_who_when_and_which_field(world, history):
    ana, other, sale = history
    before = entries(client_id=ana.pk)
    assert "Anastasia" in text_of(before) and "hazelnut" in text_of(before).lower()
    with tenant_context(world.business):
        count = forget_client(Client.objects.get(pk=ana.pk), by=world.owner)
    after = entries(client_id=ana.pk)
    assert count == len(before)
    kept = after[: len(before)]
    text = text_of(kept)
    for secret in ("Anastasia", "anastasia@", "+447911123456", "azelnut", "sister"):
        assert secret not in text, secret
    # Who, when, where and which fields stay.
    assert [(e.pk, e.actor_id, e.timestamp, e.source, e.content_type_id) for e in kept] == [
        (e.pk, e.actor_id, e.timestamp, e.source, e.content_type_id) for e in before
    ]
    assert [sorted(e.changes or {}) for e in kept] == [sorted(e.changes or {}) for e in before]
    assert all(e.values_erased for e in kept)
    # Amounts stay for the accounts; only the sale's personal fields go.
    sale_entries = [e for e in kept if e.content_type.model == "sale"]
    assert any((e.changes or {}).get("total") == [None, "20.00"] for e in sale_entries)
    assert all((e.changes or {}).get("note", [None, None]) == [None, None] for e in sale_entries)
    (voucher,) = [e for e in kept if e.content_type.model == "voucher"]
    assert voucher.changes["original_value"] == [None, "40.00"]
    assert voucher.changes["recipient_name"] == [None, None]
    # The erasure itself is recorded, without values.
    erased = after[-1]
    assert erased.event == Event.ERASED and erased.actor == world.owner
    assert erased.changes is None and erased.client_id == ana.pk
    # Other clients' entries are untouched.
    assert "Faro" in text_of(entries(client_id=other.pk))


def test_an_erased_clients_activity_log_shows_no_values(as_owner, world, history):
    ana, _, _ = history
    with tenant_context(world.business):
        forget_client(Client.objects.get(pk=ana.pk), by=world.owner)
    page = as_owner.get(activity_url(world, ana), headers={"HX-Request": "true"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Client erased" in body and "removed at erasure" in body
    assert "+447911123456" not in body and "Hazelnut" not in body and "hazelnuts" not in body
    assert 'name="field"' not in body  # nothing to revert


def test_forgetting_twice_is_harmless(world, history):
    ana, _, _ = history
    with tenant_context(world.business):
        forget_client(Client.objects.get(pk=ana.pk))
        forget_client(Client.objects.get(pk=ana.pk))
    erased = [e for e in entries(client_id=ana.pk) if e.event == Event.ERASED]
    assert len(erased) == 2 and all(e.values_erased for e in erased)
    assert erased[0].action == AuditEntry.Action.UPDATE
