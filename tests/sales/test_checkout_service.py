"""The checkout service: totals, tips, payments, vouchers, appointments, idempotency."""

import datetime
import uuid
from decimal import Decimal as D

import pytest
from django.utils import timezone

from appointments.models import AppointmentStatus
from clients.merge import client_merge, client_merge_undo
from glamiti.tenancy import tenant_context
from sales import services
from sales.checkout import allocate_tip, checkout_totals
from sales.models import FeedbackLink, ItemKind, Payment, Sale, SaleItem, SaleStatus, TipAllocation
from sales.services import CheckoutError, ItemLine, PaymentLine, TipLine, checkout
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_appointments import (
    AppointmentFactory,
    AppointmentServiceFactory,
    ServiceFactory,
)
from tests.factories_sales import ProductFactory
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants
from vouchers.models import LedgerKind, Voucher, VoucherLedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    """Inside the business's scope: a service, a product, two team members, a client."""
    business = world.business
    with tenant_context(business):
        yield {
            "business": business,
            "service": ServiceFactory(business=business, name="Cut", price=D("40.00")),
            "product": ProductFactory(business=business, name="Shampoo", price=D("12.50")),
            "anna": TeamMemberFactory(business=business, name="Anna"),
            "ben": TeamMemberFactory(business=business, name="Ben"),
            "client": ClientFactory(business=business),
            "by": world.owner,
        }


def service_line(shop, **kwargs):
    return ItemLine(kind=ItemKind.SERVICE, service=shop["service"], unit_price=D("40.00"), **kwargs)


def product_line(shop, **kwargs):
    kwargs.setdefault("unit_price", D("12.50"))
    return ItemLine(kind=ItemKind.PRODUCT, product=shop["product"], **kwargs)


def do_checkout(shop, *, items, payments=None, tip="0", tips=(), client=None, key=None, **kw):
    tip = D(tip)
    if payments is None:
        due = checkout_totals(items=items, tip=tip).due
        payments = [PaymentLine(method="card_terminal", amount=due)] if due else []
    return checkout(
        business=shop["business"],
        idempotency_key=key or uuid.uuid4(),
        client=client,
        appointment=kw.pop("appointment", None),
        items=items,
        payments=payments,
        tips=list(tips),
        tip=tip,
        by=shop["by"],
        **kw,
    )


# --- Totals ------------------------------------------------------------------------------


def test_totals_with_quantities_and_discounts(shop):
    sale = do_checkout(
        shop,
        items=[
            service_line(shop, discount=D("5.00")),
            product_line(shop, quantity=3, discount=D("2.50")),
        ],
    )
    assert sale.subtotal == D("77.50")  # 40 + 3 × 12.50
    assert sale.discount_total == D("7.50")
    assert sale.total == D("70.00")
    assert sale.status == SaleStatus.COMPLETED
    assert sale.completed_at is not None
    lines = {i.kind: i for i in sale.items.all()}
    assert lines["service"].total == D("35.00")
    assert lines["product"].total == D("35.00")
    assert lines["product"].quantity == 3
    assert lines["product"].description == "Shampoo"


def test_totals_are_split_per_kind(shop):
    voucher_line = ItemLine(kind=ItemKind.VOUCHER, unit_price=D("25.00"))
    sale = do_checkout(
        shop,
        items=[service_line(shop), product_line(shop, quantity=2), voucher_line],
        client=shop["client"],
    )
    assert (sale.services_total, sale.products_total, sale.vouchers_total) == (
        D("40.00"),
        D("25.00"),
        D("25.00"),
    )
    assert sale.total == D("90.00")


def test_a_discount_never_makes_a_line_negative():
    line = ItemLine(kind=ItemKind.PRODUCT, unit_price=D("10"), quantity=1, discount=D("15"))
    assert line.total == D("0.00")
    assert line.applied_discount == D("10.00")


def test_a_sale_needs_an_item(shop):
    with pytest.raises(CheckoutError, match="at least one item"):
        do_checkout(shop, items=[])


def test_vouchers_are_sold_one_per_line(shop):
    with pytest.raises(CheckoutError, match="one voucher per line"):
        do_checkout(shop, items=[ItemLine(kind=ItemKind.VOUCHER, unit_price=D("20"), quantity=2)])


# --- Tips --------------------------------------------------------------------------------


