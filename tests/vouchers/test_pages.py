import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from glamiti.tenancy import tenant_context
from sales.models import ItemKind, Payment, PaymentMethod, Sale, SaleItem
from tests.conftest import logged_in
from tests.factories import ClientFactory
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants
from vouchers.models import LedgerKind, Voucher
from vouchers.services import business_today, voucher_redeem, voucher_refund

pytestmark = pytest.mark.django_db

D = Decimal
DAY = datetime.timedelta(days=1)


def url(world, name, **kwargs):
    return reverse(f"vouchers:{name}", kwargs={"business": world.business.slug, **kwargs})


@pytest.fixture
def voucher(world):
    with tenant_context(world.business):
        buyer = ClientFactory(business=world.business, first_name="Anna", last_name="Buyer")
        friend = ClientFactory(business=world.business, first_name="Bea", last_name="Friend")
        return make_voucher(
            world.business, "100", purchaser=buyer, recipient=friend, code="K7QX-M4PA-93TR"
        )


@pytest.fixture
def mixed(world, voucher):
    """One voucher of each status."""
    with tenant_context(world.business):
        today = business_today(world.business)
        partly = make_voucher(world.business, "50", code="PART-USED-2222")
        voucher_redeem(voucher=partly, amount=D("20"))
        used = make_voucher(world.business, "30", code="USED-UPUP-3333")
        voucher_redeem(voucher=used, amount=D("30"))
        expired = make_voucher(world.business, "40", code="EXPD-EXPD-4444", expires_on=today - DAY)
    return {"active": voucher, "partly": partly, "used": used, "expired": expired}


# List ------------------------------------------------------------------------------------


def test_list_shows_vouchers_with_value_balance_status_and_people(as_staff, world, mixed):
    response = as_staff.get(url(world, "list"))
    assert response.status_code == 200
    html = response.content.decode()
    for code in ["K7QX-M4PA-93TR", "PART-USED-2222", "USED-UPUP-3333", "EXPD-EXPD-4444"]:
        assert code in html
    for label in ["Active", "Partially used", "Fully redeemed", "Expired"]:
        assert f">{label}</span>" in html
    assert "Anna Buyer" in html and "Bea Friend" in html
    assert "£30.00" in html  # the partly used balance


def test_list_hides_other_businesses_vouchers(as_staff, world, voucher):
    with tenant_context(world.other_business):
        make_voucher(world.other_business, code="THEI-RSNO-TOUR")
    assert b"THEI-RSNO-TOUR" not in as_staff.get(url(world, "list")).content


@pytest.mark.parametrize("term", ["K7QX-M4PA-93TR", "k7qxm4pa93tr", "qx m4", "M4PA", "93tr"])
def test_search_finds_a_voucher_by_all_or_part_of_its_code(as_staff, world, mixed, term):
    html = as_staff.get(url(world, "list"), {"q": term}).content.decode()
    assert "K7QX-M4PA-93TR" in html
    assert "PART-USED-2222" not in html


@pytest.mark.parametrize("term", ["anna", "Buyer", "bea friend"])
def test_search_finds_a_voucher_by_purchaser_or_recipient(as_staff, world, mixed, term):
    html = as_staff.get(url(world, "list"), {"q": term}).content.decode()
    assert "K7QX-M4PA-93TR" in html
    assert "EXPD-EXPD-4444" not in html


def test_search_by_a_name_that_is_only_written_on_the_voucher(as_staff, world, mixed):
    with tenant_context(world.business):
        make_voucher(world.business, code="GIFT-NAME-5555", recipient_name="Chloé Nouveau")
    html = as_staff.get(url(world, "list"), {"q": "chloé"}).content.decode()
    assert "GIFT-NAME-5555" in html
    assert "K7QX-M4PA-93TR" not in html


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("active", "K7QX-M4PA-93TR"),
        ("partially_used", "PART-USED-2222"),
        ("fully_redeemed", "USED-UPUP-3333"),
        ("expired", "EXPD-EXPD-4444"),
    ],
)
def test_status_filter_shows_only_that_status(as_staff, world, mixed, status, code):
    response = as_staff.get(url(world, "list"), {"status": status})
    html = response.content.decode()
    codes = [v.code for v in response.context["page"].object_list]
    assert codes == [code]
    assert f'value="{status}" checked' in html


def test_status_chips_count_each_status(as_staff, world, mixed):
    response = as_staff.get(url(world, "list"))
    assert response.context["listing"].counts == {
        "all": 4,
        "active": 1,
        "partially_used": 1,
        "fully_redeemed": 1,
        "expired": 1,
    }


def test_unknown_status_is_ignored(as_staff, world, mixed):
    response = as_staff.get(url(world, "list"), {"status": "nonsense"})
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 4


