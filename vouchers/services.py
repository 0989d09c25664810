"""Writes to vouchers: issue, redeem, refund, void, adjust, expire.

Every change to a balance happens here, under a row lock on the voucher, and writes one
ledger entry, so that `sum(ledger.amount) == balance` always holds and explains the balance.
"""

from __future__ import annotations

import datetime
import re
import secrets
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vouchers.models import LedgerKind, Voucher, VoucherLedgerEntry

if TYPE_CHECKING:
    from clients.models import Client
    from glamiti.models import Business, User

# No 0/O, 1/I/L: every character is unambiguous when read aloud or copied by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_GROUPS = 3
CODE_GROUP_LENGTH = 4
CODE_LENGTH = CODE_GROUPS * CODE_GROUP_LENGTH  # 31**12 ≈ 2**59 codes: not guessable
CODE_ATTEMPTS = 5
DEFAULT_VALIDITY_MONTHS = 12
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # fits DecimalField(max_digits=12, decimal_places=2)


class VoucherError(ValueError):
    """A voucher operation that cannot be done; the message is written for staff."""


# Codes -----------------------------------------------------------------------------------


def generate_voucher_code() -> str:
    """A new random code such as `K7QX-M4PA-93TR` (not checked for uniqueness)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return _group(raw)


def _group(raw: str) -> str:
    step = CODE_GROUP_LENGTH
    return "-".join(raw[i : i + step] for i in range(0, len(raw), step))


def compact_voucher_code(text: str) -> str:
    """Only the letters and digits of `text`, upper case (for partial-code search)."""
    return re.sub(r"[^0-9A-Z]", "", (text or "").upper())


def normalize_voucher_code(text: str) -> str:
    """The stored form of a code however it was typed: `k7qx m4pa93tr` → `K7QX-M4PA-93TR`.

    Case, spaces and dashes do not matter. Text that is not a full code comes back compacted
    (it then simply matches nothing).
    """
    compact = compact_voucher_code(text)
    return _group(compact) if len(compact) == CODE_LENGTH else compact


# Helpers ---------------------------------------------------------------------------------


def business_today(business: Business) -> datetime.date:
    """Today's date where the business is (services also run outside a request)."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(business.time_zone))


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):  # 29 Feb + 12 months → 28 Feb
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _money(amount: Decimal | int | str, *, what: str = "amount") -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise VoucherError(f"Enter the {what} as a number, e.g. 25.00.") from None
    if not value.is_finite():
        raise VoucherError(f"Enter the {what} as a number, e.g. 25.00.")
    if value != value.quantize(CENT):
        raise VoucherError(f"The {what} cannot have more than two decimal places.")
    if abs(value) > MAX_AMOUNT:
        raise VoucherError(f"The {what} is too large.")
    return value.quantize(CENT)


def _lock(voucher: Voucher) -> Voucher:
    """The voucher's row, locked until the (outermost) transaction ends.

    Goes through the scoped manager: inside another business's scope the voucher is not
    found, so a voucher can only be used where it was issued.
    """
    locked = (
        Voucher.objects.select_for_update()
        .filter(pk=voucher.pk, business_id=voucher.business_id)
        .first()
    )
    if locked is None:
        raise VoucherError(f"Voucher {voucher.code} does not belong to this business.")
    return locked


def _set_balance(locked: Voucher, change: Decimal, *, at_least: Decimal = Decimal(0)) -> None:
    """Apply `change` to the locked voucher's balance with a conditional UPDATE.

    The lock already serialises writers; the condition and the database CHECK
    (balance ≥ 0) are further walls in case a caller ever skips the lock.
    """
    try:
        with transaction.atomic():  # a savepoint, so a CHECK failure leaves the caller usable
            updated = Voucher.objects.filter(
                pk=locked.pk, balance__gte=at_least, balance=locked.balance
            ).update(balance=F("balance") + change)
    except IntegrityError:
        updated = 0
    if updated != 1:
        raise VoucherError(
            f"Voucher {locked.code} changed while this was being saved; please try again."
        )
    locked.balance += change


def _entry(
    locked: Voucher,
    *,
    kind: LedgerKind,
    amount: Decimal,
    by: User | None,
    note: str,
    reverses: VoucherLedgerEntry | None = None,
) -> VoucherLedgerEntry:
    return VoucherLedgerEntry.objects.create(
        business_id=locked.business_id,
        voucher=locked,
        kind=kind,
        amount=amount,
        balance_after=locked.balance,
        note=note[:200],
        created_by=by,
        reverses=reverses,
    )