def test_tip_split_by_amounts(shop):
    sale = do_checkout(
        shop,
        items=[service_line(shop)],
        tip="10.00",
        tips=[TipLine(shop["anna"], amount=D("6.00")), TipLine(shop["ben"], amount=D("4.00"))],
    )
    assert sale.tip_total == D("10.00")
    assert {t.team_member.name: t.amount for t in sale.tips.all()} == {
        "Anna": D("6.00"),
        "Ben": D("4.00"),
    }
    tip = sale.tips.first()
    assert tip.business == shop["business"] and tip.created_at is not None
    assert sale.payments.get().amount == D("50.00")  # the total and the tip


def test_tip_split_by_percentages_puts_the_remainder_cent_on_the_first(shop):
    anna, ben, cara = shop["anna"], shop["ben"], TeamMemberFactory(business=shop["business"])
    shares = [TipLine(m, percent=D("33.33")) for m in (anna, ben)] + [
        TipLine(cara, percent=D("33.34"))
    ]
    sale = do_checkout(shop, items=[service_line(shop)], tip="10.00", tips=shares)
    amounts = {t.team_member_id: t.amount for t in sale.tips.all()}
    assert amounts == {anna.pk: D("3.34"), ben.pk: D("3.33"), cara.pk: D("3.33")}
    assert sum(amounts.values()) == D("10.00")


def test_even_percentage_split_of_an_odd_tip(shop):
    shares = [TipLine(shop["anna"], percent=D(50)), TipLine(shop["ben"], percent=D(50))]
    assert [a for _, a in allocate_tip(D("5.01"), shares, "GBP")] == [D("2.51"), D("2.50")]


@pytest.mark.parametrize(
    ("tips", "message"),
    [
        (lambda s: [TipLine(s["anna"], amount=D("4"))], "£6.00 still to allocate"),
        (
            lambda s: [TipLine(s["anna"], amount=D("8")), TipLine(s["ben"], amount=D("5"))],
            "£3.00 too much allocated",
        ),
        (lambda s: [TipLine(s["anna"], percent=D("90"))], "add up to 90%, not 100%"),
        (
            lambda s: [TipLine(s["anna"], percent=D("50")), TipLine(s["ben"], amount=D("5"))],
            "not a mix",
        ),
        (
            lambda s: [TipLine(s["anna"], amount=D("5")), TipLine(s["anna"], amount=D("5"))],
            "appears twice",
        ),
        (lambda s: [], "Choose who receives the tip"),
    ],
)
def test_tips_that_do_not_add_up_are_refused(shop, tips, message):
    with pytest.raises(CheckoutError, match=message):
        do_checkout(shop, items=[service_line(shop)], tip="10.00", tips=tips(shop))
    assert not Sale.objects.exists()


def test_percentage_shares_of_no_tip_give_nothing(shop):
    sale = do_checkout(
        shop, items=[service_line(shop)], tip="0", tips=[TipLine(shop["anna"], percent=D(100))]
    )
    assert sale.tip_total == 0
    assert not sale.tips.exists()


# --- Payments ----------------------------------------------------------------------------


def test_payments_short_of_the_total_and_tip_are_refused_with_what_is_missing(shop):
    with pytest.raises(CheckoutError) as caught:
        do_checkout(
            shop,
            items=[service_line(shop)],
            tip="5",
            tips=[TipLine(shop["anna"], amount=D("5"))],
            payments=[PaymentLine(method="cash", amount=D("40"))],
        )
    assert caught.value.section == "payments"
    assert "£45.00 (£40.00 and a £5.00 tip)" in caught.value.message
    assert "£5.00 is still to pay" in caught.value.message
    assert not Sale.objects.exists()


def test_payments_over_the_total_are_refused(shop):
    with pytest.raises(CheckoutError, match="£10.00 more than"):
        do_checkout(
            shop, items=[service_line(shop)], payments=[PaymentLine(method="cash", amount=D(50))]
        )


def test_split_payment_cash_and_card(shop):
    sale = do_checkout(
        shop,
        items=[service_line(shop)],
        payments=[
            PaymentLine(method="cash", amount=D("15")),
            PaymentLine(method="card_terminal", amount=D("25")),
        ],
    )
    assert sorted(p.method for p in sale.payments.all()) == ["card_terminal", "cash"]
    assert sale.paid_total == D("40.00")


# --- Vouchers ----------------------------------------------------------------------------


def test_buying_a_voucher_issues_it_to_the_client(shop):
    line = ItemLine(kind=ItemKind.VOUCHER, unit_price=D("50"), voucher_recipient_name="Mum")
    sale = do_checkout(shop, items=[line], client=shop["client"])
    item = sale.items.get()
    voucher = item.voucher
    assert voucher.original_value == voucher.balance == D("50.00")
    assert voucher.purchaser == shop["client"]
    assert voucher.recipient_name == "Mum"
    assert item.description == "Gift voucher for Mum"
    assert voucher.ledger.get().kind == LedgerKind.ISSUED


