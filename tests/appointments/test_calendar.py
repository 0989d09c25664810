"""The calendar's day view."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import AppointmentStatus
from tests.appointments.conftest import LONDON, at, url
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_appointments import AppointmentFactory, AppointmentServiceFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

CALENDAR_QUERIES = 7  # session, user, membership, switcher; appointments, services, team


def day_url(salon, day: datetime.date) -> str:
    return f"{url(salon.business, 'calendar')}?date={day.isoformat()}"


def fill_day(salon, day_offset: int, count: int) -> None:
    """`count` half-hour appointments with two services each, spread over three members."""
    with all_tenants():
        members = [salon.priya, salon.sam, TeamMemberFactory(business=salon.business)]
        for i in range(count):
            start = at(day_offset, 8) + datetime.timedelta(minutes=30 * (i // 3))
            appointment = AppointmentFactory(
                business=salon.business,
                client=ClientFactory(business=salon.business),
                team_member=members[i % 3],
                start_at=start,
                end_at=start + datetime.timedelta(minutes=30),
            )
            AppointmentServiceFactory(appointment=appointment, service=salon.cut, name="Cut")
            AppointmentServiceFactory(appointment=appointment, service=salon.colour, name="Tone")


def test_calendar_costs_the_same_queries_for_5_or_60_appointments(
    as_staff, salon, django_assert_max_num_queries
):
    fill_day(salon, 1, 5)
    fill_day(salon, 2, 60)
    as_staff.get(url(salon.business, "calendar"))  # the first visit also writes the session
    counts = []
    for offset, expected in [(1, 5), (2, 60)]:
        day = at(offset, 0).date()
        with (
            django_assert_max_num_queries(CALENDAR_QUERIES),
            CaptureQueriesContext(connection) as queries,
        ):
            response = as_staff.get(day_url(salon, day))
        assert response.status_code == 200
        assert response.content.count(b'class="appointment-block') == expected
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_calendar_shows_a_column_per_active_team_member_and_the_day(as_staff, salon):
    with all_tenants():
        TeamMemberFactory(business=salon.business, name="Gone Person", is_active=False)
    response = as_staff.get(url(salon.business, "calendar"))
    body = response.content.decode()
    today = timezone.localdate(timezone=LONDON)
    assert response.status_code == 200
    assert f"{today:%A} {today.day} {today:%B} {today.year}" in body
    assert "Priya Shah" in body and "Sam Taylor" in body
    assert "Gone Person" not in body
    assert "New appointment" in body


def test_an_inactive_team_member_with_appointments_keeps_a_column(as_staff, salon):
    with all_tenants():
        gone = TeamMemberFactory(business=salon.business, name="Gone Person", is_active=False)
        AppointmentFactory(
            business=salon.business, team_member=gone, start_at=at(1, 10), end_at=at(1, 11)
        )
    body = as_staff.get(day_url(salon, at(1, 0).date())).content.decode()
    assert "Gone Person" in body
    assert "Inactive" in body


def test_blocks_show_time_client_alert_services_and_status(as_staff, salon):
    with all_tenants():
        salon.client.alert = "Allergic to PPD"
        salon.client.save()
        booked = AppointmentFactory(
            business=salon.business,
            client=salon.client,
            team_member=salon.priya,
            start_at=at(1, 10),
            end_at=at(1, 11, 30),
        )
        AppointmentServiceFactory(appointment=booked, service=salon.colour, name="Colour")
        AppointmentFactory(
            business=salon.business,
            team_member=salon.sam,
            start_at=at(1, 9),
            end_at=at(1, 10),
            status=AppointmentStatus.NO_SHOW,
        )
    body = as_staff.get(day_url(salon, at(1, 0).date())).content.decode()
    assert '10:00<span class="block-end">–11:30</span>' in body
    assert "Amelia Smith" in body
    assert 'title="Allergic to PPD"' in body
    assert "Alert: Allergic to PPD." in body
    assert "Colour" in body
    assert "status-booked" in body
    assert "status-no_show" in body
    assert f'href="{url(salon.business, "detail", pk=booked.pk)}"' in body
    # 10:00 is 120 minutes after the first hour shown (08:00); 90 minutes long.
    assert "--top: 120; --height: 90;" in body


def test_canceled_appointments_are_listed_not_drawn(as_staff, salon):
    with all_tenants():
        AppointmentFactory(
            business=salon.business,
            client=salon.client,
            team_member=salon.priya,
            start_at=at(1, 10),
            end_at=at(1, 11),
            status=AppointmentStatus.CANCELED,
            cancel_reason="Client is unwell",
        )
    body = as_staff.get(day_url(salon, at(1, 0).date())).content.decode()
    assert 'class="appointment-block' not in body
    assert "Canceled on this day" in body
    assert "Client is unwell" in body


def test_the_grid_grows_to_fit_early_and_late_appointments(as_staff, salon):
    with all_tenants():
        AppointmentFactory(
            business=salon.business,
            team_member=salon.priya,
            start_at=at(1, 6, 30),
            end_at=at(1, 7, 15),
        )
        AppointmentFactory(
            business=salon.business,
            team_member=salon.sam,
            start_at=at(1, 20, 30),
            end_at=at(1, 21, 30),
        )
    body = as_staff.get(day_url(salon, at(1, 0).date())).content.decode()
    assert ">06:00<" in body and ">21:00<" in body
    assert ">05:00<" not in body and ">22:00<" not in body
    assert "--top: 30; --height: 45;" in body  # 06:30 on a grid starting at 06:00


def test_previous_and_next_day_links(as_staff, salon):
    day = datetime.date(2030, 3, 1)
    body = as_staff.get(day_url(salon, day)).content.decode()
    assert "?date=2030-02-28" in body
    assert "?date=2030-03-02" in body
    assert "Friday 1 March 2030" in body


def test_a_free_slot_opens_the_booking_dialog_prefilled(as_staff, salon):
    body = as_staff.get(day_url(salon, datetime.date(2030, 3, 1))).content.decode()
    book = url(salon.business, "book")
    query = f"team_member={salon.priya.pk}&amp;date=2030-03-01&amp;time=10:15"
    assert f'href="{book}?{query}"' in body
    assert f'hx-get="{book}?{query}&amp;dialog=1"' in body


@pytest.mark.parametrize(
    "bad", ["2026-13-45", "tomorrow", "0001-01-01", "9999-12-31", "2030-02-30", "x" * 500]
)
def test_a_bad_date_shows_today_with_a_message(as_staff, salon, bad):
    response = as_staff.get(url(salon.business, "calendar"), {"date": bad})
    assert response.status_code == 200
    body = response.content.decode()
    assert "t a date we can show; here is today." in body
    today = timezone.localdate(timezone=LONDON)
    assert f"{today:%A} {today.day} {today:%B} {today.year}" in body


def test_another_business_appointments_never_show(as_staff, salon, world):
    with all_tenants():
        AppointmentFactory(
            business=world.other_business,
            client=ClientFactory(business=world.other_business, first_name="Secretive"),
            start_at=at(1, 10),
            end_at=at(1, 11),
        )
    body = as_staff.get(day_url(salon, at(1, 0).date())).content.decode()
    assert "Secretive" not in body


def test_no_team_yet_explains_what_to_do(as_owner, world):
    body = as_owner.get(url(world.business, "calendar")).content.decode()
    assert "No team members yet" in body
