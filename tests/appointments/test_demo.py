import pytest

from appointments.demo import seed_appointments
from appointments.models import AppointmentStatus
from glamiti.tenancy import tenant_context
from tests.factories import ClientFactory, TeamMemberFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def test_demo_appointments_are_booked_through_the_rules_and_only_once(world):
    business = world.business
    with all_tenants():
        TeamMemberFactory.create_batch(2, business=business)
        ClientFactory.create_batch(10, business=business)
    with tenant_context(business):
        booked = seed_appointments(business, days_before=3, days_after=3)
        statuses = set(business.appointments.values_list("status", flat=True))
        lines = business.appointments.filter(services__isnull=True).count()
        assert seed_appointments(business) == 0
        assert business.appointments.count() == booked
    assert booked > 20
    assert {AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED} <= statuses
    assert lines == 0  # every appointment has its services
