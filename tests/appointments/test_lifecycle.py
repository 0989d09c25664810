"""The status lifecycle: booked → completed, canceled or no-show; nothing else moves."""

import datetime

import pytest

from appointments import services
from appointments.models import Appointment, AppointmentStatus
from appointments.services import BookingError
from glamiti.tenancy import tenant_context
from tests.appointments.conftest import at
from tests.factories_appointments import AppointmentFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

BOOKED, COMPLETED = AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED
CANCELED, NO_SHOW = AppointmentStatus.CANCELED, AppointmentStatus.NO_SHOW


def make(salon, status=BOOKED, start=None, **fields) -> Appointment:
    start = start or at(-1, 10)
    with all_tenants():
        return AppointmentFactory(
            business=salon.business,
            client=salon.client,
            team_member=salon.priya,
            start_at=start,
            end_at=start + datetime.timedelta(hours=1),
            status=status,
            **fields,
        )


def reload(appointment: Appointment) -> Appointment:
    with all_tenants():
        return Appointment.objects.get(pk=appointment.pk)


# --- The model's predicates ------------------------------------------------------------------

FINISHED = [
    (COMPLETED, "completed"),
    (CANCELED, "canceled"),
    (NO_SHOW, "no-show"),
]


@pytest.mark.parametrize(("status", "shown"), FINISHED)
@pytest.mark.parametrize(
    ("predicate", "action"),
    [
        ("can_complete", "completed"),
        ("can_cancel", "canceled"),
        ("can_mark_no_show", "marked as a no-show"),
        ("can_reschedule", "moved"),
    ],
)
def test_only_a_booked_appointment_changes_status(salon, status, shown, predicate, action):
    appointment = make(salon, status=status)
    with tenant_context(salon.business):
        ok, reason = getattr(appointment, predicate)()
    assert not ok
    assert reason == f"Only a booked appointment can be {action}; this one is {shown}."


def test_a_past_booked_appointment_allows_every_change(salon):
    appointment = make(salon, start=at(-1, 10))
    with tenant_context(salon.business):
        verdicts = [
            appointment.can_complete(),
            appointment.can_cancel(),
            appointment.can_mark_no_show(),
            appointment.can_reschedule(),
        ]
    assert verdicts == [(True, "")] * 4


def test_a_future_appointment_cannot_be_completed_or_missed(salon):
    appointment = make(salon, start=at(2, 10))
    with tenant_context(salon.business):
        assert appointment.can_complete() == (
            False,
            "An appointment can't be completed before the day it is booked for.",
        )
        assert appointment.can_mark_no_show() == (
            False,
            "A client can't miss an appointment that hasn't started yet.",
        )
        assert appointment.can_cancel() == (True, "")
        assert appointment.can_reschedule() == (True, "")


# --- The services that apply them ------------------------------------------------------------


def test_complete_records_when(salon, world):
    appointment = make(salon)
    with tenant_context(salon.business):
        services.appointment_complete(appointment=appointment, by=world.staff)
    done = reload(appointment)
    assert done.status == COMPLETED
    assert done.completed_at is not None


def test_cancel_records_who_when_and_why(salon, world):
    appointment = make(salon, start=at(3, 11))
    with tenant_context(salon.business):
        services.appointment_cancel(
            appointment=appointment, by=world.staff, reason="  Client   is unwell "
        )
    canceled = reload(appointment)
    assert canceled.status == CANCELED
    assert canceled.canceled_by == world.staff
    assert canceled.canceled_at is not None
    assert canceled.cancel_reason == "Client is unwell"


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancel_needs_a_reason(salon, world, reason):
    appointment = make(salon, start=at(3, 11))
    with tenant_context(salon.business), pytest.raises(BookingError) as refused:
        services.appointment_cancel(appointment=appointment, by=world.staff, reason=reason)
    assert refused.value.message == "Say why the appointment is canceled."
    assert refused.value.field == "reason"
    assert reload(appointment).status == BOOKED


def test_cancel_reason_has_a_length_limit(salon, world):
    appointment = make(salon, start=at(3, 11))
    with tenant_context(salon.business), pytest.raises(BookingError, match="under 200"):
        services.appointment_cancel(appointment=appointment, by=world.staff, reason="x" * 201)


def test_no_show_records_when(salon, world):
    appointment = make(salon)
    with tenant_context(salon.business):
        services.appointment_mark_no_show(appointment=appointment, by=world.staff)
    missed = reload(appointment)
    assert missed.status == NO_SHOW
    assert missed.no_show_at is not None


def test_completing_a_future_appointment_is_refused_with_the_reason(salon, world):
    appointment = make(salon, start=at(2, 10))
    with tenant_context(salon.business), pytest.raises(BookingError) as refused:
        services.appointment_complete(appointment=appointment, by=world.staff)
    assert str(refused.value) == (
        "An appointment can't be completed before the day it is booked for."
    )
    assert reload(appointment).status == BOOKED


def test_marking_a_future_appointment_as_missed_is_refused(salon, world):
    appointment = make(salon, start=at(2, 10))
    with tenant_context(salon.business), pytest.raises(BookingError, match="hasn't started"):
        services.appointment_mark_no_show(appointment=appointment, by=world.staff)
    assert reload(appointment).status == BOOKED


@pytest.mark.parametrize(("status", "shown"), FINISHED)
def test_every_service_refuses_a_finished_appointment(salon, world, status, shown):
    appointment = make(salon, status=status)
    calls = {
        "completed": lambda: services.appointment_complete(appointment=appointment, by=None),
        "canceled": lambda: services.appointment_cancel(
            appointment=appointment, by=None, reason="Changed mind"
        ),
        "marked as a no-show": lambda: services.appointment_mark_no_show(
            appointment=appointment, by=None
        ),
        "moved": lambda: services.appointment_reschedule(
            appointment=appointment, start_at=at(5, 9), by=None
        ),
    }
    for action, call in calls.items():
        with tenant_context(salon.business), pytest.raises(BookingError) as refused:
            call()
        assert refused.value.message == (
            f"Only a booked appointment can be {action}; this one is {shown}."
        )
    assert reload(appointment).status == status


def test_the_service_reads_the_current_status_not_a_stale_copy(salon, world):
    appointment = make(salon)
    stale = reload(appointment)
    with tenant_context(salon.business):
        services.appointment_complete(appointment=appointment, by=world.staff)
        with pytest.raises(BookingError, match="this one is completed"):
            services.appointment_cancel(appointment=stale, by=world.staff, reason="Oops")
