"""The History tab: one timeline of every interaction, newest first, and the monthly chart."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from clients.profile_common import last_months
from tests.factories import ClientFactory
from tests.factories_profile import make_note
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def entries(response):
    return response.context["page"].object_list


def test_timeline_holds_every_kind_newest_first(as_staff, world, history):
    rows = entries(as_staff.get(history.url(world, "history"), **HTMX))
    times = [e.at for e in rows]
    assert times == sorted(times, reverse=True)
    kinds = [e.kind for e in rows]
    # 7 appointments that have started (the upcoming one is not history yet), 5 sales,
    # 3 notes, 2 feedback, 6 voucher ledger entries (4 issued, 2 redeemed).
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "appointment": 7,
        "sale": 5,
        "note": 3,
        "feedback": 2,
        "voucher": 6,
    }
    assert rows[0].kind == "appointment" and rows[0].status == "booked"  # yesterday


def test_timeline_entries_carry_what_the_page_shows(as_staff, world, history):
    response = as_staff.get(history.url(world, "history"), **HTMX)
    by_kind = {}
    for entry in entries(response):
        by_kind.setdefault(entry.kind, entry)
    assert by_kind["appointment"].person in {"Sam Taylor", "Priya Shah"}
    assert by_kind["appointment"].title == "Cut & blow-dry"
    assert by_kind["sale"].badge == "Awaiting payment"  # the open one, 10 days ago
    assert by_kind["note"].title == "Internal team note"
    assert by_kind["note"].quote == "Paid late once"
    html = response.content.decode()
    assert "Voided" in html and "No-show" in html and "Canceled" in html
    assert "Voucher" in html and "SELF-0001" in html
    assert "“Lovely”" in html


@pytest.mark.parametrize(
    ("kind", "count"),
    [("appointment", 7), ("sale", 5), ("note", 3), ("feedback", 2), ("voucher", 6)],
)
def test_timeline_filters_by_kind(as_staff, world, history, kind, count):
    rows = entries(as_staff.get(history.url(world, "history", kind=kind), **HTMX))
    assert len(rows) == count
    assert {e.kind for e in rows} == {kind}


def test_unknown_kind_shows_everything(as_staff, world, history):
    response = as_staff.get(history.url(world, "history", kind="<script>"), **HTMX)
    assert response.context["kind"] == "" and len(entries(response)) == 23


def test_timeline_is_paginated_without_gaps_or_repeats(as_staff, world):
    with all_tenants():
        client = ClientFactory(business=world.business)
        start = timezone.now() - datetime.timedelta(days=400)
        for n in range(60):
            make_note(client, text=f"note {n}", at=start + datetime.timedelta(days=n))
    from django.urls import reverse

    url = reverse("profile:history", kwargs={"business": world.business.slug, "pk": client.pk})
    seen = []
    for number in (1, 2, 3):
        page = as_staff.get(f"{url}?page={number}", **HTMX).context["page"]
        seen += [e.text for e in page.object_list]
        assert page.has_next == (number < 3)
    assert seen == [f"note {n}" for n in range(59, -1, -1)]
    beyond = as_staff.get(f"{url}?page=9").content.decode()
    assert "No more entries" in beyond
    assert as_staff.get(f"{url}?page=abc").status_code == 200


def test_pagination_links_keep_the_filter_and_load_with_htmx(as_staff, world):
    with all_tenants():
        client = ClientFactory(business=world.business)
        for n in range(30):
            make_note(client, text=f"note {n}")
    from django.urls import reverse

    url = reverse("profile:history", kwargs={"business": world.business.slug, "pk": client.pk})
    html = as_staff.get(f"{url}?kind=note").content.decode()
    assert 'href="?kind=note&amp;page=2"' in html
    assert 'hx-get="?kind=note&amp;page=2" hx-target="#profile-tabs" hx-push-url="true"' in html


def test_chart_shows_the_last_twelve_months_of_spending_and_visits(as_staff, world, history):
    response = as_staff.get(history.url(world, "history"), **HTMX)
    chart = response.context["chart"]
    assert [m.month for m in chart.months] == last_months(12)
    with timezone.override(world.business.time_zone):

        def month_of(days_ago):
            day = timezone.localtime(history.now - datetime.timedelta(days=days_ago)).date()
            return day.replace(day=1)

        spend = {m.month: m.amount for m in chart.months}
        visits = {m.month: m.count for m in chart.months}
        # All within a year: paid sales of 70, 60 and 100; the voided and the open sale
        # don't count. Visits: the completed appointments 300, 200 and 100 days ago.
        assert spend[month_of(310)] == Decimal("70.00")
        assert spend[month_of(200)] == Decimal("60.00")
        assert spend[month_of(95)] == Decimal("100.00")
        assert chart.total_amount == Decimal("230.00")
        assert visits[month_of(300)] >= 1 and chart.total_count == 3


def test_chart_is_accessible_svg_with_a_table_of_the_numbers(as_staff, world, history):
    html = as_staff.get(history.url(world, "history"), **HTMX).content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and "aria-labelledby=" in svg
    assert "<title id=" in svg and "<desc id=" in svg
    assert "Show the numbers" in html
    table = html[html.index('<details class="pf-chart-table">') :]
    assert table.count('<th scope="row">') == 12
    assert "£100.00" in table and "£60.00" in table


def test_user_text_in_the_timeline_is_escaped(as_staff, world):
    from django.urls import reverse

    with all_tenants():
        client = ClientFactory(business=world.business)
        make_note(client, text='<script>alert("x")</script> & <b>bold</b>')
    url = reverse("profile:history", kwargs={"business": world.business.slug, "pk": client.pk})
    html = as_staff.get(url).content.decode()
    assert "<script>alert" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
