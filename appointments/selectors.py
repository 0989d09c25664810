"""Reads for appointments: the calendar's day view."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from glamiti.models import Business, TeamMember

DAY_START_HOUR = 8
DAY_END_HOUR = 20
SLOT_MINUTES = 15
MINUTES_PER_DAY = 24 * 60


@dataclass
class Block:
    """An appointment placed on the grid: minutes from the grid's first hour, and its lane
    among appointments that overlap it (a canceled slot may have been booked again)."""

    appointment: Appointment
    top: int
    height: int
    lane: int = 0
    lanes: int = 1

    @property
    def size(self) -> str:
        """How much fits: one line under 30 minutes, time and client under 45."""
        if self.height < 30:
            return "short"
        return "compact" if self.height < 45 else "full"


@dataclass
class Column:
    team_member: TeamMember
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Slot:
    top: int
    time: datetime.time


@dataclass
class CalendarDay:
    date: datetime.date
    start_hour: int
    end_hour: int
    columns: list[Column]
    canceled: list[Appointment]
    now_top: int | None

    @property
    def hours(self) -> list[tuple[int, datetime.time]]:
        return [
            ((hour - self.start_hour) * 60, datetime.time(hour))
            for hour in range(self.start_hour, self.end_hour)
        ]

    @property
    def slots(self) -> list[Slot]:
        first, last = self.start_hour * 60, self.end_hour * 60
        return [
            Slot(top=minute - first, time=datetime.time(minute // 60, minute % 60))
            for minute in range(first, last, SLOT_MINUTES)
        ]

    @property
    def total_minutes(self) -> int:
        return (self.end_hour - self.start_hour) * 60

    @property
    def appointment_count(self) -> int:
        return sum(len(column.blocks) for column in self.columns)


def calendar_day(business: Business, day: datetime.date) -> CalendarDay:
    """One day of the calendar: a column per active team member (and any inactive one who
    still has appointments that day). Three queries, whatever the number of appointments."""
    zone = zoneinfo.ZoneInfo(business.time_zone)
    day_start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    day_end = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    appointments = list(
        business.appointments.on_day(day_start, day_end)
        .select_related("client", "team_member")
        .prefetch_related("services")
        .order_by("start_at", "id")
    )
    busy_members = {a.team_member_id for a in appointments}
    members = business.teammembers.filter(Q(is_active=True) | Q(pk__in=busy_members))
    columns = {member.pk: Column(member) for member in members.order_by("name", "id")}

    placed = []
    canceled = []
    for appointment in appointments:
        if appointment.status == AppointmentStatus.CANCELED:
            canceled.append(appointment)
            continue
        start = _minute_of_day(appointment.start_at, day, zone)
        end = max(_minute_of_day(appointment.end_at, day, zone), start + SLOT_MINUTES)
        placed.append((appointment, start, end))

    start_hour = min([DAY_START_HOUR, *(start // 60 for _, start, _ in placed)])
    end_hour = max([DAY_END_HOUR, *(-(-end // 60) for _, _, end in placed)])
    end_hour = min(end_hour, 24)
    offset = start_hour * 60
    for appointment, start, end in placed:
        block = Block(appointment, top=start - offset, height=min(end, end_hour * 60) - start)
        columns[appointment.team_member_id].blocks.append(block)
    for column in columns.values():
        _assign_lanes(column.blocks)

    now = timezone.localtime(timezone.now(), zone)
    now_minute = now.hour * 60 + now.minute
    now_top = None
    if now.date() == day and start_hour * 60 <= now_minute < end_hour * 60:
        now_top = now_minute - offset
    return CalendarDay(
        date=day,
        start_hour=start_hour,
        end_hour=end_hour,
        columns=list(columns.values()),
        canceled=canceled,
        now_top=now_top,
    )


def _minute_of_day(moment: datetime.datetime, day: datetime.date, zone: zoneinfo.ZoneInfo) -> int:
    """Wall-clock minutes since midnight of `day`, clamped to the day."""
    local = timezone.localtime(moment, zone)
    if local.date() < day:
        return 0
    if local.date() > day:
        return MINUTES_PER_DAY
    return local.hour * 60 + local.minute


def _assign_lanes(blocks: list[Block]) -> None:
    """Side by side for blocks that overlap; full width otherwise."""
    blocks.sort(key=lambda b: (b.top, -b.height))
    group: list[Block] = []
    lane_ends: list[int] = []
    group_end = -1
    for block in blocks:
        if group and block.top >= group_end:
            for member in group:
                member.lanes = len(lane_ends)
            group, lane_ends = [], []
        lane = next((i for i, end in enumerate(lane_ends) if end <= block.top), None)
        if lane is None:
            lane_ends.append(block.top + block.height)
            lane = len(lane_ends) - 1
        else:
            lane_ends[lane] = block.top + block.height
        block.lane = lane
        group.append(block)
        group_end = max(group_end, block.top + block.height)
    for member in group:
        member.lanes = len(lane_ends)
