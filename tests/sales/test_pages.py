"""Sales pages over HTTP: who may open them, what they show, how many queries they take."""

import datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from glamiti.tenancy import tenant_context
from sales.checkout import ItemLine, TipLine
from sales.models import ItemKind, Product, Sale, TipAllocation
from sales.services import sale_void
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_appointments import ServiceFactory
from tests.factories_sales import ProductFactory, make_sale
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def url(world, name, business=None, **kwargs):
    slug = (business or world.business).slug
    return reverse(f"sales:{name}", kwargs={"business": slug, **kwargs})


@pytest.fixture
def a_sale(world):
    with tenant_context(world.business):
        return make_sale(world.business, client=ClientFactory(business=world.business))


def all_urls(world, sale, product):
    return [
        url(world, "list"),
        url(world, "checkout"),
        url(world, "tips"),
        url(world, "products"),
        url(world, "product-create"),
        url(world, "product-edit", pk=product.pk),
        url(world, "detail", pk=sale.pk),
        url(world, "feedback", pk=sale.pk),
        url(world, "void", pk=sale.pk),
    ]


def test_outsider_gets_404_on_every_sales_url(as_outsider, world, a_sale):
    with all_tenants():
        product = ProductFactory(business=world.business)
    for address in all_urls(world, a_sale, product):
        assert as_outsider.get(address).status_code == 404, address
        assert as_outsider.post(address, {}).status_code == 404, address


def test_another_business_objects_are_404(as_owner, world):
    with tenant_context(world.other_business):
        foreign = make_sale(world.other_business)
        product = ProductFactory(business=world.other_business)
    for name, pk in [("detail", foreign.pk), ("void", foreign.pk), ("product-edit", product.pk)]:
        assert as_owner.get(url(world, name, pk=pk)).status_code == 404
    assert as_owner.post(url(world, "feedback", pk=foreign.pk), {"rating": 5}).status_code == 404


@pytest.mark.parametrize("name", ["tips", "products", "product-create"])
def test_staff_cannot_open_manager_pages(as_staff, world, name):
    assert as_staff.get(url(world, name)).status_code == 403


def test_staff_cannot_edit_a_product(as_staff, world):
    with all_tenants():
        product = ProductFactory(business=world.business)
    assert as_staff.get(url(world, "product-edit", pk=product.pk)).status_code == 403
    assert as_staff.post(url(world, "product-edit", pk=product.pk), {}).status_code == 403


@pytest.mark.parametrize("name", ["list", "checkout"])
def test_staff_open_the_desk_pages(as_staff, world, name):
    assert as_staff.get(url(world, name)).status_code == 200


# --- List --------------------------------------------------------------------------------


def test_list_shows_sales_with_client_or_walk_in_and_methods(as_staff, world, a_sale):
    with tenant_context(world.business):
        walk_in = make_sale(world.business)
        voided = make_sale(world.business)
        sale_void(sale=voided, by=world.owner, reason="x")
    page = as_staff.get(url(world, "list"))
    text = page.content.decode()
    assert a_sale.client.full_name in text
    assert "Walk-in" in text
    assert f"#{walk_in.pk}" in text and "Card (terminal)" in text
    assert "Voided" in text
    assert "£40.00 in sales" in text  # the voided sale is not counted


def test_list_filters_by_period(as_staff, world, a_sale):
    with tenant_context(world.business):
        old = make_sale(world.business)
        when = timezone.now() - datetime.timedelta(days=90)
        Sale.objects.filter(pk=old.pk).update(created_at=when)
        # The day as the business sees it (around midnight UTC it may differ, e.g. in BST).
        day = timezone.localtime(when).date().isoformat()
    this_month = as_staff.get(url(world, "list"), {"period": "this_month"}).content.decode()
    assert f">#{a_sale.pk}<" in this_month and f">#{old.pk}<" not in this_month
    every = as_staff.get(url(world, "list")).content.decode()
    assert f">#{old.pk}<" in every
    custom = as_staff.get(url(world, "list"), {"period": "custom", "from": day, "to": day})
    assert f">#{old.pk}<" in custom.content.decode()
    bad = as_staff.get(url(world, "list"), {"period": "custom", "from": "yesterday"})
    assert bad.status_code == 200 and b"YYYY-MM-DD" in bad.content


