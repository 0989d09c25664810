"""The checkout page: pre-filling, posting, errors beside the rows, double submits."""

import datetime
import re
import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import AppointmentStatus
from sales.models import Sale
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_appointments import (
    AppointmentFactory,
    AppointmentServiceFactory,
    ServiceFactory,
)
from tests.factories_sales import ProductFactory
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def checkout_url(world, business=None) -> str:
    return reverse("sales:checkout", kwargs={"business": (business or world.business).slug})


def form_data(
    *, key=None, client="", appointment="", tip="", items=(), payments=(), tips=(), initial=None
):
    """The POST the page sends: the main form plus three formsets."""
    data = {
        "idempotency_key": str(key or uuid.uuid4()),
        "client": client,
        "appointment": appointment,
        "tip": tip,
        "note": "",
    }
    for prefix, rows in [("items", items), ("payments", payments), ("tips", tips)]:
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = str((initial or {}).get(prefix, 0))
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "50"
        for index, row in enumerate(rows):
            for name, value in row.items():
                data[f"{prefix}-{index}-{name}"] = value
    return data


@pytest.fixture
def desk(world):
    with all_tenants():
        return {
            "service": ServiceFactory(business=world.business, name="Cut", price=D("40.00")),
            "product": ProductFactory(business=world.business, name="Wax", price=D("9.50")),
            "anna": TeamMemberFactory(business=world.business, name="Anna"),
            "ben": TeamMemberFactory(business=world.business, name="Ben"),
            "client": ClientFactory(business=world.business, first_name="Maya"),
        }


def sales():
    with all_tenants():
        return list(Sale.objects.all())


def test_the_page_renders_with_a_fresh_key_and_the_client_picker(as_staff, world, desk):
    page = as_staff.get(checkout_url(world)).content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page).group(1)
    assert uuid.UUID(key)
    assert key not in as_staff.get(checkout_url(world)).content.decode()
    assert "data-client-picker" in page and "Add a new client" in page
    assert "Walk-in" in page or "walk-in" in page
    assert "Cut · £40.00" in page and "Wax · £9.50" in page and "Gift voucher" in page
    assert "items-__prefix__-item" in page  # the row template for "Add item"
    assert "js/checkout.js" in page


def test_a_sale_is_recorded_and_shows_its_receipt(as_staff, world, desk):
    data = form_data(
        client=desk["client"].pk,
        tip="6",
        items=[
            {
                "item": f"service:{desk['service'].pk}",
                "team_member": desk["anna"].pk,
                "quantity": 1,
            },
            {"item": f"product:{desk['product'].pk}", "quantity": 2, "discount": "1.00"},
        ],
        payments=[
            {"method": "card_terminal", "amount": "50"},
            {"method": "cash", "amount": "14"},
        ],
        tips=[
            {"team_member": desk["anna"].pk, "percent": "50"},
            {"team_member": desk["ben"].pk, "percent": "50"},
        ],
    )
    response = as_staff.post(checkout_url(world), data, follow=True)
    (sale,) = sales()
    assert response.redirect_chain[-1][0] == sale.get_absolute_url()
    assert f"Sale #{sale.pk} recorded: £64.00 paid." in response.content.decode()
    assert (sale.subtotal, sale.discount_total, sale.total) == (D("59"), D("1"), D("58"))
    assert sale.tip_total == D("6") and sale.created_by == world.staff
    assert sale.client == desk["client"]
    with all_tenants():
        assert {t.team_member.name: t.amount for t in sale.tips.all()} == {
            "Anna": D("3.00"),
            "Ben": D("3.00"),
        }
        assert sale.items.get(kind="service").team_member == desk["anna"]


def test_a_walk_in_sale_with_an_empty_row_and_a_removed_row(as_staff, world, desk):
    data = form_data(
        items=[
            {"item": f"product:{desk['product'].pk}", "quantity": 1},
            {"item": f"service:{desk['service'].pk}", "quantity": 1, "DELETE": "on"},
            {"item": "", "quantity": "1"},  # an untouched extra row
        ],
        payments=[{"method": "cash", "amount": "9.50"}, {"method": "card_terminal", "amount": ""}],
        tips=[{"team_member": "", "amount": "", "percent": ""}],
    )
    response = as_staff.post(checkout_url(world), data)
    assert response.status_code == 302
    (sale,) = sales()
    assert sale.client is None and sale.total == D("9.50")


