"""What the client profile reads about vouchers beyond vouchers.selectors: the overview's
balance, the timeline rows (voucher events) and the Vouchers tab with each voucher's ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from clients.profile_common import timeline_rows
from vouchers.models import Voucher, VoucherLedgerEntry
from vouchers.selectors import client_vouchers
from vouchers.services import business_today

if TYPE_CHECKING:
    from clients.models import Client


def client_voucher_balance(client: Client) -> dict:
    """What the vouchers bought by or for `client` can still pay, and how many can: one
    aggregate query. (vouchers.selectors.client_voucher_summary gives more numbers; the
    overview needs only these two, and each aggregate costs time to build.)"""
    usable = client_vouchers(client).redeemable(on=business_today(client.business))
    return usable.order_by().aggregate(
        redeemable_balance=Sum("balance", default=Decimal("0.00")),
        redeemable_count=Count("balance"),
    )


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
