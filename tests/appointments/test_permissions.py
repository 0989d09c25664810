"""Who may open what: outsiders get 404 everywhere, staff can't manage services, and no URL
reaches another business's appointment or service."""

import pytest

from appointments.models import Appointment, AppointmentStatus
from tests.appointments.conftest import at, url
from tests.factories_appointments import AppointmentFactory, ServiceFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

APPOINTMENT_PAGES = ["detail", "cancel", "reschedule"]
APPOINTMENT_POSTS = ["complete", "no-show", "cancel", "reschedule"]
SERVICE_PAGES = ["services", "service-create"]


@pytest.fixture
def appointment(salon) -> Appointment:
    with all_tenants():
        return AppointmentFactory(
            business=salon.business,
            client=salon.client,
            team_member=salon.priya,
            start_at=at(-1, 10),
            end_at=at(-1, 11),
        )


def every_url(salon, appointment) -> list[str]:
    business = salon.business
    return [
        url(business, "calendar"),
        url(business, "book"),
        *(url(business, name, pk=appointment.pk) for name in APPOINTMENT_PAGES),
        *(url(business, name, pk=appointment.pk) for name in APPOINTMENT_POSTS),
        *(url(business, name) for name in SERVICE_PAGES),
        url(business, "service-edit", pk=salon.cut.pk),
    ]


def test_outsider_gets_404_on_every_url(as_outsider, salon, appointment):
    for address in every_url(salon, appointment):
        assert as_outsider.get(address).status_code == 404, address
        assert as_outsider.post(address, {"reason": "x"}).status_code == 404, address
    with all_tenants():
        assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.BOOKED


def test_anonymous_is_sent_to_login(client, salon, appointment):
    for address in every_url(salon, appointment):
        response = client.get(address)
        assert response.status_code == 302, address
        assert "/accounts/login/" in response.url


def test_staff_may_use_the_calendar_and_book(as_staff, salon, appointment):
    for address in [
        url(salon.business, "calendar"),
        url(salon.business, "book"),
        *(url(salon.business, name, pk=appointment.pk) for name in APPOINTMENT_PAGES),
    ]:
        assert as_staff.get(address).status_code == 200, address


def test_staff_cannot_manage_services(as_staff, salon):
    addresses = [
        *(url(salon.business, name) for name in SERVICE_PAGES),
        url(salon.business, "service-edit", pk=salon.cut.pk),
    ]
    for address in addresses:
        assert as_staff.get(address).status_code == 403, address
        data = {"name": "Hack", "duration_minutes": 30, "price": "0"}
        assert as_staff.post(address, data).status_code == 403, address
    with all_tenants():
        assert not salon.business.services.filter(name="Hack").exists()


@pytest.mark.parametrize("role_client", ["as_manager", "as_owner"])
def test_managers_and_owners_manage_services(request, salon, role_client):
    http = request.getfixturevalue(role_client)
    assert http.get(url(salon.business, "services")).status_code == 200
    assert http.get(url(salon.business, "service-edit", pk=salon.cut.pk)).status_code == 200


def test_another_business_appointment_is_404_through_our_urls(as_owner, salon, world):
    with all_tenants():
        theirs = AppointmentFactory(
            business=world.other_business, start_at=at(-1, 10), end_at=at(-1, 11)
        )
    for name in APPOINTMENT_PAGES:
        assert as_owner.get(url(salon.business, name, pk=theirs.pk)).status_code == 404
    for name in APPOINTMENT_POSTS:
        response = as_owner.post(url(salon.business, name, pk=theirs.pk), {"reason": "x"})
        assert response.status_code == 404
    with all_tenants():
        assert Appointment.objects.get(pk=theirs.pk).status == AppointmentStatus.BOOKED


def test_another_business_urls_are_404_for_us(as_owner, salon, world):
    with all_tenants():
        theirs = AppointmentFactory(
            business=world.other_business, start_at=at(-1, 10), end_at=at(-1, 11)
        )
    assert as_owner.get(url(world.other_business, "calendar")).status_code == 404
    assert as_owner.get(url(world.other_business, "detail", pk=theirs.pk)).status_code == 404


def test_another_business_service_is_404_and_cannot_be_booked(as_owner, salon, world):
    with all_tenants():
        their_service = ServiceFactory(business=world.other_business)
    address = url(salon.business, "service-edit", pk=their_service.pk)
    assert as_owner.get(address).status_code == 404
    data = {
        "client": salon.client.pk,
        "team_member": salon.priya.pk,
        "date": at(1, 0).date().isoformat(),
        "start_time": "10:00",
        "services": [their_service.pk],
    }
    response = as_owner.post(url(salon.business, "book"), data)
    assert response.status_code == 200
    with all_tenants():
        assert not Appointment.objects.filter(business=salon.business).exists()
