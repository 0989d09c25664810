"""Pieces the client profile's tabs share, whichever app serves them.

Kept apart from `clients.profile` (which asks every app for its numbers) so that the apps'
profile selectors can import these without an import cycle.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

PER_PAGE = 25

# --- Paging without COUNT(*) -------------------------------------------------------------


@dataclass
class ProfilePage:
    """One page of a profile list. Fetching one row more than the page tells whether there
    is a next page, so no list on the profile ever counts a long history."""

    object_list: list[Any]
    number: int
    has_next: bool
    per_page: int = PER_PAGE
    num_pages: None = None  # unknown on purpose; includes/pagination.html shows "Page N"

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def page_number(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("page", 1)), 100_000))
    except ValueError:
        return 1


def page_of(rows: QuerySet | Sequence, number: int, per_page: int = PER_PAGE) -> ProfilePage:
    """Page `number` of `rows` (one query for a queryset)."""
    start = (number - 1) * per_page
    fetched = list(rows[start : start + per_page + 1])
    return ProfilePage(fetched[:per_page], number, len(fetched) > per_page, per_page)


def query_string(**params: Any) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


# --- The History timeline ----------------------------------------------------------------

MONEY = models.DecimalField(max_digits=12, decimal_places=2)
TEXT = models.TextField()
INTEGER = models.IntegerField()
BIG_INTEGER = models.BigIntegerField()

# Every app's timeline rows have these columns, in this order, so that one UNION ALL can
# page through all of them newest first. None means "this kind has no such thing".
TIMELINE_COLUMNS: dict[str, models.Field] = {
    "kind": TEXT,
    "obj_id": BIG_INTEGER,
    "at": models.DateTimeField(),
    "status": TEXT,
    "amount": MONEY,
    "tip": MONEY,
    "balance": MONEY,
    "rating": INTEGER,
    "person": TEXT,
    "text": TEXT,
    "ref": TEXT,
    "ref_id": BIG_INTEGER,
}


def timeline_rows(rows: QuerySet, *, kind: str, at: str, **columns: Any) -> QuerySet:
    """`rows` as timeline rows: `columns` maps a timeline column to a field path (str) or an
    expression; the columns not given are typed NULLs (PostgreSQL needs the types to match
    across the UNION)."""
    unknown = set(columns) - set(TIMELINE_COLUMNS)
    if unknown:
        raise ValueError(f"Not timeline columns: {sorted(unknown)}")
    given: dict[str, Any] = {"kind": Value(kind), "obj_id": F("pk"), "at": F(at), **columns}
    select = {}
    for name, field in TIMELINE_COLUMNS.items():
        value = given.get(name)
        if value is None:
            value = Cast(Value(None), output_field=field)
        elif isinstance(value, str):
            value = F(value)
        select[f"t_{name}"] = value
    return rows.order_by().values(**select)


@dataclass
class TimelineEntry:
    kind: str
    obj_id: int
    at: datetime.datetime
    status: str | None
    amount: Decimal | None
    tip: Decimal | None
    balance: Decimal | None
    rating: int | None
    person: str | None
    text: str | None
    ref: str | None
    ref_id: int | None
    # Filled in after the page is read: a link, and the local date and time as shown
    # (formatted once here rather than by template filters).
    url: str = ""
    iso: str = ""
    day: str = ""
    time: str = ""
    # What the timeline shows, worded once per kind (see clients.profile_tabs).
    title: str = ""
    suffix: str = ""
    badge: str = ""
    quote: str = ""
    meta: str = ""
    stars_on: str = ""
    stars_off: str = ""
    html: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TimelineEntry:
        return cls(**{name: row[f"t_{name}"] for name in TIMELINE_COLUMNS})


def timeline_page(branches: Iterable[QuerySet], number: int, per_page: int = PER_PAGE):
    """Page `number` of the union of `branches` (timeline rows), newest first: one query.

    Each branch is first cut to its own newest rows up to the end of the page (a page of
    the union can't hold more of them): each then reads only those rows along its
    (business, client, date) index instead of the client's whole history being sorted.
    SQLite can't order or limit inside a UNION; small salons don't need it there.
    """
    branches = list(branches)
    if not branches:
        return ProfilePage([], number, False, per_page)
    ordering = ("-t_at", "-t_obj_id")
    if len(branches) > 1 and connection.features.supports_slicing_ordering_in_compound:
        end = number * per_page + 1
        branches = [branch.order_by(*ordering)[:end] for branch in branches]
    union = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
    page = page_of(union.order_by(*ordering), number, per_page)
    page.object_list = [TimelineEntry.from_row(row) for row in page.object_list]
    return page


# --- Months ------------------------------------------------------------------------------


def last_months(count: int = 12, today: datetime.date | None = None) -> list[datetime.date]:
    """The first day of each of the last `count` months, oldest first, this month last."""
    today = today or timezone.localdate()
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        months.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def month_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day`'s month in the current (business) time zone."""
    naive = datetime.datetime(day.year, day.month, 1)  # noqa: DTZ001 - made aware just below
    return timezone.make_aware(naive)


def month_key(value: datetime.datetime | datetime.date) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return datetime.date(value.year, value.month, 1)


# --- Links to pages other apps may or may not have yet -----------------------------------


def optional_url(names: Sequence[str], *, query: str = "", **kwargs: Any) -> str:
    """The first of `names` that resolves (with `query` appended), or "" if none does."""
    for name in names:
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
        return f"{url}?{query}" if query else url
    return ""


URL_PLACEHOLDER = 987654321


def url_maker(name: str, **kwargs: Any) -> Callable[[int], str]:
    """`pk → URL of name` with one reverse() for a whole list (a reverse per row adds up);
    every pk gives "" while the page named does not exist."""
    try:
        pattern = reverse(name, kwargs={**kwargs, "pk": URL_PLACEHOLDER})
    except NoReverseMatch:
        return lambda pk: ""
    return lambda pk: pattern.replace(str(URL_PLACEHOLDER), str(pk))


def object_url(obj: Any) -> str:
    """`obj.get_absolute_url()`, or "" while the page it names does not exist."""
    try:
        return obj.get_absolute_url()
    except NoReverseMatch:
        return ""