def test_paying_part_of_a_sale_with_a_voucher(shop):
    voucher = make_voucher(shop["business"], "30.00")
    sale = do_checkout(
        shop,
        items=[service_line(shop)],
        payments=[
            PaymentLine(method="voucher", amount=D("30"), voucher_code=voucher.code.lower()),
            PaymentLine(method="cash", amount=D("10")),
        ],
    )
    voucher.refresh_from_db()
    assert voucher.balance == D("0.00")
    payment = sale.payments.get(method="voucher")
    assert payment.voucher == voucher
    assert payment.voucher_entry.kind == LedgerKind.REDEEMED
    assert payment.voucher_entry.amount == D("-30.00")


def test_partial_redemption_leaves_the_rest_on_the_voucher(shop):
    voucher = make_voucher(shop["business"], "100.00")
    do_checkout(
        shop,
        items=[service_line(shop)],
        payments=[PaymentLine(method="voucher", amount=D("40"), voucher_code=voucher.code)],
    )
    voucher.refresh_from_db()
    assert voucher.balance == D("60.00")


def test_a_voucher_payment_over_its_balance_rolls_back_everything(shop):
    voucher = make_voucher(shop["business"], "20.00")
    other = make_voucher(shop["business"], "10.00")
    appointment = AppointmentFactory(
        business=shop["business"], start_at=timezone.now() - datetime.timedelta(hours=1)
    )
    with pytest.raises(CheckoutError) as caught:
        do_checkout(
            shop,
            appointment=appointment,
            client=shop["client"],
            items=[service_line(shop), ItemLine(kind=ItemKind.VOUCHER, unit_price=D("30"))],
            payments=[
                PaymentLine(method="voucher", amount=D("10"), voucher_code=other.code),
                PaymentLine(method="voucher", amount=D("25"), voucher_code=voucher.code),
                PaymentLine(method="cash", amount=D("35")),
            ],
        )
    assert caught.value.section == "payments" and caught.value.index == 1
    assert "only 20.00 left" in caught.value.message
    other.refresh_from_db()
    voucher.refresh_from_db()
    appointment.refresh_from_db()
    assert (other.balance, voucher.balance) == (D("10.00"), D("20.00"))
    assert not Sale.objects.exists()
    assert not SaleItem.objects.exists() and not Payment.objects.exists()
    assert Voucher.objects.count() == 2  # the one being bought was never issued
    assert VoucherLedgerEntry.objects.filter(kind=LedgerKind.REDEEMED).count() == 0
    assert appointment.status == AppointmentStatus.BOOKED


def test_an_unknown_voucher_code_is_refused(shop):
    with pytest.raises(CheckoutError, match="No voucher with code"):
        do_checkout(
            shop,
            items=[service_line(shop)],
            payments=[PaymentLine(method="voucher", amount=D("40"), voucher_code="NOPE")],
        )


def test_another_business_voucher_cannot_pay(shop, world):
    with all_tenants():
        foreign = make_voucher(world.other_business, "100.00")
    with pytest.raises(CheckoutError, match="No voucher with code"):
        do_checkout(
            shop,
            items=[service_line(shop)],
            payments=[PaymentLine(method="voucher", amount=D("40"), voucher_code=foreign.code)],
        )


# --- Double submit -----------------------------------------------------------------------


def test_the_same_key_twice_makes_one_sale(shop):
    key = uuid.uuid4()
    voucher = make_voucher(shop["business"], "100.00")
    payments = [PaymentLine(method="voucher", amount=D("40"), voucher_code=voucher.code)]
    first = do_checkout(shop, items=[service_line(shop)], payments=payments, key=key)
    second = do_checkout(shop, items=[service_line(shop)], payments=payments, key=key)
    assert first.pk == second.pk
    assert Sale.objects.count() == 1
    voucher.refresh_from_db()
    assert voucher.balance == D("60.00")  # redeemed once


def test_a_racing_double_submit_finds_the_first_sale(shop, monkeypatch):
    """Both requests passed the first lookup; the second hits the unique key."""
    key = uuid.uuid4()
    first = do_checkout(shop, items=[service_line(shop)], key=key)
    real_lookup = services._existing_sale
    calls = []

    def stale_first_lookup(business, idempotency_key):
        calls.append(idempotency_key)
        return None if len(calls) == 1 else real_lookup(business, idempotency_key)

    monkeypatch.setattr(services, "_existing_sale", stale_first_lookup)
    second = do_checkout(shop, items=[service_line(shop)], key=key)
    assert second.pk == first.pk
    assert Sale.objects.count() == 1
    assert SaleItem.objects.count() == 1
    assert len(calls) == 2


