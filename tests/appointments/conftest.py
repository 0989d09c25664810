"""A salon ready to book: two team members, two services and a client, in world.business."""

import datetime
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from appointments.models import Service
from clients.models import Client
from glamiti.models import Business, TeamMember
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_appointments import ServiceFactory
from tests.rls import all_tenants

LONDON = zoneinfo.ZoneInfo("Europe/London")

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL-only"
)


@dataclass
class Salon:
    business: Business
    priya: TeamMember
    sam: TeamMember
    client: Client
    cut: Service
    colour: Service


@pytest.fixture
def salon(world) -> Salon:
    with all_tenants():
        business = world.business
        return Salon(
            business=business,
            priya=TeamMemberFactory(business=business, name="Priya Shah"),
            sam=TeamMemberFactory(business=business, name="Sam Taylor"),
            client=ClientFactory(business=business, first_name="Amelia", last_name="Smith"),
            cut=ServiceFactory(
                business=business, name="Cut", duration_minutes=45, price=Decimal("40.00")
            ),
            colour=ServiceFactory(
                business=business,
                name="Colour",
                category="Colour",
                duration_minutes=90,
                price=Decimal("85.50"),
            ),
        )


def at(days: int, hour: int, minute: int = 0) -> datetime.datetime:
    """An aware time `days` after today, on the wall clock of the test business (London)."""
    day = timezone.localdate(timezone=LONDON) + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LONDON)


def url(business: Business, name: str, **kwargs) -> str:
    return reverse(f"appointments:{name}", kwargs={"business": business.slug, **kwargs})