def test_list_queries_do_not_grow_with_sales(as_staff, world, django_assert_max_num_queries):
    with tenant_context(world.business):
        make_sale(world.business, client=ClientFactory(business=world.business))
    as_staff.get(url(world, "list"))  # warm the session
    with django_assert_max_num_queries(9) as few:
        as_staff.get(url(world, "list"))
    with tenant_context(world.business):
        for _ in range(6):
            make_sale(world.business, client=ClientFactory(business=world.business))
    with django_assert_max_num_queries(len(few.captured_queries)):
        as_staff.get(url(world, "list"))


def test_list_is_paginated(as_staff, world):
    with tenant_context(world.business):
        for _ in range(26):
            make_sale(world.business)
    page2 = as_staff.get(url(world, "list"), {"page": 2})
    assert b"Page 2" in page2.content and b'rel="prev"' in page2.content
    assert page2.content.count(b"card_terminal") == 0 and len(page2.context["page"]) == 1


# --- Receipt -----------------------------------------------------------------------------


def test_receipt_shows_items_payments_tips_and_client(as_staff, world):
    with tenant_context(world.business):
        member = TeamMemberFactory(business=world.business, name="Anna")
        client = ClientFactory(business=world.business, first_name="Jo", last_name="Bloggs")
        product = ProductFactory(business=world.business, name="Wax", price=D("8"))
        sale = make_sale(
            world.business,
            client=client,
            items=[
                ItemLine(
                    kind=ItemKind.PRODUCT,
                    product=product,
                    unit_price=D("8"),
                    quantity=2,
                    discount=D("1"),
                ),
                ItemLine(kind=ItemKind.VOUCHER, unit_price=D("30")),
            ],
            tip="4",
            tips=[TipLine(member, amount=D("4"))],
        )
        code = sale.items.get(kind=ItemKind.VOUCHER).voucher.code
    page = as_staff.get(url(world, "detail", pk=sale.pk)).content.decode()
    for text in ["Wax", "−£1.00", "£45.00", "Jo Bloggs", "Anna", "£4.00", code, "Card (terminal)"]:
        assert text in page, text
    assert "Void sale" not in page  # staff can't


def test_receipt_offers_void_to_managers(as_manager, world, a_sale):
    assert b"Void sale" in as_manager.get(url(world, "detail", pk=a_sale.pk)).content


def test_receipt_queries_do_not_grow_with_items(as_staff, world, django_assert_max_num_queries):
    def sale_with(n):
        with tenant_context(world.business):
            members = [TeamMemberFactory(business=world.business) for _ in range(n)]
            products = [ProductFactory(business=world.business) for _ in range(n)]
            lines = [
                ItemLine(kind=ItemKind.PRODUCT, product=p, unit_price=p.price, team_member=m)
                for p, m in zip(products, members, strict=True)
            ] + [ItemLine(kind=ItemKind.VOUCHER, unit_price=D(10)) for _ in range(n)]
            tips = [TipLine(m, amount=D(1)) for m in members]
            return make_sale(world.business, items=lines, tip=str(n), tips=tips)

    small, big = sale_with(1), sale_with(5)
    as_staff.get(url(world, "detail", pk=small.pk))
    with django_assert_max_num_queries(20) as few:
        as_staff.get(url(world, "detail", pk=small.pk))
    with django_assert_max_num_queries(len(few.captured_queries)):
        as_staff.get(url(world, "detail", pk=big.pk))


# --- Tips page ---------------------------------------------------------------------------


