"""Sales reads: periods, the sales list, the receipt, tips by team member."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from sales.models import Payment, Sale, SaleStatus, TipAllocation

if TYPE_CHECKING:
    from django.http import QueryDict

    from glamiti.models import Business

SALES_PER_PAGE = 25

PERIODS = {
    "today": "Today",
    "this_week": "This week",
    "this_month": "This month",
    "last_month": "Last month",
    "custom": "From – to",
    "all": "All time",
}


def _parse_date(text: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


@dataclass
class Period:
    """A range of days in the business's time zone (`end` included), from the query string."""

    key: str
    start: datetime.date | None = None
    end: datetime.date | None = None
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query: QueryDict, *, default: str) -> Period:
        key = query.get("period") or default
        if key not in PERIODS:
            key = default
        today = timezone.localdate()
        if key == "today":
            return cls(key, today, today)
        if key == "this_week":
            monday = today - datetime.timedelta(days=today.weekday())
            return cls(key, monday, monday + datetime.timedelta(days=6))
        if key == "this_month":
            first = today.replace(day=1)
            return cls(key, first, _last_day(first))
        if key == "last_month":
            first = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
            return cls(key, first, _last_day(first))
        if key == "custom":
            start, end = _parse_date(query.get("from")), _parse_date(query.get("to"))
            period = cls(key, start, end)
            if query.get("from") and start is None or query.get("to") and end is None:
                period.errors.append("Enter dates as YYYY-MM-DD, or pick them from the calendar.")
            if start and end and end < start:
                period.errors.append("The end date is before the start date.")
                period.start, period.end = end, start
            return period
        return cls("all")

    @property
    def label(self) -> str:
        if self.key == "custom":
            start = f"{self.start:%-d %b %Y}" if self.start else "the beginning"
            end = f"{self.end:%-d %b %Y}" if self.end else "today"
            return f"{start} – {end}"
        return PERIODS[self.key]

    def bounds(self) -> tuple[datetime.datetime | None, datetime.datetime | None]:
        """Aware datetimes: [start of the first day, start of the day after the last)."""

        def midnight(day: datetime.date) -> datetime.datetime:
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

        start = midnight(self.start) if self.start else None
        end = midnight(self.end + datetime.timedelta(days=1)) if self.end else None
        return start, end

    def filter(self, queryset: QuerySet, field_name: str) -> QuerySet:
        start, end = self.bounds()
        if start:
            queryset = queryset.filter(**{f"{field_name}__gte": start})
        if end:
            queryset = queryset.filter(**{f"{field_name}__lt": end})
        return queryset

    def query_string(self) -> str:
        params = {"period": self.key}
        if self.key == "custom":
            params.update({"from": self.start or "", "to": self.end or ""})
        return urlencode(params)


def _last_day(first: datetime.date) -> datetime.date:
    next_month = (first + datetime.timedelta(days=32)).replace(day=1)
    return next_month - datetime.timedelta(days=1)


def sale_page(business: Business, period: Period, page_number: str | int | None) -> Page:
    """One page of the business's sales in `period`, newest first (three queries).

    Payments come grouped by method, so the list can name each method once.
    """
    sales = period.filter(business.sales.all(), "created_at").select_related("client")
    sales = sales.prefetch_related(
        Prefetch("payments", queryset=Payment.objects.order_by("method", "id"))
    )
    return Paginator(sales, SALES_PER_PAGE).get_page(page_number)


def sales_summary(business: Business, period: Period) -> dict:
    """Sales and tips in `period`, voided sales left out (one aggregate query)."""
    counted = period.filter(business.sales.counted(), "created_at")
    return counted.aggregate(total=Sum("total"), tips=Sum("tip_total"))


def sale_for_receipt(business: Business, pk: int) -> Sale:
    """The sale with everything the receipt shows, in a fixed number of queries."""
    sales = business.sales.select_related(
        "client",
        "appointment",
        "appointment__team_member",
        "created_by",
        "voided_by",
        "feedback_link",
    ).prefetch_related(
        "items__voucher",
        "items__team_member",
        "payments__voucher",
        "tips__team_member",
        "feedback__team_member",
    )
    return get_object_or_404(sales, pk=pk)


@dataclass
class TipRow:
    team_member_id: int
    name: str
    sales: int
    total: Decimal


def tips_by_member(business: Business, period: Period) -> list[TipRow]:
    """Tips each team member received in `period`, from paid (not voided) sales only."""
    tips = period.filter(
        TipAllocation.objects.filter(business=business, sale__status=SaleStatus.COMPLETED),
        "created_at",
    )
    rows = (
        tips.values("team_member_id", "team_member__name")
        .annotate(total=Sum("amount"), sales=Count("sale_id", distinct=True))
        .order_by("-total", "team_member__name")
    )
    return [
        TipRow(r["team_member_id"], r["team_member__name"], r["sales"], r["total"]) for r in rows
    ]