def test_htmx_search_returns_only_the_results(as_staff, world, mixed):
    response = as_staff.get(url(world, "list"), {"q": "PART"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "PART-USED-2222" in html and "K7QX-M4PA-93TR" not in html
    assert 'hx-swap-oob="true"' in html  # the chip counts follow the search


def test_empty_list_and_no_match_have_their_own_messages(as_staff, world):
    assert b"No vouchers yet" in as_staff.get(url(world, "list")).content
    html = as_staff.get(url(world, "list"), {"q": "zzzz"}).content
    assert b"No vouchers match" in html


def test_list_is_paginated_by_fifty(as_staff, world):
    with tenant_context(world.business):
        for _ in range(51):
            make_voucher(world.business, "10")
    first = as_staff.get(url(world, "list"))
    assert len(first.context["page"].object_list) == 50
    assert b"Page 1 of 2" in first.content
    second = as_staff.get(url(world, "list"), {"page": 2})
    assert len(second.context["page"].object_list) == 1
    assert as_staff.get(url(world, "list"), {"page": "x"}).status_code == 200


def _list_queries(http, world, django_assert_max_num_queries, limit):
    http.get(url(world, "list"))  # the first visit also saves the session
    with django_assert_max_num_queries(limit) as captured:
        assert http.get(url(world, "list"), {"q": ""}).status_code == 200
    return len(captured.captured_queries)


def test_list_makes_the_same_number_of_queries_for_3_or_40_vouchers(
    as_staff, world, django_assert_max_num_queries
):
    with tenant_context(world.business):
        for _ in range(3):
            make_voucher(world.business, "10", purchaser=ClientFactory(business=world.business))
    few = _list_queries(as_staff, world, django_assert_max_num_queries, 8)
    with tenant_context(world.business):
        for _ in range(37):
            make_voucher(
                world.business,
                "10",
                purchaser=ClientFactory(business=world.business),
                recipient=ClientFactory(business=world.business),
            )
    many = _list_queries(as_staff, world, django_assert_max_num_queries, 8)
    assert few == many


# Detail ----------------------------------------------------------------------------------


def test_detail_explains_the_balance_with_its_ledger(as_staff, world, voucher):
    with tenant_context(world.business):
        entry = voucher_redeem(voucher=voucher, amount=D("25"), by=world.staff, note="Cut & blow")
        voucher_refund(entry=entry, note="Sale voided")
    response = as_staff.get(url(world, "detail", pk=voucher.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "K7QX-M4PA-93TR" in html and "Anna Buyer" in html and "Bea Friend" in html
    assert [line.entry.kind for line in response.context["ledger"]] == [
        LedgerKind.ISSUED,
        LedgerKind.REDEEMED,
        LedgerKind.REFUNDED,
    ]
    assert "Refunded (sale voided)" in html
    assert "Cut &amp; blow" in html
    assert "−£25.00" in html and "+£25.00" in html
    assert "Correct balance" not in html  # staff cannot adjust


def test_detail_offers_the_correction_to_owners(as_owner, world, voucher):
    assert b"Correct balance" in as_owner.get(url(world, "detail", pk=voucher.pk)).content


def test_detail_of_another_business_voucher_is_404(as_owner, world):
    with tenant_context(world.other_business):
        foreign = make_voucher(world.other_business)
    assert as_owner.get(url(world, "detail", pk=foreign.pk)).status_code == 404
    assert as_owner.get(url(world, "adjust", pk=foreign.pk)).status_code == 404


# Adjust ----------------------------------------------------------------------------------


def test_owner_corrects_a_balance_with_a_reason(as_owner, world, voucher):
    response = as_owner.post(
        url(world, "adjust", pk=voucher.pk), {"amount": "-15.50", "note": "Paper redemption"}
    )
    assert response.status_code == 302
    assert response.url == url(world, "detail", pk=voucher.pk)
    with all_tenants():
        voucher.refresh_from_db()
        assert voucher.balance == D("84.50")
        entry = voucher.ledger.last()
    assert (entry.kind, entry.amount, entry.note, entry.created_by) == (
        LedgerKind.ADJUSTED,
        D("-15.50"),
        "Paper redemption",
        world.owner,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "-5", "note": ""}, "This field is required"),
        ({"amount": "0", "note": "x"}, "other than zero"),
        ({"amount": "-100.01", "note": "x"}, "cannot go below zero"),
        ({"amount": "1", "note": "x"}, "cannot go above"),
        ({"amount": "abc", "note": "x"}, "Enter a number"),
    ],
)
def test_a_bad_correction_is_explained_on_the_form(as_owner, world, voucher, data, message):
    response = as_owner.post(url(world, "adjust", pk=voucher.pk), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    with all_tenants():
        assert voucher.ledger.count() == 1


@pytest.mark.parametrize("who", ["as_staff", "as_manager"])
def test_only_owners_may_correct_a_balance(request, world, voucher, who):
    http = request.getfixturevalue(who)
    assert http.get(url(world, "adjust", pk=voucher.pk)).status_code == 403
    response = http.post(url(world, "adjust", pk=voucher.pk), {"amount": "5", "note": "x"})
    assert response.status_code == 403
    with all_tenants():
        assert voucher.ledger.count() == 1


# Complimentary vouchers ------------------------------------------------------------------


def test_manager_issues_a_complimentary_voucher(as_manager, world):
    with all_tenants():
        client = ClientFactory(business=world.business, first_name="Cara")
    expiry = business_today(world.business) + 90 * DAY
    response = as_manager.post(
        url(world, "issue"),
        {"value": "25", "recipient": client.pk, "expires_on": expiry.isoformat(), "note": "Sorry"},
    )
    assert response.status_code == 302
    with all_tenants():
        voucher = Voucher.objects.get()
        assert voucher.purchaser is None and voucher.recipient == client
        assert voucher.original_value == voucher.balance == D("25")
        assert voucher.expires_on == expiry
        assert voucher.ledger.get().note == "Sorry"
    assert response.url == url(world, "detail", pk=voucher.pk)


def test_a_complimentary_voucher_may_name_someone_who_is_not_a_client(as_owner, world):
    response = as_owner.post(url(world, "issue"), {"value": "10", "recipient_name": "Dee"})
    assert response.status_code == 302
    with all_tenants():
        voucher = Voucher.objects.get()
    assert voucher.recipient_name == "Dee"
    assert voucher.expires_on == voucher.issued_on.replace(year=voucher.issued_on.year + 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"value": "0"}, "greater than or equal to 0.01"),
        ({"value": "10", "expires_on": "2000-01-01"}, "cannot be in the past"),
    ],
)
def test_a_bad_complimentary_voucher_is_explained(as_owner, world, data, message):
    response = as_owner.post(url(world, "issue"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    with all_tenants():
        assert not Voucher.objects.exists()


def test_a_client_of_another_business_cannot_receive_a_voucher(as_owner, world):
    with all_tenants():
        stranger = ClientFactory(business=world.other_business)
    response = as_owner.post(url(world, "issue"), {"value": "10", "recipient": stranger.pk})
    assert response.status_code == 200
    with all_tenants():
        assert not Voucher.objects.exists()


def test_staff_cannot_issue_complimentary_vouchers(as_staff, world):
    assert as_staff.get(url(world, "issue")).status_code == 403
    assert as_staff.post(url(world, "issue"), {"value": "10"}).status_code == 403
    assert b"Complimentary voucher" not in as_staff.get(url(world, "list")).content


# Outsiders -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "issue", "detail", "adjust"])
def test_outsider_gets_404_on_every_voucher_page(as_outsider, world, voucher, name):
    kwargs = {"pk": voucher.pk} if name in ("detail", "adjust") else {}
    assert as_outsider.get(url(world, name, **kwargs)).status_code == 404
    assert as_outsider.post(url(world, name, **kwargs), {"value": "5"}).status_code == 404


@pytest.mark.parametrize("name", ["list", "issue", "detail", "adjust"])
def test_owner_of_another_business_gets_404(world, voucher, name):
    kwargs = {"pk": voucher.pk} if name in ("detail", "adjust") else {}
    assert logged_in(world.other_owner).get(url(world, name, **kwargs)).status_code == 404


def test_anonymous_is_sent_to_login(client, world, voucher):
    response = client.get(url(world, "detail", pk=voucher.pk))
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_detail_links_ledger_entries_to_their_sales(as_staff, world, voucher):
    with tenant_context(world.business):
        sold = Sale.objects.create(business=world.business, total=D("100"))
        SaleItem.objects.create(
            business=world.business,
            sale=sold,
            kind=ItemKind.VOUCHER,
            voucher=voucher,
            description="Gift voucher",
            unit_price=D("100"),
            total=D("100"),
        )
        used_in = Sale.objects.create(business=world.business, total=D("30"))
        entry = voucher_redeem(voucher=voucher, amount=D("30"))
        Payment.objects.create(
            business=world.business,
            sale=used_in,
            method=PaymentMethod.VOUCHER,
            amount=D("30"),
            voucher=voucher,
            voucher_entry=entry,
        )
        voucher_refund(entry=entry)
    response = as_staff.get(url(world, "detail", pk=voucher.pk))
    sales = [line.sale for line in response.context["ledger"]]
    assert sales == [sold, used_in, used_in]  # issued by, paid in, given back when voided
    assert f"Sale #{used_in.pk}" in response.content.decode()


def test_detail_makes_a_fixed_number_of_queries(
    as_staff, world, voucher, django_assert_max_num_queries
):
    with tenant_context(world.business):
        for _ in range(5):
            entry = voucher_redeem(voucher=voucher, amount=D("1"))
            voucher_refund(entry=entry)
    as_staff.get(url(world, "detail", pk=voucher.pk))
    with django_assert_max_num_queries(8):
        assert as_staff.get(url(world, "detail", pk=voucher.pk)).status_code == 200
