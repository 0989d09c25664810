import datetime
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import Sum

from glamiti.tenancy import tenant_context
from tests.factories import ClientFactory
from tests.factories_vouchers import make_voucher
from vouchers import services
from vouchers.models import LedgerKind, Voucher, VoucherLedgerEntry, VoucherStatus
from vouchers.services import (
    VoucherError,
    business_today,
    generate_voucher_code,
    normalize_voucher_code,
    voucher_adjust,
    voucher_can_void_issue,
    voucher_expire_due,
    voucher_find_redeemable,
    voucher_issue,
    voucher_redeem,
    voucher_refund,
    voucher_void_issue,
)

pytestmark = pytest.mark.django_db

D = Decimal
DAY = datetime.timedelta(days=1)


@pytest.fixture
def shop(world):
    """Inside the first business's tenant, as a request would be."""
    with tenant_context(world.business):
        yield world.business


def assert_ledger_explains(voucher: Voucher) -> None:
    voucher.refresh_from_db()
    entries = list(voucher.ledger.order_by("created_at", "id"))
    assert voucher.ledger.aggregate(total=Sum("amount"))["total"] == voucher.balance
    assert entries[0].kind == LedgerKind.ISSUED
    assert entries[-1].balance_after == voucher.balance
    running = D(0)
    for entry in entries:
        running += entry.amount
        assert entry.balance_after == running


# Codes -----------------------------------------------------------------------------------


def test_codes_are_three_groups_from_an_unambiguous_alphabet():
    codes = {generate_voucher_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)
        assert not set(code) & set("01OIL")


@pytest.mark.parametrize(
    "typed",
    ["K7QX-M4PA-93TR", "k7qx-m4pa-93tr", "K7QXM4PA93TR", " k7qx m4pa 93tr ", "K7-QXM4--PA93TR"],
)
def test_codes_are_normalised_however_they_are_typed(typed):
    assert normalize_voucher_code(typed) == "K7QX-M4PA-93TR"


def test_lookup_accepts_lower_case_and_missing_dashes(shop):
    voucher = make_voucher(shop, code="K7QX-M4PA-93TR")
    assert voucher_find_redeemable(business=shop, code="k7qx m4pa93tr") == voucher


def test_lookup_explains_unknown_used_up_and_expired_codes(shop):
    with pytest.raises(VoucherError, match="No voucher with code ABCD-EFGH-JKMN"):
        voucher_find_redeemable(business=shop, code="abcdefghjkmn")
    with pytest.raises(VoucherError, match="Enter a voucher code"):
        voucher_find_redeemable(business=shop, code=" - ")
    used = make_voucher(shop, "20")
    voucher_redeem(voucher=used, amount=D("20"))
    with pytest.raises(VoucherError, match="used up"):
        voucher_find_redeemable(business=shop, code=used.code)
    expired = make_voucher(shop, expires_on=business_today(shop) - DAY)
    with pytest.raises(VoucherError, match="expired"):
        voucher_find_redeemable(business=shop, code=expired.code)


def test_lookup_never_finds_another_business_voucher(world):
    with tenant_context(world.other_business):
        foreign = make_voucher(world.other_business)
    with tenant_context(world.business), pytest.raises(VoucherError, match="No voucher"):
        voucher_find_redeemable(business=world.business, code=foreign.code)


def test_a_code_collision_draws_another_code(shop, monkeypatch):
    taken = make_voucher(shop).code
    codes = iter([taken, "ZZZZ-YYYY-XXXX"])
    monkeypatch.setattr(services, "generate_voucher_code", lambda: next(codes))
    voucher = voucher_issue(business=shop, value=D("10"), purchaser=None)
    assert voucher.code == "ZZZZ-YYYY-XXXX"
    assert_ledger_explains(voucher)


# Issuing ---------------------------------------------------------------------------------


def test_issue_records_value_people_dates_and_an_issued_entry(shop, world):
    buyer = ClientFactory(business=shop)
    friend = ClientFactory(business=shop, first_name="Bea", last_name="Friend")
    voucher = voucher_issue(
        business=shop, value=D("75.50"), purchaser=buyer, recipient=friend, by=world.staff
    )
    today = business_today(shop)
    assert voucher.original_value == voucher.balance == D("75.50")
    assert voucher.purchaser == buyer and voucher.recipient == friend
    assert voucher.recipient_name == "Bea Friend"
    assert voucher.issued_on == today
    assert voucher.expires_on == services.add_months(today, 12)
    assert voucher.status == VoucherStatus.ACTIVE
    (entry,) = voucher.ledger.all()
    assert (entry.kind, entry.amount, entry.balance_after) == (
        LedgerKind.ISSUED,
        D("75.50"),
        D("75.50"),
    )
    assert entry.created_by == world.staff