def test_the_same_key_in_two_businesses_is_two_sales(world):
    key = uuid.uuid4()
    sales = []
    for business in (world.business, world.other_business):  # one tenant at a time
        with tenant_context(business):
            sales.append(
                checkout(
                    business=business,
                    idempotency_key=key,
                    client=None,
                    appointment=None,
                    items=[ItemLine(kind=ItemKind.VOUCHER, unit_price=D("5"))],
                    payments=[PaymentLine(method="cash", amount=D("5"))],
                    tips=[],
                    by=None,
                )
            )
    assert sales[0].pk != sales[1].pk
    assert [sale.business for sale in sales] == [world.business, world.other_business]


# --- Appointments, spend, feedback link ---------------------------------------------------


def test_checking_out_a_booked_appointment_completes_it(shop):
    appointment = AppointmentFactory(
        business=shop["business"],
        client=shop["client"],
        team_member=shop["anna"],
        start_at=timezone.now() - datetime.timedelta(minutes=30),
    )
    AppointmentServiceFactory(appointment=appointment, service=shop["service"])
    sale = do_checkout(
        shop, appointment=appointment, client=shop["client"], items=[service_line(shop)]
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    assert sale.appointment == appointment
    shop["client"].refresh_from_db()
    assert shop["client"].last_visit_at is not None


def test_an_appointment_is_paid_only_once(shop):
    appointment = AppointmentFactory(
        business=shop["business"], start_at=timezone.now() - datetime.timedelta(minutes=30)
    )
    first = do_checkout(shop, appointment=appointment, items=[service_line(shop)])
    with pytest.raises(CheckoutError, match=f"already paid in sale #{first.pk}"):
        do_checkout(shop, appointment=appointment, items=[service_line(shop)])


def test_a_future_appointment_cannot_be_checked_out(shop):
    appointment = AppointmentFactory(
        business=shop["business"], start_at=timezone.now() + datetime.timedelta(days=2)
    )
    with pytest.raises(CheckoutError) as caught:
        do_checkout(shop, appointment=appointment, items=[service_line(shop)])
    assert caught.value.section == "appointment"
    assert not Sale.objects.exists()


def test_checkout_updates_the_client_total_spend_without_tips(shop):
    client = shop["client"]
    do_checkout(
        shop,
        client=client,
        items=[service_line(shop)],
        tip="5",
        tips=[TipLine(shop["anna"], amount=D(5))],
    )
    do_checkout(shop, client=client, items=[product_line(shop)])
    client.refresh_from_db()
    assert client.total_spend == D("52.50")


def test_each_sale_gets_a_feedback_link_for_30_days(shop):
    sale = do_checkout(shop, items=[service_line(shop)])
    link = FeedbackLink.objects.get(sale=sale)
    assert len(link.token) >= 40
    assert link.used_at is None
    assert link.expires_at - sale.completed_at == datetime.timedelta(days=30)


def test_merging_clients_moves_their_spend(shop, world):
    kept, merged = shop["client"], ClientFactory(business=shop["business"])
    do_checkout(shop, client=kept, items=[service_line(shop)])
    do_checkout(shop, client=merged, items=[product_line(shop)])
    merge = client_merge(kept=kept, merged=merged, by=world.owner)
    kept.refresh_from_db()
    merged.refresh_from_db()
    assert (kept.total_spend, merged.total_spend) == (D("52.50"), D("0"))
    client_merge_undo(merge=merge, by=world.owner)
    kept.refresh_from_db()
    merged.refresh_from_db()
    assert (kept.total_spend, merged.total_spend) == (D("40.00"), D("12.50"))


def test_tip_allocations_record_member_amount_sale_and_time(shop):
    sale = do_checkout(
        shop, items=[service_line(shop)], tip="3", tips=[TipLine(shop["ben"], amount=D(3))]
    )
    tip = TipAllocation.objects.get()
    assert (tip.team_member, tip.amount, tip.sale) == (shop["ben"], D("3.00"), sale)
    assert tip.created_at is not None


def test_amounts_too_large_for_a_sale_are_refused(shop):
    huge = ItemLine(kind=ItemKind.PRODUCT, product=shop["product"], unit_price=D("9999999999"))
    with pytest.raises(CheckoutError, match="too large"):
        do_checkout(shop, items=[huge, huge], payments=[PaymentLine("cash", D("1"))])
