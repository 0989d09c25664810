"""Vouchers for tests, made through the services so that the ledger always explains the
balance. Call inside `all_tenants()` or `tenant_context(business)`."""

from __future__ import annotations

import datetime
from decimal import Decimal

from vouchers.models import Voucher
from vouchers.services import voucher_issue


def make_voucher(
    business,
    value: Decimal | str | int = "100.00",
    *,
    purchaser=None,
    recipient=None,
    recipient_name: str = "",
    issued_on: datetime.date | None = None,
    expires_on: datetime.date | None = None,
    code: str | None = None,
) -> Voucher:
    """Issue a voucher; `issued_on`/`expires_on` in the past and a fixed `code` are written
    afterwards (the service only issues from today, with a random code)."""
    voucher = voucher_issue(
        business=business,
        value=Decimal(str(value)),
        purchaser=purchaser,
        recipient=recipient,
        recipient_name=recipient_name,
    )
    changes = {}
    if issued_on is None and expires_on is not None and expires_on < voucher.issued_on:
        issued_on = expires_on - datetime.timedelta(days=365)  # keep expires ≥ issued
    if issued_on is not None:
        changes["issued_on"] = issued_on
    if expires_on is not None:
        changes["expires_on"] = expires_on
    if code is not None:
        changes["code"] = code
    if changes:
        Voucher.objects.filter(pk=voucher.pk).update(**changes)
        voucher.refresh_from_db()
    return voucher