def test_default_expiry_is_twelve_months_and_copes_with_leap_days():
    assert services.add_months(datetime.date(2025, 3, 14), 12) == datetime.date(2026, 3, 14)
    assert services.add_months(datetime.date(2028, 2, 29), 12) == datetime.date(2029, 2, 28)
    assert services.add_months(datetime.date(2025, 1, 31), 1) == datetime.date(2025, 2, 28)


@pytest.mark.parametrize("value", ["0", "-5", "1.005", "abc"])
def test_issue_refuses_values_that_are_not_positive_money(shop, value):
    with pytest.raises(VoucherError):
        voucher_issue(business=shop, value=value, purchaser=None)
    assert not Voucher.objects.exists()


def test_issue_refuses_an_expiry_in_the_past(shop):
    with pytest.raises(VoucherError, match="before today"):
        voucher_issue(
            business=shop, value=D("10"), purchaser=None, expires_on=business_today(shop) - DAY
        )


def test_issue_refuses_a_client_of_another_business(world):
    with tenant_context(world.other_business):
        stranger = ClientFactory(business=world.other_business)
    with tenant_context(world.business), pytest.raises(VoucherError, match="not a client"):
        voucher_issue(business=world.business, value=D("10"), purchaser=stranger)


# Status around the expiry date -----------------------------------------------------------


def test_status_on_each_side_of_the_expiry_date(shop):
    expiry = datetime.date(2030, 6, 15)
    voucher = make_voucher(shop, "50", issued_on=datetime.date(2029, 6, 15), expires_on=expiry)
    assert voucher.status_on(expiry - DAY) == VoucherStatus.ACTIVE
    assert voucher.status_on(expiry) == VoucherStatus.ACTIVE  # valid through its last day
    assert voucher.status_on(expiry + DAY) == VoucherStatus.EXPIRED
    assert voucher.is_redeemable(D("10"), on=expiry)[0]
    ok, reason = voucher.is_redeemable(D("10"), on=expiry + DAY)
    assert not ok and "expired on 15 Jun 2030" in reason
    vouchers = Voucher.objects.all()
    assert list(vouchers.with_status(VoucherStatus.ACTIVE, on=expiry)) == [voucher]
    assert list(vouchers.with_status(VoucherStatus.EXPIRED, on=expiry)) == []
    assert list(vouchers.with_status(VoucherStatus.EXPIRED, on=expiry + DAY)) == [voucher]
    assert list(vouchers.redeemable(on=expiry)) == [voucher]
    assert list(vouchers.redeemable(on=expiry + DAY)) == []


def test_redeeming_works_on_the_expiry_day_and_not_the_day_after(shop):
    today = business_today(shop)
    last_day = make_voucher(shop, "50", expires_on=today)
    voucher_redeem(voucher=last_day, amount=D("10"))
    assert last_day.balance == D("40")
    expired = make_voucher(shop, "50", expires_on=today - DAY)
    assert expired.status == VoucherStatus.EXPIRED
    with pytest.raises(VoucherError, match="expired"):
        voucher_redeem(voucher=expired, amount=D("10"))
    expired.refresh_from_db()
    assert expired.balance == D("50")
    assert expired.ledger.count() == 1


def test_a_used_up_voucher_is_fully_redeemed_even_after_expiry(shop):
    voucher = make_voucher(shop, "30", expires_on=datetime.date(2031, 1, 1))
    voucher_redeem(voucher=voucher, amount=D("30"))
    assert voucher.status_on(datetime.date(2031, 1, 2)) == VoucherStatus.FULLY_REDEEMED


# Redeeming -------------------------------------------------------------------------------


def test_redeeming_moves_the_status_from_active_to_partially_used_to_fully_redeemed(shop, world):
    voucher = make_voucher(shop, "100")
    assert voucher.status == VoucherStatus.ACTIVE
    entry = voucher_redeem(voucher=voucher, amount=D("35.25"), by=world.staff, note="Sale 1")
    assert (entry.kind, entry.amount, entry.balance_after) == (
        LedgerKind.REDEEMED,
        D("-35.25"),
        D("64.75"),
    )
    assert entry.created_by == world.staff and entry.note == "Sale 1"
    assert voucher.balance == D("64.75")  # the caller's instance is kept up to date
    assert voucher.status == VoucherStatus.PARTIALLY_USED
    voucher_redeem(voucher=voucher, amount=D("64.75"))
    voucher.refresh_from_db()
    assert voucher.balance == 0
    assert voucher.status == VoucherStatus.FULLY_REDEEMED
    assert_ledger_explains(voucher)


