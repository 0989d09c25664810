"""Writes for appointments: booking, the status lifecycle, rescheduling.

Every function here runs in one transaction, refuses what the rules refuse with a
`BookingError` whose message is meant for the person at the front desk, and keeps the client's
denormalised visit dates (`last_visit_at`, `next_appointment_at`) right.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from appointments.models import Appointment, AppointmentService, AppointmentStatus, Service
from clients.masking import display_name
from clients.models import Client
from glamiti.models import Business, TeamMember, User

# Created by migration 0002 on PostgreSQL.
DOUBLE_BOOKING_CONSTRAINT = "appointment_no_double_booking"


class BookingError(ValueError):
    """A booking or status change the rules refuse. `message` is shown to the user as is;
    `field` names the form field it belongs next to, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- Booking ---------------------------------------------------------------------------------


@transaction.atomic
def appointment_book(
    *,
    business: Business,
    client: Client,
    team_member: TeamMember,
    start_at: datetime.datetime,
    services: Sequence[Service],
    notes: str = "",
    by: User | None = None,
) -> Appointment:
    """Book `client` with `team_member` from `start_at` for `services`, in that order.

    The appointment lasts the sum of the services' durations; each service's name, price and
    duration are copied onto the appointment, so later price changes don't rewrite history.
    Raises BookingError if the client, team member or a service can't be booked, or if the
    team member is busy then.
    """
    if timezone.is_naive(start_at):
        raise ValueError("start_at must be an aware datetime.")
    _check_client(business, client)
    member = _lock_team_member(business, team_member)
    if not services:
        raise BookingError("Choose at least one service.", field="services")
    for service in services:
        if service.business_id != business.pk:
            raise BookingError("That service isn't one of this business's.", field="services")
        if not service.is_active:
            raise BookingError(f"“{service.name}” is no longer offered.", field="services")
    end_at = start_at + datetime.timedelta(minutes=sum(s.duration_minutes for s in services))
    appointment = Appointment(
        business=business,
        client=client,
        team_member=member,
        start_at=start_at,
        end_at=end_at,
        notes=notes.strip(),
        created_by=by,
    )
    _refuse_overlap(appointment)
    _save_unless_double_booked(appointment)
    AppointmentService.objects.bulk_create(
        AppointmentService(
            business=business,
            appointment=appointment,
            service=service,
            name=service.name,
            price=service.price,
            duration_minutes=service.duration_minutes,
            position=position,
        )
        for position, service in enumerate(services)
    )
    refresh_client_visits(client)
    return appointment


@transaction.atomic
def appointment_reschedule(
    *,
    appointment: Appointment,
    start_at: datetime.datetime,
    team_member: TeamMember | None = None,
    by: User | None,
) -> Appointment:
    """Move a booked appointment to `start_at` (same length), optionally to another team
    member. Raises BookingError if it can't move or the new time is taken."""
    if timezone.is_naive(start_at):
        raise ValueError("start_at must be an aware datetime.")
    locked = _lock(appointment)
    _refuse_unless(locked.can_reschedule())
    business = locked.business
    member = _lock_team_member(business, team_member or locked.team_member)
    length = locked.end_at - locked.start_at
    locked.team_member = member
    locked.start_at = start_at
    locked.end_at = start_at + length
    _refuse_overlap(locked)
    _save_unless_double_booked(
        locked, update_fields=["team_member", "start_at", "end_at", "updated_at"]
    )
    refresh_client_visits(locked.client)
    return locked


# --- Status changes --------------------------------------------------------------------------


@transaction.atomic
def appointment_complete(*, appointment: Appointment, by: User | None) -> Appointment:
    """Mark a booked appointment as done (the client came)."""
    locked = _lock(appointment)
    _refuse_unless(locked.can_complete())
    locked.status = AppointmentStatus.COMPLETED
    locked.completed_at = timezone.now()
    locked.save(update_fields=["status", "completed_at", "updated_at"])
    refresh_client_visits(locked.client)
    return locked


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, by: User | None, reason: str) -> Appointment:
    """Cancel a booked appointment, recording who canceled it, when and why."""
    reason = " ".join(reason.split())
    if not reason:
        raise BookingError("Say why the appointment is canceled.", field="reason")
    max_length = Appointment._meta.get_field("cancel_reason").max_length
    if len(reason) > max_length:
        raise BookingError(f"Keep the reason under {max_length} characters.", field="reason")
    locked = _lock(appointment)
    _refuse_unless(locked.can_cancel())
    locked.status = AppointmentStatus.CANCELED
    locked.canceled_at = timezone.now()
    locked.canceled_by = by
    locked.cancel_reason = reason
    locked.save(
        update_fields=["status", "canceled_at", "canceled_by", "cancel_reason", "updated_at"]
    )
    refresh_client_visits(locked.client)
    return locked


@transaction.atomic
def appointment_mark_no_show(*, appointment: Appointment, by: User | None) -> Appointment:
    """Record that the client missed a booked appointment."""
    locked = _lock(appointment)
    _refuse_unless(locked.can_mark_no_show())
    locked.status = AppointmentStatus.NO_SHOW
    locked.no_show_at = timezone.now()
    locked.save(update_fields=["status", "no_show_at", "updated_at"])
    refresh_client_visits(locked.client)
    return locked


