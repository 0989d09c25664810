"""The client list: what the filters mean, and one page of results with its (capped) count."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import F, QuerySet, prefetch_related_objects
from django.http import QueryDict
from django.utils import timezone

from clients.models import Client
from clients.search import COUNT_CAP, capped_count, search_page
from glamiti.models import Business

PER_PAGE = 50
MAX_PAGE = 1_000_000
SORTS = {
    "name": ("Name", ["last_name", "first_name", "id"]),
    "-created": ("Newest first", ["-created_at", "-id"]),
    "created": ("Oldest first", ["created_at", "id"]),
    "-last_visit": ("Last visit", [F("last_visit_at").desc(nulls_last=True), "-id"]),
    "-spend": ("Total spend", ["-total_spend", "-id"]),
}
LAPSED_CHOICES = [
    (30, "30 days"),
    (60, "60 days"),
    (90, "90 days"),
    (180, "6 months"),
    (365, "a year"),
]
CONSENT_CHOICES = [("email", "E-mail marketing"), ("sms", "SMS marketing")]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@dataclass
class ClientFilters:
    q: str = ""
    tag: int | None = None
    blocked: bool = False
    upcoming: bool = False
    lapsed: int | None = None
    birthday: bool = False
    consent: str = ""
    archived: bool = False
    sort: str = "name"
    page: int = 1
    country: str = field(default="", repr=False)

    @classmethod
    def from_query(cls, query: QueryDict, *, business: Business) -> ClientFilters:
        """Read the list's query string; anything unknown or malformed is ignored."""
        lapsed = _int(query.get("lapsed"))
        return cls(
            q=query.get("q", "").strip()[:100],
            tag=_int(query.get("tag")),
            blocked=query.get("blocked") == "1",
            upcoming=query.get("upcoming") == "1",
            lapsed=lapsed if lapsed in dict(LAPSED_CHOICES) else None,
            birthday=query.get("birthday") == "1",
            consent=query.get("consent") if query.get("consent") in dict(CONSENT_CHOICES) else "",
            archived=query.get("archived") == "1",
            sort=query.get("sort") if query.get("sort") in SORTS else "name",
            # Capped, so that the offset stays a number the database can take.
            page=min(max(_int(query.get("page")) or 1, 1), MAX_PAGE),
            country=business.country,
        )

    @property
    def active_count(self) -> int:
        flags = [self.tag, self.blocked, self.upcoming, self.lapsed, self.birthday, self.consent]
        return sum(1 for flag in flags if flag) + int(self.archived)

    def query_string(self, **overrides) -> str:
        """This filter set as a query string without the page (for pagination and export)."""
        values = {
            "q": self.q,
            "tag": self.tag or "",
            "blocked": "1" if self.blocked else "",
            "upcoming": "1" if self.upcoming else "",
            "lapsed": self.lapsed or "",
            "birthday": "1" if self.birthday else "",
            "consent": self.consent,
            "archived": "1" if self.archived else "",
            "sort": "" if self.sort == "name" else self.sort,
        } | overrides
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    def apply(self, clients: QuerySet[Client], *, search: bool = True) -> QuerySet[Client]:
        clients = clients.archived() if self.archived else clients.active()
        if self.q and search:
            clients = clients.search(self.q, self.country)
        if self.tag:
            clients = clients.with_tag(self.tag)
        if self.blocked:
            clients = clients.blocked()
        if self.upcoming:
            clients = clients.with_upcoming_appointment()
        if self.lapsed:
            clients = clients.lapsed(self.lapsed)
        if self.birthday:
            clients = clients.birthday_in_month(timezone.localdate().month)
        if self.consent:
            clients = clients.accepts_marketing(self.consent)
        return clients.order_by(*SORTS[self.sort][1])


@dataclass
class ClientPage:
    object_list: list[Client]
    number: int
    count: int
    more: bool  # more matches than COUNT_CAP: the count is a lower bound
    per_page: int = PER_PAGE

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.more or self.number * self.per_page < self.count

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def num_pages(self) -> int | None:
        return None if self.more else max(1, -(-self.count // self.per_page))

    @property
    def count_display(self) -> str:
        return f"{COUNT_CAP:,}+" if self.more else f"{self.count:,}"


def client_page(business: Business, filters: ClientFilters) -> ClientPage:
    """One page of the filtered list, with its tags and its (capped) count."""
    if filters.q and filters.sort == "name" and filters.page == 1:
        # The page staff see while typing: the fast path built for a million clients.
        found = search_page(
            filters.apply(business.clients.all(), search=False),
            filters.q,
            filters.country,
            size=PER_PAGE,
            cap=COUNT_CAP,
        )
        prefetch_related_objects(found.rows, "tags")
        return ClientPage(found.rows, 1, found.count, found.more)
    clients = filters.apply(business.clients.all())
    start = (filters.page - 1) * PER_PAGE
    rows = list(clients.prefetch_related("tags")[start : start + PER_PAGE])
    if start == 0 and len(rows) < PER_PAGE:
        count, more = len(rows), False  # the whole result is on this page: no need to count
    else:
        count, more = capped_count(clients)
    if start and not rows and count:
        # Past the last page (an old link): show the last page instead of nothing.
        filters.page = max(1, -(-count // PER_PAGE)) if not more else 1
        return client_page(business, filters)
    return ClientPage(rows, filters.page, count, more)