# Services --------------------------------------------------------------------------------


@transaction.atomic
def voucher_issue(
    *,
    business: Business,
    value: Decimal,
    purchaser: Client | None,
    recipient: Client | None = None,
    recipient_name: str = "",
    expires_on: datetime.date | None = None,
    by: User | None = None,
    note: str = "",
) -> Voucher:
    """Issue a new voucher worth `value`, valid until `expires_on` (default: 12 months).

    Writes an ISSUED ledger entry of +value. `purchaser` is None for a complimentary voucher.
    """
    value = _money(value, what="voucher value")
    if value <= 0:
        raise VoucherError("A voucher must be worth more than zero.")
    for client in (purchaser, recipient):
        if client is not None and client.business_id != business.pk:
            raise VoucherError(f"{client} is not a client of {business}.")
    issued_on = business_today(business)
    expires_on = expires_on or add_months(issued_on, DEFAULT_VALIDITY_MONTHS)
    if expires_on < issued_on:
        raise VoucherError("The expiry date cannot be before today.")
    if recipient is not None and not recipient_name:
        recipient_name = recipient.full_name
    for _ in range(CODE_ATTEMPTS):
        code = generate_voucher_code()
        try:
            with transaction.atomic():
                voucher = Voucher.objects.create(
                    business=business,
                    code=code,
                    original_value=value,
                    balance=value,
                    purchaser=purchaser,
                    recipient=recipient,
                    recipient_name=recipient_name.strip()[:120],
                    issued_on=issued_on,
                    expires_on=expires_on,
                    created_by=by,
                )
        except IntegrityError:
            if Voucher.objects.filter(business=business, code=code).exists():
                continue  # the (business, code) unique constraint: draw another code
            raise
        _entry(voucher, kind=LedgerKind.ISSUED, amount=value, by=by, note=note)
        return voucher
    raise VoucherError("Could not find a free voucher code; please try again.")


@transaction.atomic
def voucher_redeem(
    *,
    voucher: Voucher,
    amount: Decimal,
    by: User | None = None,
    note: str = "",
    business: Business | None = None,
) -> VoucherLedgerEntry:
    """Pay `amount` with `voucher`: partial payments allowed, never more than the balance,
    never after the expiry date. Safe when two checkouts use the same voucher at once.

    Locks the voucher row (inside the caller's transaction, if any, until it commits) and
    re-checks after the lock. Writes a REDEEMED entry of −amount and updates `voucher.balance`.
    """
    amount = _money(amount)
    if business is not None and voucher.business_id != business.pk:
        raise VoucherError(f"Voucher {voucher.code} does not belong to this business.")
    locked = _lock(voucher)
    ok, reason = locked.is_redeemable(amount, on=business_today(business or voucher.business))
    if not ok:
        raise VoucherError(reason)
    _set_balance(locked, -amount, at_least=amount)
    entry = _entry(locked, kind=LedgerKind.REDEEMED, amount=-amount, by=by, note=note)
    voucher.balance = locked.balance
    return entry


def voucher_find_redeemable(*, business: Business, code: str) -> Voucher:
    """The voucher of `business` with `code` (typed in any case, with or without dashes),
    if it can still pay for something; otherwise VoucherError saying why not."""
    normalized = normalize_voucher_code(code)
    if not normalized:
        raise VoucherError("Enter a voucher code.")
    voucher = business.vouchers.filter(code=normalized).first()
    if voucher is None:
        raise VoucherError(f"No voucher with code {normalized}.")
    if voucher.balance <= 0:
        raise VoucherError(f"Voucher {voucher.code} has been used up.")
    if business_today(business) > voucher.expires_on:
        raise VoucherError(
            f"Voucher {voucher.code} expired on {voucher.expires_on:%d %b %Y} "
            f"with {voucher.balance} left."
        )
    return voucher


