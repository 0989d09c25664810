"""Factories for services and appointments (create them inside all_tenants())."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from appointments.models import Appointment, AppointmentService, AppointmentStatus, Service
from tests.factories import BusinessFactory, ClientFactory, TeamMemberFactory


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    business = factory.SubFactory(BusinessFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    category = "Hair"
    duration_minutes = 60
    price = Decimal("45.00")


class AppointmentFactory(factory.django.DjangoModelFactory):
    """An appointment written directly (no service rules), one hour long by default."""

    class Meta:
        model = Appointment

    business = factory.SubFactory(BusinessFactory)
    client = factory.SubFactory(ClientFactory, business=factory.SelfAttribute("..business"))
    team_member = factory.SubFactory(
        TeamMemberFactory, business=factory.SelfAttribute("..business")
    )
    start_at = factory.LazyFunction(
        lambda: (timezone.now() + datetime.timedelta(days=1)).replace(
            minute=0, second=0, microsecond=0
        )
    )
    end_at = factory.LazyAttribute(lambda o: o.start_at + datetime.timedelta(hours=1))
    status = AppointmentStatus.BOOKED


class AppointmentServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AppointmentService

    appointment = factory.SubFactory(AppointmentFactory)
    business = factory.SelfAttribute("appointment.business")
    service = factory.SubFactory(ServiceFactory, business=factory.SelfAttribute("..business"))
    name = factory.SelfAttribute("service.name")
    price = factory.SelfAttribute("service.price")
    duration_minutes = factory.SelfAttribute("service.duration_minutes")