def test_the_same_form_posted_twice_makes_one_sale(as_staff, world, desk):
    with all_tenants():
        voucher = make_voucher(world.business, "100")
    data = form_data(
        items=[{"item": f"service:{desk['service'].pk}", "quantity": 1}],
        payments=[{"method": "voucher", "amount": "40", "voucher_code": voucher.code}],
    )
    first = as_staff.post(checkout_url(world), data)
    second = as_staff.post(checkout_url(world), data, follow=True)
    (sale,) = sales()
    assert first.url == sale.get_absolute_url()
    assert second.redirect_chain[-1][0] == sale.get_absolute_url()
    assert b"was already recorded" in second.content
    with all_tenants():
        voucher.refresh_from_db()
    assert voucher.balance == D("60.00")


def test_payments_that_do_not_match_are_explained_and_nothing_typed_is_lost(as_staff, world, desk):
    key = uuid.uuid4()
    data = form_data(
        key=key,
        client=desk["client"].pk,
        tip="5",
        items=[{"item": f"service:{desk['service'].pk}", "quantity": 1, "discount": "2.50"}],
        payments=[{"method": "cash", "amount": "30"}],
        tips=[{"team_member": desk["anna"].pk, "amount": "5"}],
    )
    response = as_staff.post(checkout_url(world), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "£12.50 is still to pay" in page
    assert str(key) in page  # the same key, so a corrected resubmit is still one sale
    assert 'value="2.50"' in page and 'value="30"' in page
    assert "Maya" in page  # the chosen client is still chosen
    assert not sales()


def test_tips_that_do_not_add_up_are_shown_by_the_tip_split(as_staff, world, desk):
    data = form_data(
        tip="10",
        items=[{"item": f"service:{desk['service'].pk}", "quantity": 1}],
        payments=[{"method": "card_terminal", "amount": "50"}],
        tips=[{"team_member": desk["anna"].pk, "amount": "4"}],
    )
    page = as_staff.post(checkout_url(world), data).content.decode()
    assert "£6.00 still to allocate" in page
    assert not sales()


def test_a_voucher_problem_is_shown_beside_its_payment_row(as_staff, world, desk):
    with all_tenants():
        voucher = make_voucher(world.business, "10")
    data = form_data(
        items=[{"item": f"service:{desk['service'].pk}", "quantity": 1}],
        payments=[
            {"method": "voucher", "amount": "20", "voucher_code": voucher.code},
            {"method": "cash", "amount": "20"},
        ],
    )
    page = as_staff.post(checkout_url(world), data).content.decode()
    assert f"Voucher {voucher.code} has only 10.00 left." in page
    row = page.split('name="payments-0-voucher_code"')[1].split("data-pay-rest")[0]
    assert "has only 10.00 left" in row
    assert not sales()


def test_row_errors_are_shown_on_their_row(as_staff, world, desk):
    data = form_data(
        items=[
            {"item": "voucher", "quantity": 1},  # no value
            {"item": f"product:{desk['product'].pk}", "quantity": 1, "discount": "20"},
        ],
        payments=[{"method": "voucher", "amount": "5"}],
        tips=[{"team_member": desk["anna"].pk, "amount": "1", "percent": "10"}],
    )
    page = as_staff.post(checkout_url(world), data).content.decode()
    assert "Enter the voucher&#x27;s value." in page
    assert "The discount is more than this line is worth." in page
    assert "Enter the code printed on the voucher." in page
    assert "Give an amount or a percentage, not both." in page


def test_an_empty_sale_is_refused(as_staff, world, desk):
    page = as_staff.post(checkout_url(world), form_data()).content.decode()
    assert "Add at least one item to the sale." in page


def test_recalculate_shows_totals_without_saving(as_staff, world, desk):
    data = form_data(
        tip="4",
        items=[{"item": f"product:{desk['product'].pk}", "quantity": 3}],
        payments=[{"method": "cash", "amount": "10"}],
    )
    data["recalculate"] = "1"
    response = as_staff.post(checkout_url(world), data)
    totals = response.context["totals"]
    assert (totals.total, totals.due, totals.remaining) == (D("28.50"), D("32.50"), D("22.50"))
    assert b"Recalculated by the server" in response.content
    assert not sales()


def test_a_client_of_another_business_is_refused(as_staff, world, desk):
    with all_tenants():
        foreign = ClientFactory(business=world.other_business)
    data = form_data(
        client=foreign.pk,
        items=[{"item": f"product:{desk['product'].pk}", "quantity": 1}],
        payments=[{"method": "cash", "amount": "9.50"}],
    )
    response = as_staff.post(checkout_url(world), data)
    assert response.status_code == 200 and not sales()


# --- Appointments --------------------------------------------------------------------------


@pytest.fixture
def appointment(world, desk):
    with all_tenants():
        appointment = AppointmentFactory(
            business=world.business,
            client=desk["client"],
            team_member=desk["ben"],
            start_at=timezone.now() - datetime.timedelta(minutes=45),
        )
        AppointmentServiceFactory(appointment=appointment, service=desk["service"], price=D(35))
    return appointment


def test_checkout_of_an_appointment_is_pre_filled(as_staff, world, desk, appointment):
    response = as_staff.get(checkout_url(world), {"appointment": appointment.pk})
    page = response.content.decode()
    assert "Checkout: Maya" in page
    assert f'name="appointment" value="{appointment.pk}"' in page
    assert f'name="client" value="{desk["client"].pk}"' in page
    assert f'<option value="service:{desk["service"].pk}" selected data-price="40.00">' in page
    assert 'name="items-0-unit_price" value="35.00"' in page  # the booked price
    assert f'<option value="{desk["ben"].pk}" selected>Ben</option>' in page
    assert 'name="tips-0-percent" value="100"' in page
    assert 'name="items-INITIAL_FORMS" value="1"' in page


def test_checking_out_the_pre_filled_appointment_completes_it(as_staff, world, desk, appointment):
    data = form_data(
        client=desk["client"].pk,
        appointment=appointment.pk,
        tip="5",
        items=[
            {
                "item": f"service:{desk['service'].pk}",
                "team_member": desk["ben"].pk,
                "quantity": 1,
                "unit_price": "35.00",
            }
        ],
        payments=[{"method": "card_terminal", "amount": "40"}],
        tips=[{"team_member": desk["ben"].pk, "percent": "100"}],
        initial={"items": 1, "tips": 1},
    )
    response = as_staff.post(checkout_url(world), data)
    (sale,) = sales()
    assert response.url == sale.get_absolute_url()
    with all_tenants():
        appointment.refresh_from_db()
        assert sale.appointment == appointment and sale.total == D("35.00")
        assert sale.tips.get().team_member == desk["ben"]
    assert appointment.status == AppointmentStatus.COMPLETED
    again = as_staff.get(checkout_url(world), {"appointment": appointment.pk})
    assert again.status_code == 302 and again.url == sale.get_absolute_url()


def test_an_appointment_of_another_business_is_404(as_staff, world):
    with all_tenants():
        foreign = AppointmentFactory(business=world.other_business)
    assert as_staff.get(checkout_url(world), {"appointment": foreign.pk}).status_code == 404
    assert as_staff.get(checkout_url(world), {"appointment": "x"}).status_code == 404


def test_checkout_queries_do_not_grow_with_the_catalogue(
    as_staff, world, desk, appointment, django_assert_max_num_queries
):
    url = checkout_url(world)
    as_staff.get(url)
    with django_assert_max_num_queries(12) as few:
        as_staff.get(url, {"appointment": appointment.pk})
    with all_tenants():
        for _ in range(8):
            ServiceFactory(business=world.business)
            ProductFactory(business=world.business)
            TeamMemberFactory(business=world.business)
            AppointmentServiceFactory(appointment=appointment)
    with django_assert_max_num_queries(len(few.captured_queries)):
        as_staff.get(url, {"appointment": appointment.pk})


def test_a_posted_checkout_takes_a_fixed_number_of_queries(
    as_staff, world, desk, django_assert_max_num_queries
):
    def post(rows):
        data = form_data(
            items=[{"item": f"product:{desk['product'].pk}", "quantity": 1}] * rows,
            payments=[{"method": "cash", "amount": str(D("9.50") * rows)}],
        )
        return as_staff.post(checkout_url(world), data)

    post(1)
    with django_assert_max_num_queries(30) as few:
        post(1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        post(6)
    assert len(sales()) == 3


def test_staff_and_managers_can_check_out_but_not_outsiders(as_outsider, as_manager, world, desk):
    data = form_data(
        items=[{"item": f"product:{desk['product'].pk}", "quantity": 1}],
        payments=[{"method": "cash", "amount": "9.50"}],
    )
    assert as_outsider.post(checkout_url(world), data).status_code == 404
    assert as_manager.post(checkout_url(world), data).status_code == 302
    assert len(sales()) == 1
