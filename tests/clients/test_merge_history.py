"""Merging moves the whole history (appointments, sales, notes, vouchers); undo moves it back."""

import pytest

from clients.merge import client_merge, client_merge_undo
from clients.models import ClientNote
from glamiti.tenancy import tenant_context
from tests.factories import ClientFactory
from tests.factories_appointments import AppointmentFactory
from tests.factories_sales import make_sale
from tests.factories_vouchers import make_voucher

pytestmark = pytest.mark.django_db


def test_merge_moves_appointments_sales_notes_and_vouchers_and_undo_moves_them_back(world):
    business = world.business
    with tenant_context(business):
        kept = ClientFactory(business=business, first_name="Ann", last_name="Lee")
        merged = ClientFactory(business=business, first_name="Anne", last_name="Lee")
        appointment = AppointmentFactory(business=business, client=merged)
        sale = make_sale(business, client=merged)
        note = ClientNote.objects.create(business=business, client=merged, text="Likes tea")
        voucher = make_voucher(business, purchaser=merged, recipient=merged)

        merge = client_merge(kept=kept, merged=merged, by=world.owner)
        for row in (appointment, sale, note):
            row.refresh_from_db()
            assert row.client == kept
        voucher.refresh_from_db()
        assert voucher.purchaser == kept and voucher.recipient == kept
        kept.refresh_from_db()
        assert kept.total_spend == sale.total  # the sales app recomputed the kept client's spend

        client_merge_undo(merge=merge, by=world.owner)
        for row in (appointment, sale, note):
            row.refresh_from_db()
            assert row.client == merged
        voucher.refresh_from_db()
        assert voucher.purchaser == merged and voucher.recipient == merged
        kept.refresh_from_db()
        merged.refresh_from_db()
        assert kept.total_spend == 0 and merged.total_spend == sale.total
        assert merged.archived_at is None
