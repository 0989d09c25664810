"""What the client profile reads about appointments: the overview's counts, the visits per
month, the timeline rows and the Appointments tab's lists."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.db.models import Count, DecimalField, Max, Min, Q, QuerySet, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from appointments.models import Appointment, AppointmentService, AppointmentStatus
from clients.profile_common import timeline_rows

if TYPE_CHECKING:
    from clients.models import Client

UPCOMING_LIMIT = 20


def client_appointment_counts(client: Client, *, now: datetime.datetime | None = None) -> dict:
    """Completed, missed (no-show), canceled and upcoming appointments, the first and last
    visit and the next appointment: one aggregate query however long the history.

    Grouped by status (a handful of rows) rather than one filtered aggregate per number:
    the same single scan of the (business, client, status, start_at) index, and less for
    Django to build. `Count("status")`, not `Count("id")`: the index alone answers it.
    """
    now = now or timezone.now()
    upcoming = Q(start_at__gte=now)
    rows = {
        row["status"]: row
        for row in client.appointments.order_by()
        .values("status")
        .annotate(
            n=Count("status"),
            first=Min("start_at"),
            last=Max("start_at"),
            upcoming=Count("status", filter=upcoming),
            next=Min("start_at", filter=upcoming),
        )
    }
    completed = rows.get(AppointmentStatus.COMPLETED, {})
    booked = rows.get(AppointmentStatus.BOOKED, {})
    return {
        "completed": completed.get("n", 0),
        "no_show": rows.get(AppointmentStatus.NO_SHOW, {}).get("n", 0),
        "canceled": rows.get(AppointmentStatus.CANCELED, {}).get("n", 0),
        "upcoming": booked.get("upcoming", 0),
        "first_visit": completed.get("first"),
        "last_visit": completed.get("last"),
        "next_appointment": booked.get("next"),
    }


def client_visits_per_month(client: Client, *, since: datetime.datetime) -> QuerySet:
    """Completed appointments per month since `since`, as rows (month, visits, spend=0), so
    the profile can UNION them with the sales app's spending per month in one query."""
    return (
        client.appointments.filter(status=AppointmentStatus.COMPLETED, start_at__gte=since)
        .annotate(month=TruncMonth("start_at"))
        .order_by()
        .values("month")
        .annotate(
            visits=Count("status"),
            spend=Value(0, output_field=DecimalField(max_digits=12, decimal_places=2)),
        )
        .values("month", "visits", "spend")
    )


def client_appointment_timeline(client: Client, *, now: datetime.datetime) -> QuerySet:
    """Timeline rows for the appointments that have started (upcoming ones are not history)."""
    return timeline_rows(
        client.appointments.filter(start_at__lte=now),
        kind="appointment",
        at="start_at",
        status="status",
        person="team_member__name",
        text="cancel_reason",
    )


def service_names(appointment_ids: list[int]) -> dict[int, list[str]]:
    """The services booked on each of `appointment_ids`, in their order (one query)."""
    names: dict[int, list[str]] = defaultdict(list)
    if appointment_ids:
        rows = (
            AppointmentService.objects.filter(appointment_id__in=appointment_ids)
            .order_by("appointment_id", "position", "id")
            .values_list("appointment_id", "name")
        )
        for appointment_id, name in rows:
            names[appointment_id].append(name)
    return names


def client_appointments(client: Client, *, status: str = "") -> QuerySet[Appointment]:
    rows = client.appointments.select_related("team_member")
    if status in AppointmentStatus.values:
        rows = rows.filter(status=status)
    return rows


def client_upcoming_appointments(
    client: Client, *, status: str = "", now: datetime.datetime
) -> list[Appointment]:
    """Booked appointments still to come, soonest first (at most UPCOMING_LIMIT)."""
    if status and status != AppointmentStatus.BOOKED:
        return []
    rows = client_appointments(client).filter(status=AppointmentStatus.BOOKED, start_at__gte=now)
    return list(rows.order_by("start_at", "id")[:UPCOMING_LIMIT])


def client_past_appointments(
    client: Client, *, status: str = "", now: datetime.datetime
) -> QuerySet[Appointment]:
    """Everything that is not an upcoming booking, newest first."""
    rows = client_appointments(client, status=status).exclude(
        status=AppointmentStatus.BOOKED, start_at__gte=now
    )
    return rows.order_by("-start_at", "-id")


def attach_services(*groups: list[Any]) -> None:
    """Set `.service_names` on every appointment in `groups` with one query for all."""
    appointments = [a for group in groups for a in group]
    names = service_names([a.pk for a in appointments])
    for appointment in appointments:
        appointment.service_names = names.get(appointment.pk, [])
