"""Two checkouts redeeming the same voucher at the same moment can never overspend it.

PostgreSQL only: SQLite serialises whole-database writes, so there is no race to lose.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from glamiti.tenancy import tenant_context
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants
from vouchers.models import LedgerKind, Voucher
from vouchers.services import VoucherError, voucher_redeem

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)"),
]

WAIT = 30  # seconds; only reached if something is badly wrong, never part of a pass


def _in_own_connection(work):
    """Run `work` in this thread with its own database connection, closed at the end."""

    def run():
        try:
            work()
        finally:
            connection.close()

    return run


def test_two_simultaneous_redemptions_cannot_overspend_a_voucher(world):
    with all_tenants():
        voucher = make_voucher(world.business, "100.00")
    barrier = threading.Barrier(2, timeout=WAIT)
    outcomes: list[object] = []
    lock = threading.Lock()

    def checkout():
        try:
            with tenant_context(world.business), transaction.atomic():
                # Both checkouts have read a balance of 100 before either writes.
                mine = Voucher.objects.get(pk=voucher.pk)
                assert mine.balance == Decimal("100.00")
                barrier.wait()
                voucher_redeem(voucher=mine, amount=Decimal("60.00"))
            result: object = "paid"
        except VoucherError as error:
            result = error
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=_in_own_connection(checkout)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)

    assert len(outcomes) == 2
    assert outcomes.count("paid") == 1
    (refused,) = [o for o in outcomes if isinstance(o, VoucherError)]
    assert "only 40.00 left" in str(refused)
    with all_tenants():
        voucher.refresh_from_db()
        assert voucher.balance == Decimal("40.00")
        assert voucher.ledger.filter(kind=LedgerKind.REDEEMED).count() == 1
        assert [e.balance_after for e in voucher.ledger.all()] == [Decimal("100"), Decimal("40")]


def _someone_waits_for_a_row_lock(own_pids: set[int]) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        return bool({pid for (pid,) in cursor.fetchall()} & own_pids)


def test_the_second_checkout_waits_for_the_first_and_then_sees_the_new_balance(world):
    """The lock, not luck: the second redemption blocks until the first commits."""
    with all_tenants():
        voucher = make_voucher(world.business, "100.00")
    first_redeemed = threading.Event()
    may_commit = threading.Event()
    pids: set[int] = set()
    outcomes: dict[str, object] = {}

    def first():
        with tenant_context(world.business), transaction.atomic():
            mine = Voucher.objects.get(pk=voucher.pk)
            pids.add(connection.connection.info.backend_pid)
            outcomes["first"] = voucher_redeem(voucher=mine, amount=Decimal("60"))
            first_redeemed.set()
            may_commit.wait(WAIT)  # hold the lock until the second checkout is seen waiting

    def second():
        first_redeemed.wait(WAIT)
        try:
            with tenant_context(world.business), transaction.atomic():
                mine = Voucher.objects.get(pk=voucher.pk)  # still reads 100: not committed
                assert mine.balance == Decimal("100")
                pids.add(connection.connection.info.backend_pid)
                voucher_redeem(voucher=mine, amount=Decimal("60"))
            outcomes["second"] = "paid"
        except VoucherError as error:
            outcomes["second"] = error

    threads = [threading.Thread(target=_in_own_connection(f)) for f in (first, second)]
    for thread in threads:
        thread.start()
    assert first_redeemed.wait(WAIT)
    blocked = False
    for _ in range(WAIT * 20):
        if _someone_waits_for_a_row_lock(pids):
            blocked = True
            break
        threading.Event().wait(0.05)
    may_commit.set()
    for thread in threads:
        thread.join(WAIT)

    assert blocked, "the second redemption should wait for the first one's row lock"
    assert isinstance(outcomes["second"], VoucherError)
    with all_tenants():
        voucher.refresh_from_db()
        assert voucher.balance == Decimal("40")
