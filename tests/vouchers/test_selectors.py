import datetime
from decimal import Decimal

import pytest

from glamiti.tenancy import tenant_context
from tests.factories import ClientFactory
from tests.factories_vouchers import make_voucher
from vouchers.selectors import client_voucher_summary, client_vouchers
from vouchers.services import business_today, voucher_redeem

pytestmark = pytest.mark.django_db

D = Decimal
DAY = datetime.timedelta(days=1)


def test_client_summary_counts_what_their_vouchers_can_still_pay(world, django_assert_num_queries):
    with tenant_context(world.business):
        today = business_today(world.business)
        client = ClientFactory(business=world.business)
        other = ClientFactory(business=world.business)
        make_voucher(world.business, "100", purchaser=client)  # bought, unused
        gift = make_voucher(world.business, "50", purchaser=other, recipient=client)
        voucher_redeem(voucher=gift, amount=D("20"))  # received, 30 left
        make_voucher(world.business, "40", purchaser=client, expires_on=today - DAY)  # expired
        used = make_voucher(world.business, "10", purchaser=client)
        voucher_redeem(voucher=used, amount=D("10"))  # used up
        make_voucher(world.business, "70", purchaser=other)  # not theirs
        with django_assert_num_queries(1):
            summary = client_voucher_summary(client)
        assert summary == {
            "count": 4,
            "redeemable_count": 2,
            "redeemable_balance": D("130.00"),
            "bought_count": 3,
            "received_count": 1,
        }
        assert client_vouchers(client).count() == 4


def test_client_without_vouchers_has_a_zero_summary(world):
    with tenant_context(world.business):
        client = ClientFactory(business=world.business)
        summary = client_voucher_summary(client)
    assert summary["redeemable_balance"] == 0
    assert summary["count"] == 0