def test_tips_page_totals_by_team_member_and_period(as_manager, world):
    with tenant_context(world.business):
        anna = TeamMemberFactory(business=world.business, name="Anna")
        ben = TeamMemberFactory(business=world.business, name="Ben")
        make_sale(
            world.business,
            tip="10",
            tips=[TipLine(anna, amount=D("7")), TipLine(ben, amount=D("3"))],
        )
        make_sale(world.business, tip="5", tips=[TipLine(anna, amount=D("5"))])
        voided = make_sale(world.business, tip="50", tips=[TipLine(ben, amount=D("50"))])
        sale_void(sale=voided, by=world.owner, reason="Mistake")
        old = make_sale(world.business, tip="20", tips=[TipLine(ben, amount=D("20"))])
        TipAllocation.objects.filter(sale=old).update(
            created_at=timezone.now() - datetime.timedelta(days=70)
        )
    response = as_manager.get(url(world, "tips"), {"period": "this_month"})
    rows = [(r.name, r.sales, r.total) for r in response.context["rows"]]
    assert rows == [("Anna", 2, D("12.00")), ("Ben", 1, D("3.00"))]
    assert response.context["total"] == D("15.00")
    assert b"\xc2\xa315.00" in response.content
    everything = as_manager.get(url(world, "tips"), {"period": "all"}).context["rows"]
    assert {r.name: r.total for r in everything} == {"Anna": D("12.00"), "Ben": D("23.00")}


@pytest.mark.parametrize("period", ["today", "this_week", "this_month", "last_month", "custom"])
def test_tips_page_periods_render(as_owner, world, period):
    response = as_owner.get(url(world, "tips"), {"period": period, "from": "2024-01-01"})
    assert response.status_code == 200


def test_tips_page_other_business_tips_are_not_shown(as_owner, world):
    with tenant_context(world.other_business):
        member = TeamMemberFactory(business=world.other_business, name="Foreign")
        make_sale(world.other_business, tip="9", tips=[TipLine(member, amount=D("9"))])
    response = as_owner.get(url(world, "tips"), {"period": "all"})
    assert response.context["rows"] == []


# --- Products ----------------------------------------------------------------------------


def test_manager_adds_and_edits_a_product(as_manager, world):
    response = as_manager.post(
        url(world, "product-create"),
        {"name": "Shampoo", "sku": "SH-1", "price": "12.50", "is_active": "on"},
    )
    assert response.status_code == 302
    with all_tenants():
        product = Product.objects.get()
    assert (product.business, product.price) == (world.business, D("12.50"))
    duplicate = as_manager.post(
        url(world, "product-create"), {"name": "Other", "sku": "sh-1", "price": "3"}
    )
    assert b"Another product already has this SKU." in duplicate.content
    edited = as_manager.post(
        url(world, "product-edit", pk=product.pk), {"name": "Shampoo", "sku": "SH-1", "price": "14"}
    )
    assert edited.status_code == 302
    product.refresh_from_db()
    assert product.price == D("14.00") and not product.is_active
    listing = as_manager.get(url(world, "products")).content.decode()
    assert "Shampoo" in listing and "Not sold" in listing
    negative = as_manager.post(url(world, "product-create"), {"name": "X", "price": "-1"})
    assert negative.status_code == 200
    assert b"greater than or equal to 0" in negative.content


def test_a_sku_may_repeat_across_businesses(as_owner, world):
    with all_tenants():
        ProductFactory(business=world.other_business, sku="SAME")
    response = as_owner.post(
        url(world, "product-create"), {"name": "Mine", "sku": "SAME", "price": "5"}
    )
    assert response.status_code == 302


def test_services_are_offered_at_checkout(as_staff, world):
    with all_tenants():
        ServiceFactory(business=world.business, name="Balayage", price=D("140"))
        ProductFactory(business=world.business, name="Serum", price=D("22"), is_active=False)
    page = as_staff.get(url(world, "checkout")).content.decode()
    assert "Balayage · £140.00" in page and 'data-price="140.00"' in page
    assert "Serum" not in page  # inactive products aren't sold
