"""The appointment pages: booking (page and dialog), the appointment's actions, services."""

import datetime
from decimal import Decimal

import pytest

from appointments.models import Appointment, AppointmentStatus, Service
from tests.appointments.conftest import at, url
from tests.factories_appointments import AppointmentFactory, AppointmentServiceFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def booking_data(salon, start=None, **overrides) -> dict:
    start = start or at(1, 10)
    data = {
        "client": salon.client.pk,
        "team_member": salon.priya.pk,
        "date": start.date().isoformat(),
        "start_time": f"{start:%H:%M}",
        "services": [salon.cut.pk, salon.colour.pk],
        "notes": "Bring reference photos",
    }
    return {**data, **overrides}


def appointments(salon) -> list[Appointment]:
    with all_tenants():
        return list(Appointment.objects.filter(business=salon.business))


def make(salon, start=None, status=AppointmentStatus.BOOKED, member=None) -> Appointment:
    start = start or at(-1, 10)
    with all_tenants():
        appointment = AppointmentFactory(
            business=salon.business,
            client=salon.client,
            team_member=member or salon.priya,
            start_at=start,
            end_at=start + datetime.timedelta(minutes=45),
            status=status,
        )
        AppointmentServiceFactory(appointment=appointment, service=salon.cut, name="Cut")
    return appointment


def reload(appointment: Appointment) -> Appointment:
    with all_tenants():
        return Appointment.objects.get(pk=appointment.pk)


# --- Booking ---------------------------------------------------------------------------------


def test_booking_page_is_prefilled_from_the_link(as_staff, salon):
    query = f"?team_member={salon.priya.pk}&date=2030-03-01&time=10:15&client={salon.client.pk}"
    body = as_staff.get(url(salon.business, "book") + query).content.decode()
    assert f'<option value="{salon.priya.pk}" selected>Priya Shah</option>' in body
    assert 'value="2030-03-01"' in body
    assert 'value="10:15"' in body
    assert "Amelia Smith" in body
    assert "+ Add a new client" in body
    assert "45 min · £40.00" in body


def test_booking_page_survives_nonsense_in_the_link(as_staff, salon):
    query = "?team_member=abc&date=someday&time=25:99&client=-1"
    assert as_staff.get(url(salon.business, "book") + query).status_code == 200


def test_booking_dialog_is_a_fragment(as_staff, salon):
    response = as_staff.get(url(salon.business, "book") + "?dialog=1", **HTMX)
    body = response.content.decode()
    assert "<dialog" in body and "data-autoshow" in body
    assert "<html" not in body
    assert 'name="dialog" value="1"' in body


def test_booking_creates_the_appointment_and_shows_it_on_the_calendar(as_staff, salon, world):
    response = as_staff.post(url(salon.business, "book"), booking_data(salon))
    [appointment] = appointments(salon)
    assert response.status_code == 302
    assert response.url == (
        f"{url(salon.business, 'calendar')}?date={at(1, 0).date()}&focus={appointment.pk}"
    )
    assert (appointment.start_at, appointment.end_at) == (at(1, 10), at(1, 12, 15))
    assert appointment.created_by == world.staff
    assert appointment.notes == "Bring reference photos"
    page = as_staff.get(response.url).content.decode()
    assert "Booked Amelia Smith with Priya Shah" in page
    assert "is-focus" in page