def test_redeeming_more_than_the_balance_is_refused_and_changes_nothing(shop):
    voucher = make_voucher(shop, "50")
    voucher_redeem(voucher=voucher, amount=D("20"))
    with pytest.raises(VoucherError, match="only 30.00 left"):
        voucher_redeem(voucher=voucher, amount=D("30.01"))
    voucher.refresh_from_db()
    assert voucher.balance == D("30")
    assert voucher.ledger.count() == 2


def test_redeeming_a_used_up_voucher_says_so(shop):
    voucher = make_voucher(shop, "10")
    voucher_redeem(voucher=voucher, amount=D("10"))
    with pytest.raises(VoucherError, match="fully used"):
        voucher_redeem(voucher=voucher, amount=D("1"))


@pytest.mark.parametrize("amount", ["0", "-5", "1.001"])
def test_redeeming_needs_a_positive_amount_in_cents(shop, amount):
    voucher = make_voucher(shop, "10")
    with pytest.raises(VoucherError):
        voucher_redeem(voucher=voucher, amount=D(amount))
    assert voucher.ledger.count() == 1


def test_redeeming_a_voucher_of_another_business_is_refused(world):
    with tenant_context(world.business):
        voucher = make_voucher(world.business, "50")
    with tenant_context(world.other_business), pytest.raises(VoucherError, match="business"):
        voucher_redeem(voucher=voucher, amount=D("10"))
    with tenant_context(world.business), pytest.raises(VoucherError, match="business"):
        voucher_redeem(voucher=voucher, amount=D("10"), business=world.other_business)
    with tenant_context(world.business):
        voucher.refresh_from_db()
        assert voucher.balance == D("50")


def test_a_redemption_rolls_back_with_the_checkout_that_made_it(shop):
    voucher = make_voucher(shop, "50")

    class CheckoutFailed(Exception):
        pass

    with pytest.raises(CheckoutFailed), transaction.atomic():
        voucher_redeem(voucher=voucher, amount=D("20"))
        raise CheckoutFailed
    voucher.refresh_from_db()
    assert voucher.balance == D("50")
    assert voucher.ledger.count() == 1


def test_a_refused_redemption_leaves_the_checkout_transaction_usable(shop):
    voucher = make_voucher(shop, "50")
    with transaction.atomic():
        with pytest.raises(VoucherError):
            voucher_redeem(voucher=voucher, amount=D("80"))
        voucher_redeem(voucher=voucher, amount=D("50"))
    voucher.refresh_from_db()
    assert voucher.balance == 0


def test_the_database_refuses_a_negative_balance(shop):
    voucher = make_voucher(shop, "10")
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.filter(pk=voucher.pk).update(balance=D("-0.01"))


# Refunds ---------------------------------------------------------------------------------


def test_refund_gives_back_a_redemption_once(shop, world):
    voucher = make_voucher(shop, "100")
    first = voucher_redeem(voucher=voucher, amount=D("60"))
    voucher_redeem(voucher=voucher, amount=D("40"))
    refund = voucher_refund(entry=first, by=world.manager)
    assert (refund.kind, refund.amount, refund.balance_after) == (
        LedgerKind.REFUNDED,
        D("60"),
        D("60"),
    )
    assert refund.reverses == first and refund.created_by == world.manager
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.PARTIALLY_USED
    with pytest.raises(VoucherError, match="already refunded"):
        voucher_refund(entry=first)
    assert_ledger_explains(voucher)


def test_refund_works_after_the_voucher_has_expired(shop):
    voucher = make_voucher(shop, "100")
    entry = voucher_redeem(voucher=voucher, amount=D("100"))
    Voucher.objects.filter(pk=voucher.pk).update(
        issued_on=business_today(shop) - 400 * DAY, expires_on=business_today(shop) - DAY
    )
    voucher_refund(entry=entry)
    voucher.refresh_from_db()
    assert voucher.balance == D("100")
    assert voucher.status == VoucherStatus.EXPIRED
    assert_ledger_explains(voucher)


def test_only_a_redemption_can_be_refunded(shop):
    voucher = make_voucher(shop, "100")
    with pytest.raises(VoucherError, match="Only a redemption"):
        voucher_refund(entry=voucher.ledger.get())


