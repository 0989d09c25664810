"""Reads about vouchers: the list with its search and status counts, a voucher's ledger, and
what a client's profile shows."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Replace
from django.urls import NoReverseMatch

from clients.normalize import fold
from vouchers.models import LedgerKind, Voucher, VoucherLedgerEntry, VoucherStatus
from vouchers.services import business_today, compact_voucher_code

if TYPE_CHECKING:
    from clients.models import Client
    from glamiti.models import Business

PER_PAGE = 50
# Shorter fragments would match codes by chance while the user is typing a name.
MIN_CODE_FRAGMENT = 3


def _search(vouchers: QuerySet[Voucher], term: str) -> QuerySet[Voucher]:
    """Vouchers whose code contains `term` (any case, dashes and spaces ignored), or whose
    purchaser or recipient has every word of `term` in their name or e-mail."""
    term = term.replace("\x00", " ").strip()  # PostgreSQL text cannot hold NUL
    if not term:
        return vouchers
    condition = Q()
    compact = compact_voucher_code(term)
    if len(compact) >= MIN_CODE_FRAGMENT:
        vouchers = vouchers.annotate(plain_code=Replace("code", Value("-"), Value("")))
        condition |= Q(plain_code__contains=compact)
    # Client names are searched through their folded search column (accents ignored);
    # a name only written on the voucher is matched as typed.
    purchaser, recipient, named = Q(), Q(), Q()
    for word in fold(term).split():
        purchaser &= Q(purchaser__search_text__contains=word)
        recipient &= Q(recipient__search_text__contains=word)
    for word in term.split():
        named &= Q(recipient_name__icontains=word)
    if named:
        condition |= purchaser | recipient | named
    return vouchers.filter(condition)


def _status_counts(vouchers: QuerySet[Voucher], on: datetime.date) -> dict[str, int]:
    """How many of `vouchers` have each status on `on` (mirrors VoucherQuerySet.with_status)."""
    live = Q(balance__gt=0, expires_on__gte=on)
    return vouchers.order_by().aggregate(
        all=Count("pk"),
        active=Count("pk", filter=live & Q(balance=F("original_value"))),
        partially_used=Count("pk", filter=live & Q(balance__lt=F("original_value"))),
        fully_redeemed=Count("pk", filter=Q(balance=0)),
        expired=Count("pk", filter=Q(balance__gt=0, expires_on__lt=on)),
    )


@dataclass
class VoucherList:
    page: Page
    counts: dict[str, int]
    today: datetime.date


def voucher_list(
    business: Business,
    *,
    q: str = "",
    status: str = "",
    page: int | str = 1,
    on: datetime.date | None = None,
) -> VoucherList:
    """One page of the business's vouchers matching `q` and `status`, newest first, with the
    count per status for the same search. Three queries whatever the page holds."""
    today = on or business_today(business)
    found = _search(business.vouchers.all(), q)
    counts = _status_counts(found, today)
    if status in VoucherStatus.values:
        found = found.with_status(status, on=today)
    found = found.select_related("purchaser", "recipient").order_by("-issued_on", "-id")
    result = Paginator(found, PER_PAGE).get_page(page)
    result.num_pages = result.paginator.num_pages  # includes/pagination.html shows "of N"
    for voucher in result.object_list:
        voucher.current_status = voucher.status_on(today)
    return VoucherList(page=result, counts=counts, today=today)


@dataclass
class LedgerLine:
    entry: VoucherLedgerEntry
    sale: Any = None  # sales.Sale, when a sale issued, used or gave back this amount
    sale_url: str = ""


def _sale_url(sale: Any) -> str:
    try:
        return sale.get_absolute_url()
    except NoReverseMatch:  # the sales pages may not exist in every build
        return ""


def voucher_ledger(voucher: Voucher) -> list[LedgerLine]:
    """The voucher's ledger, oldest first, each entry with the sale it belongs to if any.

    Sales point at vouchers (never the other way), so the links are read through the
    sales app's foreign keys: the item that sold the voucher, the payments that used it.
    """
    entries = list(voucher.ledger.select_related("created_by").order_by("created_at", "id"))
    sale_by_entry: dict[int, Any] = {}
    for payment in voucher.payments.select_related("sale").filter(voucher_entry__isnull=False):
        sale_by_entry[payment.voucher_entry_id] = payment.sale
    issuing_item = voucher.sale_items.select_related("sale").first()
    lines = []
    for entry in entries:
        sale = sale_by_entry.get(entry.pk)
        if entry.kind == LedgerKind.REFUNDED and entry.reverses_id:
            sale = sale_by_entry.get(entry.reverses_id)
        elif entry.kind == LedgerKind.ISSUED and issuing_item is not None:
            sale = issuing_item.sale
        lines.append(LedgerLine(entry=entry, sale=sale, sale_url=_sale_url(sale) if sale else ""))
    return lines


def client_vouchers(client: Client) -> QuerySet[Voucher]:
    """Vouchers bought by or for `client`, newest first (for the profile's Vouchers tab)."""
    return (
        Voucher.objects.filter(business_id=client.business_id)
        .filter(Q(purchaser=client) | Q(recipient=client))
        .select_related("purchaser", "recipient")
        .order_by("-issued_on", "-id")
    )


def client_voucher_summary(client: Client, *, on: datetime.date | None = None) -> dict:
    """What the profile shows about a client's vouchers, in one query:

    `redeemable_balance` (what vouchers bought by or for them can still pay),
    `redeemable_count`, `count` (all of them), `bought_count` and `received_count`.
    """
    today = on or business_today(client.business)
    redeemable = Q(balance__gt=0, expires_on__gte=today)
    totals = (
        client_vouchers(client)
        .order_by()
        .aggregate(
            count=Count("pk"),
            redeemable_count=Count("pk", filter=redeemable),
            redeemable_balance=Sum("balance", filter=redeemable, default=Decimal("0.00")),
            bought_count=Count("pk", filter=Q(purchaser=client)),
            received_count=Count("pk", filter=Q(recipient=client)),
        )
    )
    return totals