def test_booking_from_the_dialog_redirects_the_page(as_staff, salon):
    response = as_staff.post(url(salon.business, "book"), booking_data(salon, dialog="1"), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(url(salon.business, "calendar") + "?date=")
    assert len(appointments(salon)) == 1


def test_double_booking_is_explained_in_the_form_and_nothing_is_lost(as_staff, salon):
    as_staff.post(url(salon.business, "book"), booking_data(salon))  # 10:00–12:15
    with all_tenants():
        other = type(salon.client).objects.create(
            business=salon.business, first_name="Zoe", last_name="Hall"
        )
    data = booking_data(salon, start=at(1, 11), client=other.pk, notes="Keep me", dialog="1")
    response = as_staff.post(url(salon.business, "book"), data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Priya Shah is already booked from 10:00 to 12:15 (with Amelia Smith)." in body
    assert 'role="alert"' in body
    assert "Keep me" in body and "Zoe Hall" in body and 'value="11:00"' in body
    assert "<dialog" not in body  # the form alone, swapped in place inside the open dialog
    assert len(appointments(salon)) == 1


def test_blocked_client_is_explained_next_to_the_client(as_staff, salon):
    with all_tenants():
        salon.client.is_blocked = True
        salon.client.blocked_reason = "Unpaid bill"
        salon.client.save()
    body = as_staff.post(url(salon.business, "book"), booking_data(salon)).content.decode()
    assert "Amelia Smith is blocked from booking: Unpaid bill" in body
    assert appointments(salon) == []


def test_an_empty_booking_form_says_what_is_missing(as_staff, salon):
    body = as_staff.post(url(salon.business, "book"), {"date": "", "start_time": ""}).content
    body = body.decode()
    for message in [
        "Choose the client, or add a new one.",
        "Choose who the appointment is with.",
        "Choose at least one service.",
        "This field is required.",
    ]:
        assert message in body


def test_a_time_skipped_by_the_clocks_is_refused(as_staff, salon):
    # 01:30 on 31 March 2030 doesn't exist in London: the clocks jump from 01:00 to 02:00.
    data = booking_data(salon, date="2030-03-31", start_time="01:30")
    body = as_staff.post(url(salon.business, "book"), data).content.decode()
    assert "the clocks go forward" in body
    assert appointments(salon) == []


def test_an_inactive_service_cannot_be_chosen(as_staff, salon):
    with all_tenants():
        Service.objects.filter(pk=salon.colour.pk).update(is_active=False)
    body = as_staff.post(url(salon.business, "book"), booking_data(salon)).content.decode()
    assert "no longer offered" in body
    assert appointments(salon) == []


# --- One appointment -------------------------------------------------------------------------


def test_detail_shows_services_total_actions_and_checkout(as_staff, salon):
    appointment = make(salon)
    body = as_staff.get(url(salon.business, "detail", pk=appointment.pk)).content.decode()
    assert "Amelia Smith" in body and "Priya Shah" in body
    assert "£40.00" in body
    for action in ["complete", "no-show", "cancel", "reschedule"]:
        assert url(salon.business, action, pk=appointment.pk) in body
    assert f"/{salon.business.slug}/sales/checkout/?appointment={appointment.pk}" in body


def test_detail_of_a_future_appointment_offers_no_complete_or_no_show(as_staff, salon):
    appointment = make(salon, start=at(2, 10))
    body = as_staff.get(url(salon.business, "detail", pk=appointment.pk)).content.decode()
    assert url(salon.business, "complete", pk=appointment.pk) not in body
    assert url(salon.business, "no-show", pk=appointment.pk) not in body
    assert "be completed before the day it is booked for" in body


def test_complete_from_the_page(as_staff, salon):
    appointment = make(salon)
    response = as_staff.post(url(salon.business, "complete", pk=appointment.pk), follow=True)
    assert "Appointment completed." in response.content.decode()
    assert reload(appointment).status == AppointmentStatus.COMPLETED


def test_a_refused_change_is_explained_not_an_error(as_staff, salon):
    appointment = make(salon, start=at(2, 10))
    response = as_staff.post(url(salon.business, "complete", pk=appointment.pk), follow=True)
    assert response.status_code == 200
    assert "be completed before the day it is booked for" in response.content.decode()
    assert reload(appointment).status == AppointmentStatus.BOOKED


def test_no_show_from_the_page(as_staff, salon):
    appointment = make(salon)
    response = as_staff.post(url(salon.business, "no-show", pk=appointment.pk), follow=True)
    assert "Marked as a no-show." in response.content.decode()
    assert reload(appointment).status == AppointmentStatus.NO_SHOW


def test_status_changes_need_a_post(as_staff, salon):
    appointment = make(salon)
    assert as_staff.get(url(salon.business, "complete", pk=appointment.pk)).status_code == 405
    assert as_staff.get(url(salon.business, "no-show", pk=appointment.pk)).status_code == 405
    assert reload(appointment).status == AppointmentStatus.BOOKED


def test_cancel_needs_a_reason_on_the_page(as_staff, salon):
    appointment = make(salon, start=at(2, 10))
    response = as_staff.post(url(salon.business, "cancel", pk=appointment.pk), {"reason": " "})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Say why the appointment is canceled." in body
    assert '<details class="appointment-action" open>' in body
    assert reload(appointment).status == AppointmentStatus.BOOKED


def test_cancel_from_the_page(as_staff, salon, world):
    appointment = make(salon, start=at(2, 10))
    response = as_staff.post(
        url(salon.business, "cancel", pk=appointment.pk), {"reason": "Client canceled"}, follow=True
    )
    body = response.content.decode()
    assert "Appointment canceled." in body
    assert "Client canceled" in body
    canceled = reload(appointment)
    assert (canceled.status, canceled.canceled_by) == (AppointmentStatus.CANCELED, world.staff)


def test_canceling_twice_is_explained(as_staff, salon):
    appointment = make(salon, status=AppointmentStatus.CANCELED)
    response = as_staff.post(
        url(salon.business, "cancel", pk=appointment.pk), {"reason": "Again"}, follow=True
    )
    assert "Only a booked appointment can be canceled; this one is canceled." in (
        response.content.decode()
    )


def test_reschedule_from_the_page(as_staff, salon):
    appointment = make(salon, start=at(2, 10))
    data = {"team_member": salon.sam.pk, "date": at(3, 0).date().isoformat(), "start_time": "15:30"}
    response = as_staff.post(url(salon.business, "reschedule", pk=appointment.pk), data)
    assert response.status_code == 302
    moved = reload(appointment)
    assert (moved.start_at, moved.end_at, moved.team_member) == (
        at(3, 15, 30),
        at(3, 16, 15),
        salon.sam,
    )


def test_reschedule_into_a_taken_slot_is_explained(as_staff, salon):
    make(salon, start=at(3, 15), member=salon.sam)
    appointment = make(salon, start=at(2, 10))
    data = {"team_member": salon.sam.pk, "date": at(3, 0).date().isoformat(), "start_time": "15:30"}
    response = as_staff.post(url(salon.business, "reschedule", pk=appointment.pk), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Sam Taylor is already booked from 15:00 to 15:45" in body
    assert reload(appointment).start_at == at(2, 10)


def test_reschedule_page_opens_the_form(as_staff, salon):
    appointment = make(salon, start=at(2, 10))
    response = as_staff.get(url(salon.business, "reschedule", pk=appointment.pk))
    assert '<details class="appointment-action" open>' in response.content.decode()


# --- Services --------------------------------------------------------------------------------


def test_manager_lists_and_adds_services(as_manager, salon):
    body = as_manager.get(url(salon.business, "services")).content.decode()
    assert "Cut" in body and "£85.50" in body
    data = {"name": " Gel   manicure ", "category": "Nails", "duration_minutes": 45}
    response = as_manager.post(
        url(salon.business, "service-create"), {**data, "price": "32", "is_active": "on"}
    )
    assert response.status_code == 302
    with all_tenants():
        added = Service.objects.get(business=salon.business, name="Gel manicure")
    assert (added.price, added.duration_minutes, added.is_active) == (Decimal("32"), 45, True)


def test_manager_edits_a_service(as_manager, salon):
    data = {"name": "Cut", "category": "Hair", "duration_minutes": 50, "price": "42.50"}
    data["is_active"] = "on"
    response = as_manager.post(url(salon.business, "service-edit", pk=salon.cut.pk), data)
    assert response.status_code == 302
    with all_tenants():
        salon.cut.refresh_from_db()
    assert (salon.cut.duration_minutes, salon.cut.price, salon.cut.is_active) == (
        50,
        Decimal("42.50"),
        True,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "cut", "There is already a service called “cut”."),
        ("price", "-1", "A price can"),
        ("duration_minutes", "0", "between 5 minutes and 12 hours"),
    ],
)
def test_service_form_explains_problems(as_manager, salon, field, value, message):
    data = {"name": "New", "category": "", "duration_minutes": 30, "price": "10", field: value}
    response = as_manager.post(url(salon.business, "service-create"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
