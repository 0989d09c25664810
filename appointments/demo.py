"""Demo services and a month of appointments around today, for `seed_demo`.

Deterministic for a given business and day, and it only fills a business that has no services
yet. Appointments go through the booking service, so prices are snapshotted and the clients'
visit dates are right.
"""

from __future__ import annotations

import datetime
import random
import zoneinfo
from decimal import Decimal

from django.utils import timezone

from appointments.models import Service
from appointments.services import (
    BookingError,
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_mark_no_show,
)
from glamiti.models import Business

SALON_SERVICES = [
    ("Hair", "Cut & blow-dry", 60, "55"),
    ("Hair", "Blow-dry", 45, "35"),
    ("Hair", "Men's cut", 30, "28"),
    ("Hair", "Child's cut", 30, "18"),
    ("Colour", "Full head colour", 120, "95"),
    ("Colour", "Half-head highlights", 90, "85"),
    ("Colour", "Root touch-up", 75, "60"),
    ("Colour", "Toner", 30, "25"),
    ("Nails", "Gel manicure", 45, "32"),
    ("Nails", "Pedicure", 60, "40"),
    ("Nails", "Nail art", 15, "10"),
    ("Beauty", "Brow shape & tint", 30, "22"),
]
BARBER_SERVICES = [
    ("Cuts", "Haircut", 30, "25"),
    ("Cuts", "Skin fade", 45, "28"),
    ("Cuts", "Kids cut", 30, "15"),
    ("Beard", "Beard trim", 15, "12"),
    ("Beard", "Hot towel shave", 30, "25"),
    ("Beard", "Cut & beard", 45, "35"),
]
CANCEL_REASONS = ["Client canceled", "Client is unwell", "Rebooked for another day"]


def seed_appointments(
    business: Business, *, days_before: int = 14, days_after: int = 14, busy: float = 1.0
) -> int:
    """Add services and appointments to `business` (inside its tenant context); returns how
    many appointments were booked, 0 if the business already had services. `busy` is the
    chance that a free hour gets an appointment."""
    if business.services.exists():
        return 0
    rng = random.Random(f"appointments-{business.slug}")  # noqa: S311 - demo data
    catalogue = BARBER_SERVICES if "barber" in business.name.lower() else SALON_SERVICES
    services = [
        Service.objects.create(
            business=business,
            category=category,
            name=name,
            duration_minutes=minutes,
            price=Decimal(price),
        )
        for category, name, minutes, price in catalogue
    ]
    clients = list(business.clients.active().filter(is_blocked=False).order_by("id")[:200])
    members = list(business.teammembers.filter(is_active=True).order_by("id"))
    if not clients or not members:
        return 0
    zone = zoneinfo.ZoneInfo(business.time_zone)
    today = timezone.localdate(timezone=zone)
    now = timezone.now()
    booked = 0
    for offset in range(-days_before, days_after + 1):
        day = today + datetime.timedelta(days=offset)
        if day.weekday() == 6:
            continue  # closed on Sundays
        for member in members:
            minute = 9 * 60 + rng.choice([0, 0, 15, 30, 60])
            while minute < 17 * 60 + 30:
                if rng.random() > busy:
                    minute += 60  # a free hour
                    continue
                chosen = rng.sample(services, rng.choice([1, 1, 1, 2]))
                start = datetime.datetime.combine(
                    day, datetime.time(minute // 60, minute % 60), tzinfo=zone
                )
                try:
                    appointment = appointment_book(
                        business=business,
                        client=rng.choice(clients),
                        team_member=member,
                        start_at=start,
                        services=chosen,
                    )
                except BookingError:
                    break
                booked += 1
                _settle(appointment, now, rng)
                length = sum(s.duration_minutes for s in chosen)
                minute += length + rng.choice([0, 0, 0, 15, 30, 45, 60, 90])
    return booked


def _settle(appointment, now: datetime.datetime, rng: random.Random) -> None:
    """Give an appointment the status it would have by now."""
    roll = rng.random()
    if appointment.end_at <= now:
        if roll < 0.06:
            appointment_mark_no_show(appointment=appointment, by=None)
        elif roll < 0.12:
            appointment_cancel(appointment=appointment, by=None, reason=rng.choice(CANCEL_REASONS))
        else:
            appointment_complete(appointment=appointment, by=None)
    elif roll < 0.06:
        appointment_cancel(appointment=appointment, by=None, reason=rng.choice(CANCEL_REASONS))
