"""The client's last visit and next appointment follow their appointments."""

import pytest

from appointments import services
from appointments.models import AppointmentStatus
from clients.merge import client_merge, client_merge_undo
from clients.models import Client
from glamiti.tenancy import tenant_context
from tests.appointments.conftest import at
from tests.factories import ClientFactory
from tests.factories_appointments import AppointmentFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def reload(client: Client) -> Client:
    with all_tenants():
        return Client.objects.get(pk=client.pk)


def appointment(salon, client, start, status=AppointmentStatus.BOOKED, member=None):
    with all_tenants():
        return AppointmentFactory(
            business=salon.business,
            client=client,
            team_member=member or salon.priya,
            start_at=start,
            end_at=start.replace(hour=start.hour + 1),
            status=status,
        )


def test_refresh_uses_completed_for_last_visit_and_booked_future_for_next(
    salon, django_assert_num_queries
):
    client = salon.client
    appointment(salon, client, at(-20, 10), AppointmentStatus.COMPLETED)
    appointment(salon, client, at(-5, 10), AppointmentStatus.COMPLETED)
    appointment(salon, client, at(-2, 10), AppointmentStatus.NO_SHOW)
    appointment(salon, client, at(-1, 10), AppointmentStatus.BOOKED)  # past, never closed
    appointment(salon, client, at(3, 10), AppointmentStatus.CANCELED)
    appointment(salon, client, at(9, 10), AppointmentStatus.BOOKED, member=salon.sam)
    appointment(salon, client, at(7, 10), AppointmentStatus.BOOKED)
    with all_tenants():
        appointment(salon, ClientFactory(business=salon.business), at(4, 10))  # someone else
    with tenant_context(salon.business), django_assert_num_queries(2):  # read + one update
        services.refresh_client_visits(client)
    assert (client.last_visit_at, client.next_appointment_at) == (at(-5, 10), at(7, 10))
    stored = reload(client)
    assert (stored.last_visit_at, stored.next_appointment_at) == (at(-5, 10), at(7, 10))


def test_refresh_clears_dates_with_nothing_behind_them(salon, django_assert_num_queries):
    with all_tenants():
        Client.objects.filter(pk=salon.client.pk).update(
            last_visit_at=at(-3, 10), next_appointment_at=at(3, 10)
        )
    client = reload(salon.client)
    with tenant_context(salon.business):
        services.refresh_client_visits(client)
        with django_assert_num_queries(1):  # nothing changed: nothing written
            services.refresh_client_visits(client)
    stored = reload(client)
    assert (stored.last_visit_at, stored.next_appointment_at) == (None, None)


def test_refresh_does_not_overwrite_other_fields_from_a_stale_copy(salon):
    stale = reload(salon.client)
    with all_tenants():
        Client.objects.filter(pk=salon.client.pk).update(email="new@example.com")
    appointment(salon, stale, at(2, 10))
    with tenant_context(salon.business):
        services.refresh_client_visits(stale)
    assert reload(salon.client).email == "new@example.com"


def test_every_service_keeps_the_dates_right(salon, world):
    with tenant_context(salon.business):
        first = services.appointment_book(
            business=salon.business,
            client=salon.client,
            team_member=salon.priya,
            start_at=at(2, 10),
            services=[salon.cut],
        )
        assert reload(salon.client).next_appointment_at == at(2, 10)
        services.appointment_reschedule(appointment=first, start_at=at(4, 9), by=None)
        assert reload(salon.client).next_appointment_at == at(4, 9)
        services.appointment_cancel(appointment=first, by=None, reason="Busy")
        assert reload(salon.client).next_appointment_at is None

        past = services.appointment_book(
            business=salon.business,
            client=salon.client,
            team_member=salon.priya,
            start_at=at(-1, 15),
            services=[salon.cut],
        )
        services.appointment_complete(appointment=past, by=None)
        assert reload(salon.client).last_visit_at == at(-1, 15)

        missed = services.appointment_book(
            business=salon.business,
            client=salon.client,
            team_member=salon.priya,
            start_at=at(-1, 8),
            services=[salon.cut],
        )
        services.appointment_mark_no_show(appointment=missed, by=None)
        assert reload(salon.client).last_visit_at == at(-1, 15)


def test_merge_and_undo_move_the_dates_with_the_appointments(salon, world):
    with all_tenants():
        kept = ClientFactory(business=salon.business)
        merged = ClientFactory(business=salon.business)
    appointment(salon, merged, at(-3, 10), AppointmentStatus.COMPLETED)
    appointment(salon, merged, at(5, 10))
    with tenant_context(salon.business):
        services.refresh_client_visits(merged)
        record = client_merge(kept=kept, merged=merged, by=world.manager)
    assert (reload(kept).last_visit_at, reload(kept).next_appointment_at) == (
        at(-3, 10),
        at(5, 10),
    )
    assert (reload(merged).last_visit_at, reload(merged).next_appointment_at) == (None, None)

    with tenant_context(salon.business):
        client_merge_undo(merge=record, by=world.manager)
    assert (reload(kept).last_visit_at, reload(kept).next_appointment_at) == (None, None)
    assert reload(merged).next_appointment_at == at(5, 10)
