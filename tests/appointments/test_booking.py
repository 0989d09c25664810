"""Booking: length and prices, who can be booked, and no double booking (in Python on every
database, and by the database itself on PostgreSQL)."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments import services
from appointments.models import Appointment, AppointmentService, AppointmentStatus
from appointments.services import BookingError
from glamiti.tenancy import tenant_context
from tests.appointments.conftest import at, postgres_only
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_appointments import AppointmentFactory, ServiceFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def book(salon, *, start=None, member=None, client=None, chosen=None, by=None, notes=""):
    with tenant_context(salon.business):
        return services.appointment_book(
            business=salon.business,
            client=client or salon.client,
            team_member=member or salon.priya,
            start_at=start or at(1, 10),
            services=chosen if chosen is not None else [salon.cut],
            notes=notes,
            by=by,
        )


def refused(salon, **kwargs) -> BookingError:
    with pytest.raises(BookingError) as error:
        book(salon, **kwargs)
    return error.value


def appointment_count(salon) -> int:
    with all_tenants():
        return Appointment.objects.filter(business=salon.business).count()


# --- Length and prices -----------------------------------------------------------------------


def test_booking_ends_after_the_sum_of_the_services(salon, world):
    appointment = book(salon, chosen=[salon.cut, salon.colour], by=world.staff, notes=" Hi ")
    assert appointment.start_at == at(1, 10)
    assert appointment.end_at == at(1, 12, 15)  # 45 + 90 minutes
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.created_by == world.staff
    assert appointment.notes == "Hi"


def test_booking_snapshots_each_service_in_order(salon):
    appointment = book(salon, chosen=[salon.colour, salon.cut])
    with all_tenants():
        salon.colour.price = Decimal("99.00")
        salon.colour.name = "Colour (new)"
        salon.colour.save()
        lines = list(
            AppointmentService.objects.filter(appointment=appointment).values_list(
                "name", "price", "duration_minutes", "position", "business_id"
            )
        )
    assert lines == [
        ("Colour", Decimal("85.50"), 90, 0, salon.business.pk),
        ("Cut", Decimal("40.00"), 45, 1, salon.business.pk),
    ]


def test_naive_start_is_a_programming_error(salon):
    with pytest.raises(ValueError, match="aware"):
        book(salon, start=datetime.datetime(2030, 1, 1, 10, 0))  # noqa: DTZ001


# --- Who and what can be booked --------------------------------------------------------------


def test_blocked_client_is_refused_with_the_reason(salon):
    with all_tenants():
        salon.client.is_blocked = True
        salon.client.blocked_reason = "Three no-shows in a row"
        salon.client.save()
    error = refused(salon)
    assert error.message == "Amelia Smith is blocked from booking: Three no-shows in a row"
    assert error.field == "client"
    assert appointment_count(salon) == 0


def test_archived_client_is_refused(salon):
    with all_tenants():
        salon.client.archive()
    assert refused(salon).message == "Amelia Smith is archived. Restore them before booking."


def test_inactive_team_member_is_refused(salon):
    with all_tenants():
        salon.priya.is_active = False
        salon.priya.save()
    error = refused(salon)
    assert error.message == "Priya Shah no longer takes appointments."
    assert error.field == "team_member"


def test_inactive_service_is_refused(salon):
    with all_tenants():
        salon.colour.is_active = False
        salon.colour.save()
    error = refused(salon, chosen=[salon.cut, salon.colour])
    assert error.message == "“Colour” is no longer offered."
    assert appointment_count(salon) == 0


def test_no_service_is_refused(salon):
    assert refused(salon, chosen=[]).message == "Choose at least one service."


def test_objects_of_another_business_are_refused(salon, world):
    with all_tenants():
        their_client = ClientFactory(business=world.other_business)
        their_member = TeamMemberFactory(business=world.other_business)
        their_service = ServiceFactory(business=world.other_business)
    assert "isn't one of this business's" in refused(salon, client=their_client).message
    assert "isn't one of this business's" in refused(salon, member=their_member).message
    assert "isn't one of this business's" in refused(salon, chosen=[their_service]).message
    assert appointment_count(salon) == 0


# --- No double booking -----------------------------------------------------------------------


def test_overlapping_booking_is_refused_with_a_clear_message(salon):
    book(salon, start=at(1, 10))  # 10:00–10:45
    with all_tenants():
        other = ClientFactory(business=salon.business, first_name="Zoe", last_name="Hall")
    error = refused(salon, start=at(1, 10, 30), client=other)
    assert error.message == (
        "Priya Shah is already booked from 10:00 to 10:45 (with Amelia Smith). "
        "Choose another time or team member."
    )
    assert error.field == "start_time"
    assert appointment_count(salon) == 1


def test_a_booking_that_surrounds_another_is_refused(salon):
    book(salon, start=at(1, 10), chosen=[salon.cut])  # 10:00–10:45
    assert "already booked" in refused(salon, start=at(1, 9), chosen=[salon.colour]).message


def test_back_to_back_bookings_are_fine(salon):
    first = book(salon, start=at(1, 10))
    second = book(salon, start=first.end_at)
    before = book(salon, start=at(1, 9, 15))  # ends 10:00 exactly
    assert second.start_at == first.end_at
    assert before.end_at == first.start_at


def test_another_team_member_may_take_the_same_time(salon):
    book(salon, start=at(1, 10))
    assert book(salon, start=at(1, 10), member=salon.sam).team_member == salon.sam


@pytest.mark.parametrize("status", [AppointmentStatus.CANCELED, AppointmentStatus.NO_SHOW])
def test_canceled_and_missed_appointments_free_the_time(salon, status):
    with all_tenants():
        AppointmentFactory(
            business=salon.business,
            client=salon.client,
            team_member=salon.priya,
            start_at=at(1, 10),
            end_at=at(1, 11),
            status=status,
        )
    assert book(salon, start=at(1, 10)).status == AppointmentStatus.BOOKED


def test_a_completed_appointment_still_holds_its_time(salon):
    with all_tenants():
        AppointmentFactory(
            business=salon.business,
            team_member=salon.priya,
            start_at=at(-1, 10),
            end_at=at(-1, 11),
            status=AppointmentStatus.COMPLETED,
        )
    assert "already booked" in refused(salon, start=at(-1, 10, 30)).message


def _insert(salon, start, end, status=AppointmentStatus.BOOKED, member=None):
    with all_tenants(), transaction.atomic():
        return Appointment.objects.create(
            business=salon.business,
            client=salon.client,
            team_member=member or salon.priya,
            start_at=start,
            end_at=end,
            status=status,
        )


@postgres_only
def test_the_database_itself_refuses_a_double_booking(salon):
    _insert(salon, at(1, 10), at(1, 11))
    with pytest.raises(IntegrityError, match="appointment_no_double_booking"):
        _insert(salon, at(1, 10, 30), at(1, 11, 30))
    with pytest.raises(IntegrityError):
        _insert(salon, at(1, 10, 30), at(1, 11, 30), status=AppointmentStatus.COMPLETED)


@postgres_only
def test_the_database_allows_back_to_back_canceled_and_other_members(salon):
    _insert(salon, at(1, 10), at(1, 11))
    _insert(salon, at(1, 11), at(1, 12))
    _insert(salon, at(1, 10), at(1, 11), status=AppointmentStatus.CANCELED)
    _insert(salon, at(1, 10), at(1, 11), status=AppointmentStatus.NO_SHOW)
    _insert(salon, at(1, 10), at(1, 11), member=salon.sam)
    assert appointment_count(salon) == 5


@postgres_only
def test_the_database_refuses_a_canceled_appointment_coming_back_over_another(salon):
    canceled = _insert(salon, at(1, 10), at(1, 11), status=AppointmentStatus.CANCELED)
    _insert(salon, at(1, 10), at(1, 11))
    with all_tenants(), pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=canceled.pk).update(status=AppointmentStatus.BOOKED)


@postgres_only
def test_a_booking_that_races_past_the_check_gets_the_same_message(salon, monkeypatch):
    """Two desks booking the same slot at once: the database is the last word, and the
    person who lost still gets a clear message, not an error page."""
    book(salon, start=at(1, 10))
    monkeypatch.setattr(services, "_refuse_overlap", lambda appointment: None)
    with transaction.atomic():  # the request's transaction stays usable afterwards
        error = refused(salon, start=at(1, 10, 15))
        assert error.message.startswith("Priya Shah is already booked from 10:00 to 10:45")
        assert appointment_count(salon) == 1
    assert isinstance(error.__cause__, IntegrityError)


# --- Rescheduling ----------------------------------------------------------------------------


def test_reschedule_keeps_the_length_and_may_change_team_member(salon, world):
    appointment = book(salon, start=at(1, 10), chosen=[salon.colour])
    with tenant_context(salon.business):
        moved = services.appointment_reschedule(
            appointment=appointment, start_at=at(2, 14), team_member=salon.sam, by=world.staff
        )
    assert (moved.start_at, moved.end_at, moved.team_member) == (
        at(2, 14),
        at(2, 15, 30),
        salon.sam,
    )
    with all_tenants():
        stored = Appointment.objects.get(pk=appointment.pk)
    assert (stored.start_at, stored.end_at, stored.team_member_id) == (
        at(2, 14),
        at(2, 15, 30),
        salon.sam.pk,
    )


def test_reschedule_into_a_taken_slot_is_refused(salon, world):
    book(salon, start=at(1, 14))  # 14:00–14:45
    appointment = book(salon, start=at(1, 10))
    with tenant_context(salon.business), pytest.raises(BookingError) as error:
        services.appointment_reschedule(appointment=appointment, start_at=at(1, 14, 30), by=None)
    assert error.value.message.startswith("Priya Shah is already booked from 14:00 to 14:45")
    with all_tenants():
        assert Appointment.objects.get(pk=appointment.pk).start_at == at(1, 10)


def test_reschedule_may_overlap_its_own_old_time(salon):
    appointment = book(salon, start=at(1, 10))
    with tenant_context(salon.business):
        moved = services.appointment_reschedule(
            appointment=appointment, start_at=at(1, 10, 15), by=None
        )
    assert moved.start_at == at(1, 10, 15)


def test_reschedule_to_an_inactive_team_member_is_refused(salon):
    appointment = book(salon, start=at(1, 10))
    with all_tenants():
        salon.sam.is_active = False
        salon.sam.save()
    with tenant_context(salon.business), pytest.raises(BookingError, match="no longer takes"):
        services.appointment_reschedule(
            appointment=appointment, start_at=at(1, 12), team_member=salon.sam, by=None
        )


def test_clash_on_another_day_names_the_day(salon):
    # A late booking that runs past midnight clashes with an early one the next day.
    with all_tenants():
        long = ServiceFactory(business=salon.business, name="Marathon", duration_minutes=600)
    book(salon, start=at(2, 0, 30))  # 00:30–01:15 on day 2
    error = refused(salon, start=at(1, 20), chosen=[long])  # 20:00 day 1 → 06:00 day 2
    day = timezone.localdate(at(2, 0, 30), timezone=at(2, 0).tzinfo)
    assert f"already booked on {day:%a} {day.day} {day:%b} from 00:30 to 01:15" in error.message