@transaction.atomic
def voucher_refund(
    *, entry: VoucherLedgerEntry, by: User | None = None, note: str = ""
) -> VoucherLedgerEntry:
    """Give back a redemption because the sale it paid for was voided.

    Writes a REFUNDED entry of +amount, even if the voucher has expired since (the status
    then shows "Expired" with that balance). A redemption is refunded at most once.
    """
    if entry.kind != LedgerKind.REDEEMED:
        raise VoucherError("Only a redemption can be refunded.")
    locked = _lock(entry.voucher)
    if VoucherLedgerEntry.objects.filter(reverses=entry).exists():
        raise VoucherError(f"This payment with voucher {locked.code} was already refunded.")
    _set_balance(locked, -entry.amount)
    try:
        with transaction.atomic():
            refund = _entry(
                locked,
                kind=LedgerKind.REFUNDED,
                amount=-entry.amount,
                by=by,
                note=note or "Sale voided",
                reverses=entry,
            )
    except IntegrityError:
        raise VoucherError(
            f"This payment with voucher {locked.code} was already refunded."
        ) from None
    entry.voucher.balance = locked.balance
    return refund


def voucher_can_void_issue(voucher: Voucher) -> tuple[bool, str]:
    """Whether the sale that sold `voucher` may be voided (no redemption still stands)."""
    used = voucher.ledger.filter(kind=LedgerKind.REDEEMED, reversal__isnull=True).exists()
    if used:
        return False, (
            f"Voucher {voucher.code} has already been used; void the sales that used it first."
        )
    return True, ""


@transaction.atomic
def voucher_void_issue(
    *, voucher: Voucher, by: User | None = None, note: str = ""
) -> VoucherLedgerEntry:
    """Cancel a voucher because the sale that sold it was voided.

    Only while no redemption of it stands (refunded ones don't count): its balance goes to
    zero with an ADJUSTED entry. Otherwise VoucherError: void the sales that used it first.
    """
    locked = _lock(voucher)
    ok, reason = voucher_can_void_issue(locked)
    if not ok:
        raise VoucherError(reason)
    change = -locked.balance
    _set_balance(locked, change)
    entry = _entry(
        locked,
        kind=LedgerKind.ADJUSTED,
        amount=change,
        by=by,
        note=note or "Sale voided: voucher cancelled",
    )
    voucher.balance = locked.balance
    return entry


@transaction.atomic
def voucher_adjust(
    *, voucher: Voucher, amount: Decimal, by: User | None, note: str
) -> VoucherLedgerEntry:
    """An owner's correction of the balance by a signed `amount`, with a required reason.

    The balance stays between 0 and the voucher's original value: a correction puts right
    what the ledger got wrong; giving more value is a new (complimentary) voucher, which has
    its own code, expiry and history.
    """
    amount = _money(amount)
    note = (note or "").strip()
    if not note:
        raise VoucherError("Say why the balance is being corrected.")
    if amount == 0:
        raise VoucherError("Enter an amount other than zero: positive adds, negative removes.")
    locked = _lock(voucher)
    new_balance = locked.balance + amount
    if new_balance < 0:
        raise VoucherError(
            f"Voucher {locked.code} has {locked.balance} left; it cannot go below zero."
        )
    if new_balance > locked.original_value:
        raise VoucherError(
            f"The balance cannot go above the voucher's value of {locked.original_value}. "
            "To give more, issue a new voucher."
        )
    _set_balance(locked, amount)
    entry = _entry(locked, kind=LedgerKind.ADJUSTED, amount=amount, by=by, note=note)
    voucher.balance = locked.balance
    return entry


@transaction.atomic
def voucher_expire_due(*, business: Business, on: datetime.date) -> int:
    """Record an EXPIRED entry for each voucher of `business` that expired before `on` with
    a balance left and has none yet. Returns how many were recorded.

    The entry's amount is 0 and the balance is kept: the status stays "Expired" with what was
    left (which reports on unused value need), a voided sale can still refund into it, and the
    ledger still sums to the balance.
    """
    due = (
        Voucher.objects.filter(business=business, balance__gt=0, expires_on__lt=on)
        .exclude(ledger__kind=LedgerKind.EXPIRED)
        .select_for_update()
    )
    entries = [
        VoucherLedgerEntry(
            business_id=business.pk,
            voucher=voucher,
            kind=LedgerKind.EXPIRED,
            amount=Decimal(0),
            balance_after=voucher.balance,
            note=f"Expired on {voucher.expires_on:%d %b %Y} with {voucher.balance} left",
        )
        for voucher in due
    ]
    VoucherLedgerEntry.objects.bulk_create(entries)
    return len(entries)
