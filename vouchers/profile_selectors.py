"""What the client profile reads about vouchers beyond vouchers.selectors: the timeline rows
(voucher events) and the Vouchers tab with each voucher's ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet

from clients.profile_common import timeline_rows
from vouchers.models import Voucher, VoucherLedgerEntry
from vouchers.selectors import client_voucher_summary, client_vouchers

if TYPE_CHECKING:
    from clients.models import Client

__all__ = ["client_voucher_summary", "client_voucher_timeline", "client_vouchers_with_ledger"]


def client_voucher_timeline(client: Client) -> QuerySet:
    """Ledger entries of the vouchers bought by or for `client`, as timeline rows."""
    entries = VoucherLedgerEntry.objects.filter(
        Q(voucher__purchaser=client) | Q(voucher__recipient=client)
    )
    return timeline_rows(
        entries,
        kind="voucher",
        at="created_at",
        status="kind",
        amount="amount",
        balance="balance_after",
        text="note",
        ref="voucher__code",
        ref_id="voucher_id",
    )


def client_vouchers_with_ledger(client: Client) -> QuerySet[Voucher]:
    """Vouchers bought by or for `client`, newest first, each with its ledger (one more
    query per page of vouchers)."""
    ledger = VoucherLedgerEntry.objects.select_related("created_by").order_by("created_at", "id")
    return client_vouchers(client).prefetch_related(Prefetch("ledger", queryset=ledger))
