"""Voiding a sale: reverses vouchers and spend, leaves an audit trail, manager+ only."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from glamiti.tenancy import tenant_context
from sales.checkout import ItemLine, PaymentLine, TipLine
from sales.models import ItemKind, Sale, SaleStatus, TipAllocation
from sales.selectors import Period, tips_by_member
from sales.services import CheckoutError, sale_void
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_sales import ProductFactory, make_sale
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants
from vouchers.models import LedgerKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(world):
    """A sale paid partly with a voucher, selling another voucher, with a tip."""
    business = world.business
    with all_tenants():
        client = ClientFactory(business=business)
        member = TeamMemberFactory(business=business)
        used = make_voucher(business, "30.00")
    with tenant_context(business):
        sale = make_sale(
            business,
            client=client,
            items=[
                product_line(business, "20.00"),
                ItemLine(kind=ItemKind.VOUCHER, unit_price=D("50.00")),
            ],
            tip="5",
            tips=[TipLine(member, amount=D("5"))],
            payments=[
                PaymentLine(method="voucher", amount=D("25"), voucher_code=used.code),
                PaymentLine(method="card_terminal", amount=D("50")),
            ],
        )
    return {"sale": sale, "client": client, "member": member, "used": used}


def product_line(business, price):
    product = ProductFactory(business=business, price=D(price))
    return ItemLine(kind=ItemKind.PRODUCT, product=product, unit_price=product.price)


def void_url(world, sale):
    return reverse("sales:void", kwargs={"business": world.business.slug, "pk": sale.pk})


def test_void_reverses_voucher_balances_and_keeps_an_audit_trail(world, paid):
    sale = paid["sale"]
    with tenant_context(world.business):
        sold = sale.items.get(kind=ItemKind.VOUCHER).voucher
        sale_void(sale=sale, by=world.manager, reason="Rung up twice")
        sale.refresh_from_db()
        paid["used"].refresh_from_db()
        sold.refresh_from_db()
        assert sale.status == SaleStatus.VOIDED
        assert sale.voided_by == world.manager and sale.voided_at is not None
        assert sale.void_reason == "Rung up twice"
        assert paid["used"].balance == D("30.00")  # the 25 paid came back
        refund = paid["used"].ledger.get(kind=LedgerKind.REFUNDED)
        assert refund.amount == D("25.00") and "Rung up twice" in refund.note
        assert sold.balance == D("0.00")  # the voucher it sold is cancelled
        assert sold.ledger.filter(kind=LedgerKind.ADJUSTED).exists()
        # Nothing was deleted.
        assert sale.items.count() == 2 and sale.payments.count() == 2
        assert TipAllocation.objects.filter(sale=sale).count() == 1


def test_a_voided_sale_leaves_spend_sales_and_tips(world, paid):
    with tenant_context(world.business):
        make_sale(
            world.business,
            client=paid["client"],
            items=[product_line(world.business, "10")],
            tip="2",
            tips=[TipLine(paid["member"], amount=D("2"))],
        )
        paid["client"].refresh_from_db()
        assert paid["client"].total_spend == D("80.00")
        sale_void(sale=paid["sale"], by=world.owner, reason="Mistake")
        paid["client"].refresh_from_db()
        assert paid["client"].total_spend == D("10.00")
        assert list(Sale.objects.counted().values_list("total", flat=True)) == [D("10.00")]
        rows = tips_by_member(world.business, Period("all"))
        assert [(r.total, r.sales) for r in rows] == [(D("2.00"), 1)]


def test_voiding_twice_is_refused(world, paid):
    with tenant_context(world.business):
        sale_void(sale=paid["sale"], by=world.owner, reason="Mistake")
        with pytest.raises(CheckoutError, match="already voided"):
            sale_void(sale=paid["sale"], by=world.owner, reason="Again")
        paid["used"].refresh_from_db()
        assert paid["used"].balance == D("30.00")  # refunded once only


def test_void_needs_a_reason(world, paid):
    with tenant_context(world.business), pytest.raises(CheckoutError, match="reason"):
        sale_void(sale=paid["sale"], by=world.owner, reason="  ")


def test_a_sale_whose_voucher_was_used_cannot_be_voided(world, paid):
    with tenant_context(world.business):
        sold = paid["sale"].items.get(kind=ItemKind.VOUCHER).voucher
        make_sale(
            world.business,
            items=[product_line(world.business, "10")],
            payments=[PaymentLine(method="voucher", amount=D("10"), voucher_code=sold.code)],
        )
        with pytest.raises(CheckoutError, match="can't be voided yet"):
            sale_void(sale=paid["sale"], by=world.owner, reason="Mistake")
        paid["sale"].refresh_from_db()
        assert paid["sale"].status == SaleStatus.COMPLETED
        paid["used"].refresh_from_db()
        assert paid["used"].balance == D("5.00")  # the refund was rolled back too


# --- Over HTTP -----------------------------------------------------------------------------


def test_staff_cannot_void(as_staff, world, paid):
    assert as_staff.get(void_url(world, paid["sale"])).status_code == 403
    assert as_staff.post(void_url(world, paid["sale"]), {"reason": "x"}).status_code == 403
    with tenant_context(world.business):
        paid["sale"].refresh_from_db()
    assert paid["sale"].status == SaleStatus.COMPLETED


def test_outsider_and_other_business_cannot_void(as_outsider, as_owner, world, paid):
    assert as_outsider.post(void_url(world, paid["sale"]), {"reason": "x"}).status_code == 404
    other = reverse("sales:void", kwargs={"business": world.other_business.slug, "pk": 1})
    assert as_owner.post(other, {"reason": "x"}).status_code == 404


def test_manager_voids_with_a_confirmation_and_reason(as_manager, world, paid):
    url = void_url(world, paid["sale"])
    page = as_manager.get(url)
    assert page.status_code == 200
    assert b"Void sale #" in page.content and b"not</strong> refunded here" in page.content
    dialog = as_manager.get(url, headers={"HX-Request": "true"})
    assert b"<dialog" in dialog.content
    refused = as_manager.post(url, {"reason": ""})
    assert refused.status_code == 200
    assert b"Give a reason for voiding this sale." in refused.content
    done = as_manager.post(url, {"reason": "Wrong client"}, follow=True)
    assert done.redirect_chain[-1][0] == paid["sale"].get_absolute_url()
    assert b"Voided" in done.content and b"Wrong client" in done.content
    again = as_manager.post(url, {"reason": "Again"}, follow=True)
    assert b"already voided" in again.content


def test_void_refused_by_a_used_voucher_is_explained_on_the_page(as_owner, world, paid):
    with tenant_context(world.business):
        sold = paid["sale"].items.get(kind=ItemKind.VOUCHER).voucher
        make_sale(
            world.business,
            items=[product_line(world.business, "10")],
            payments=[PaymentLine(method="voucher", amount=D("10"), voucher_code=sold.code)],
        )
    response = as_owner.post(void_url(world, paid["sale"]), {"reason": "Mistake"})
    assert response.status_code == 200
    assert b"already been used" in response.content
