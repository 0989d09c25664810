"""A client with a hand-made history whose every number the tests know in advance."""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from appointments.models import AppointmentStatus
from clients.models import Client, NoteKind
from glamiti.models import TeamMember
from sales.models import SaleStatus
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_profile import (
    make_appointment,
    make_feedback,
    make_note,
    make_sale,
    make_voucher,
)
from tests.rls import all_tenants


@dataclass
class History:
    client: Client
    other: Client
    sam: TeamMember
    priya: TeamMember
    now: datetime.datetime

    def url(self, world, name: str = "", **query) -> str:
        from django.urls import reverse

        kwargs = {"business": world.business.slug, "pk": self.client.pk}
        url = reverse(f"profile:{name}" if name else "clients:detail", kwargs=kwargs)
        if query:
            from urllib.parse import urlencode

            url += "?" + urlencode(query)
        return url


def days(n: float) -> datetime.timedelta:
    return datetime.timedelta(days=n)


@pytest.fixture
def history(world) -> History:
    """Appointments: 3 completed (300, 200, 100 days ago), 1 no-show, 2 canceled, 1 booked
    in the past (not checked out), 1 upcoming in a week.
    Paid sales: 70 (50 services + 20 products, tip 5 to Sam) 310 days ago; 60 services with
    tip 10 split Sam 6 / Priya 4, 200 days ago; a 100 voucher bought 95 days ago. A voided
    sale (999 + tip 50) and an open one (30) don't count.
    Vouchers: bought for self 100 → 40 left; bought for someone else 25 unused; received
    from someone else 50, expired; a fully used 30."""
    now = timezone.now()
    with all_tenants():
        business = world.business
        client = ClientFactory(
            business=business, first_name="Ava", last_name="Moss", alert="Latex allergy"
        )
        other = ClientFactory(business=business, first_name="Zoe", last_name="Hart")
        sam = TeamMemberFactory(business=business, name="Sam Taylor")
        priya = TeamMemberFactory(business=business, name="Priya Shah")
        completed = AppointmentStatus.COMPLETED
        first = make_appointment(client, sam, now - days(300), status=completed)
        make_appointment(client, priya, now - days(200), status=completed, services=("Colour",))
        make_appointment(client, sam, now - days(100), status=completed)
        make_appointment(client, sam, now - days(150), status=AppointmentStatus.NO_SHOW)
        make_appointment(
            client, sam, now - days(120), status=AppointmentStatus.CANCELED, cancel_reason="Ill"
        )
        make_appointment(client, priya, now - days(50), status=AppointmentStatus.CANCELED)
        make_appointment(client, sam, now - days(1), status=AppointmentStatus.BOOKED)
        make_appointment(
            client, priya, now + days(7), status=AppointmentStatus.BOOKED, services=("Balayage",)
        )
        paid = make_sale(
            client, now - days(310), services="50", products="20", tip="5", tips=[(sam, "5")]
        )
        make_sale(client, now - days(200), services="60", tip="10", tips=[(sam, "6"), (priya, "4")])
        make_sale(client, now - days(95), vouchers="100")
        make_sale(
            client,
            now - days(90),
            services="999",
            tip="50",
            tips=[(sam, "50")],
            status=SaleStatus.VOIDED,
        )
        make_sale(client, now - days(10), products="30", status=SaleStatus.OPEN)
        make_sale(other, now - days(5), services="500", tip="100", tips=[(sam, "100")])
        make_voucher(
            business=business,
            code="SELF-0001",
            value="100",
            balance="40",
            purchaser=client,
            recipient=client,
        )
        make_voucher(
            business=business, code="GIFT-0002", value="25", purchaser=client, recipient=other
        )
        make_voucher(
            business=business,
            code="OLD-0003",
            value="50",
            purchaser=other,
            recipient=client,
            issued_on=timezone.localdate() - days(800),
            expires_on=timezone.localdate() - days(435),
            at=now - days(800),
        )
        make_voucher(business=business, code="USED-0004", value="30", balance="0", recipient=client)
        make_note(client, text="Nut oils", kind=NoteKind.ALLERGY, at=now - days(20))
        make_note(client, text="Likes oat milk", pinned=True, at=now - days(15))
        make_note(client, text="Paid late once", kind=NoteKind.INTERNAL, at=now - days(3))
        make_feedback(client, rating=5, comment="Lovely", sale=paid, member=sam, at=now - days(309))
        make_feedback(client, rating=2, appointment=first, member=sam, at=now - days(299))
    return History(client=client, other=other, sam=sam, priya=priya, now=now)