# --- The client's visit dates ----------------------------------------------------------------


def refresh_client_visits(client: Client) -> None:
    """Recompute `client.last_visit_at` (start of the latest completed appointment) and
    `client.next_appointment_at` (start of the earliest booked one from now) in one query."""
    dates = Appointment.objects.filter(business_id=client.business_id, client=client).aggregate(
        last_visit_at=Max("start_at", filter=Q(status=AppointmentStatus.COMPLETED)),
        next_appointment_at=Min(
            "start_at", filter=Q(status=AppointmentStatus.BOOKED, start_at__gte=timezone.now())
        ),
    )
    changed = {name: value for name, value in dates.items() if getattr(client, name) != value}
    if not changed:
        return
    for name, value in changed.items():
        setattr(client, name, value)
    # update() rather than client.save(update_fields=...): Client.save also rewrites the
    # e-mail and search columns from this in-memory copy, which may be older than the row.
    Client.objects.filter(business_id=client.business_id, pk=client.pk).update(**changed)


def refresh_clients_after_merge(sender: object, merge, **kwargs: object) -> None:
    """Receiver of the clients' merge and undo signals: appointments moved between clients."""
    refresh_client_visits(merge.kept)
    refresh_client_visits(merge.merged)


# --- Helpers ---------------------------------------------------------------------------------


def _check_client(business: Business, client: Client) -> None:
    if client.business_id != business.pk:
        raise BookingError("That client isn't one of this business's.", field="client")
    if client.is_archived:
        raise BookingError(
            f"{display_name(client)} is archived. Restore them before booking.", field="client"
        )
    if client.is_blocked:
        why = f": {client.blocked_reason}" if client.blocked_reason else "."
        raise BookingError(f"{display_name(client)} is blocked from booking{why}", field="client")


def _lock_team_member(business: Business, team_member: TeamMember) -> TeamMember:
    """Lock the team member's row: bookings for one person then happen one at a time, so the
    overlap check below sees every earlier booking (the database constraint stays the net)."""
    if team_member.business_id != business.pk:
        raise BookingError("That team member isn't one of this business's.", field="team_member")
    member = TeamMember.objects.select_for_update().get(business=business, pk=team_member.pk)
    if not member.is_active:
        raise BookingError(f"{member.name} no longer takes appointments.", field="team_member")
    return member


def _lock(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("business", "client", "team_member")
        .get(business_id=appointment.business_id, pk=appointment.pk)
    )


def _refuse_unless(verdict: tuple[bool, str]) -> None:
    ok, reason = verdict
    if not ok:
        raise BookingError(reason)


def _clash(appointment: Appointment) -> Appointment | None:
    """The team member's first occupying appointment that overlaps `appointment`."""
    others = Appointment.objects.filter(
        business_id=appointment.business_id,
        team_member_id=appointment.team_member_id,
        start_at__lt=appointment.end_at,
        end_at__gt=appointment.start_at,
    ).occupying()
    if appointment.pk:
        others = others.exclude(pk=appointment.pk)
    return others.select_related("client").order_by("start_at").first()


def _clash_message(appointment: Appointment, clash: Appointment | None) -> str:
    name = appointment.team_member.name
    if clash is None:
        return f"{name} is already booked at that time. Choose another time."
    zone = zoneinfo.ZoneInfo(appointment.business.time_zone)
    start, end = (timezone.localtime(t, zone) for t in (clash.start_at, clash.end_at))
    wanted = timezone.localtime(appointment.start_at, zone).date()
    day = "" if start.date() == wanted else f" on {start:%a} {start.day} {start:%b}"
    return (
        f"{name} is already booked{day} from {start:%H:%M} to {end:%H:%M} "
        f"(with {display_name(clash.client)}). Choose another time or team member."
    )


def _refuse_overlap(appointment: Appointment) -> None:
    clash = _clash(appointment)
    if clash is not None:
        raise BookingError(_clash_message(appointment, clash), field="start_time")


def _save_unless_double_booked(
    appointment: Appointment, update_fields: list[str] | None = None
) -> None:
    """Save, turning PostgreSQL's no-double-booking refusal (a booking that raced past the
    check above) into the same BookingError. The savepoint keeps the transaction usable."""
    try:
        with transaction.atomic():
            appointment.save(update_fields=update_fields)
    except IntegrityError as error:
        if not is_double_booking_error(error):
            raise
        if update_fields is None:
            appointment.pk = None  # the insert was rolled back
        message = _clash_message(appointment, _clash(appointment))
        raise BookingError(message, field="start_time") from error


def is_double_booking_error(error: IntegrityError) -> bool:
    """True if `error` is the database refusing an overlapping booking."""
    diag = getattr(error.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return name == DOUBLE_BOOKING_CONSTRAINT or DOUBLE_BOOKING_CONSTRAINT in str(error)