# Voiding the sale that sold a voucher ----------------------------------------------------


def test_voiding_an_unused_voucher_cancels_its_balance(shop):
    voucher = make_voucher(shop, "80")
    assert voucher_can_void_issue(voucher) == (True, "")
    entry = voucher_void_issue(voucher=voucher)
    assert (entry.kind, entry.amount, entry.balance_after) == (LedgerKind.ADJUSTED, D("-80"), 0)
    voucher.refresh_from_db()
    assert voucher.balance == 0
    with pytest.raises(VoucherError):
        voucher_redeem(voucher=voucher, amount=D("1"))
    assert_ledger_explains(voucher)


def test_voiding_a_used_voucher_is_refused_until_its_redemptions_are_refunded(shop):
    voucher = make_voucher(shop, "80")
    used = voucher_redeem(voucher=voucher, amount=D("30"))
    ok, reason = voucher_can_void_issue(voucher)
    assert not ok
    with pytest.raises(VoucherError, match="already been used; void the sales that used it"):
        voucher_void_issue(voucher=voucher)
    voucher.refresh_from_db()
    assert voucher.balance == D("50")
    voucher_refund(entry=used)
    voucher_void_issue(voucher=voucher)
    voucher.refresh_from_db()
    assert voucher.balance == 0
    assert_ledger_explains(voucher)


# Owner corrections -----------------------------------------------------------------------


def test_adjust_corrects_the_balance_with_a_reason(shop, world):
    voucher = make_voucher(shop, "100")
    voucher_redeem(voucher=voucher, amount=D("50"))
    entry = voucher_adjust(voucher=voucher, amount=D("-20"), by=world.owner, note="Paper slip")
    assert (entry.kind, entry.amount, entry.balance_after) == (
        LedgerKind.ADJUSTED,
        D("-20"),
        D("30"),
    )
    voucher_adjust(voucher=voucher, amount=D("70"), by=world.owner, note="Back to full")
    voucher.refresh_from_db()
    assert voucher.balance == D("100")
    assert_ledger_explains(voucher)


@pytest.mark.parametrize(
    ("amount", "note", "message"),
    [
        ("10", "  ", "Say why"),
        ("0", "Oops", "other than zero"),
        ("-100.01", "Oops", "below zero"),
        ("0.01", "Oops", "above the voucher's value"),
    ],
)
def test_adjust_refuses_bad_corrections(shop, world, amount, note, message):
    voucher = make_voucher(shop, "100")
    with pytest.raises(VoucherError, match=message):
        voucher_adjust(voucher=voucher, amount=D(amount), by=world.owner, note=note)
    assert voucher.ledger.count() == 1


# Expiry entries --------------------------------------------------------------------------


def test_expire_due_records_one_entry_per_expired_voucher_and_keeps_the_balance(shop):
    today = business_today(shop)
    expired = make_voucher(shop, "40", expires_on=today - DAY)
    make_voucher(shop, "40", expires_on=today)  # still valid today
    used_up = make_voucher(shop, "40")
    voucher_redeem(voucher=used_up, amount=D("40"))
    Voucher.objects.filter(pk=used_up.pk).update(
        issued_on=today - 400 * DAY, expires_on=today - 2 * DAY
    )  # expired with nothing left: nothing to record
    assert voucher_expire_due(business=shop, on=today) == 1
    assert voucher_expire_due(business=shop, on=today) == 0
    entry = expired.ledger.get(kind=LedgerKind.EXPIRED)
    assert (entry.amount, entry.balance_after) == (0, D("40"))
    expired.refresh_from_db()
    assert expired.status == VoucherStatus.EXPIRED
    assert_ledger_explains(expired)


def test_every_ledger_entry_carries_the_voucher_business(shop):
    voucher = make_voucher(shop, "40")
    voucher_redeem(voucher=voucher, amount=D("5"))
    assert set(VoucherLedgerEntry.objects.values_list("business_id", flat=True)) == {shop.pk}


def test_expire_vouchers_command_covers_every_business(world):
    for business in (world.business, world.other_business):
        with tenant_context(business):
            make_voucher(business, "10", expires_on=business_today(business) - DAY)
    out = StringIO()
    call_command("expire_vouchers", stdout=out)
    assert "2 voucher(s)" in out.getvalue()
    call_command("expire_vouchers", stdout=out)
    assert "0 voucher(s)" in out.getvalue()
