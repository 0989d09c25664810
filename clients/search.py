"""Client search: the one place that turns what staff type into a query.

`apply_search` filters any client queryset (chainable, every backend); `capped_count` counts
up to a cap; `search_page` gives the first page of a search in name order with its capped
count, fast on a business with a million clients (PostgreSQL; elsewhere it uses the other
two).

Why `search_page` is more than `qs[:50]` and a count (indexes: migration 0002_search_indexes):
a trigram index finds the matches of a fragment, but a common one ("smi", "@gmail") matches
tens of thousands of clients, and sorting them by name reads each from the table. Walking
the name index instead finds the first page at once when matches are spread through the
alphabet, but when they share a surname far down it ("wright") that walk, which the planner
picks for ORDER BY ... LIMIT, reads most of the list first: seconds. So `search_page` decides
from what it has seen rather than from the planner's guesses:

1. walk the first clients in name order through the covering name index (no table reads):
   for a common term that holds its first page, often its first thousand matches;
2. else read matches in table order through the trigram index: a thousand give the capped
   count, and up to SAMPLE_ROWS of them, all there are, sorted, give the first page;
3. else (a big cluster past the walked part) that sample tells how far in name order the
   first page reaches, and only the matches up to there are sorted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.db.models.lookups import Exact
from django_scopes import get_scope

from clients.normalize import fold, phone_query_digits
from glamiti.models import Business

# Above this many matches the list says "1,000+" instead of counting every row.
COUNT_CAP = 1000
PAGE_SIZE = 50
NAME_ORDER = ("last_name", "first_name", "id")

# Clients walked in name order: first to see how common a term is, then to find its first
# page when that walk suggests it is near, or to count it when it is very common.
PROBE_ROWS = 5_000
HEAD_ROWS = 40_000
WALK_ROWS = 100_000
# Without a first page from the walk, up to this many matches are read and sorted.
SAMPLE_ROWS = 10_000

# Short queries on data that is in memory: no JIT compilation, random reads about as cheap
# as sequential ones, and index entries not free. With the defaults the planner ANDs the
# trigram index with a million-entry business index to save a few thousand heap reads.
IN_MEMORY = {"jit": "off", "random_page_cost": "1.1", "cpu_index_tuple_cost": "0.05"}
# Read matches through the trigram index, in table order, never by walking another index.
TABLE_ORDER = {"enable_seqscan": "off", "enable_indexscan": "off", "enable_indexonlyscan": "off"}

Key = tuple[Any, ...]  # a client's NAME_ORDER values


@dataclass(frozen=True)
class Terms:
    """What to look for: every word in the name/e-mail text, or the digits in a phone."""

    words: tuple[str, ...]
    digits: str

    @classmethod
    def parse(cls, term: str, country: str) -> Terms:
        term = term.replace("\x00", " ")  # PostgreSQL text cannot hold NUL: no name has one
        return cls(tuple(fold(term).split()), phone_query_digits(term, country))

    def q(self) -> Q:
        condition = Q()
        for word in self.words:
            condition &= Q(search_text__contains=word)
        if self.digits:
            condition |= Q(phone_digits__contains=self.digits)
        return condition

    def sql(self, alias: str, escape: Callable[[str], str]) -> tuple[str, list[str]]:
        """The same condition as q(), as SQL on the columns of `alias`."""
        sql = " AND ".join(f"{alias}.search_text LIKE %s" for _ in self.words) or "TRUE"
        params = [f"%{escape(word)}%" for word in self.words]
        if self.digits:
            sql = f"(({sql}) OR {alias}.phone_digits LIKE %s)"
            params.append(f"%{escape(self.digits)}%")
        return sql, params


def apply_search(queryset: QuerySet, term: str, country: str) -> QuerySet:
    term = term.strip()
    if not term:
        return queryset
    queryset = queryset.filter(Terms.parse(term, country).q())
    tenant = _tenant_condition(queryset)
    return queryset.filter(tenant) if tenant is not None else queryset


def _tenant_condition(queryset: QuerySet) -> Exact | None:
    """The active business, in the form the trigram index is led by (see the migration).

    The scoped manager already limits the queryset to this business; saying it again this
    way lets the index skip every other business's entries.
    """
    if connections[queryset.db].vendor != "postgresql":
        return None
    scope = get_scope()
    business = scope.get("business") if scope.get("_enabled") else None
    if not isinstance(business, Business):
        return None
    return Exact(Cast("business_id", output_field=TextField()), str(business.pk))


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, more): the exact count up to `cap`, and whether there are more than `cap`."""
    found = queryset.order_by()[: cap + 1].count()
    return min(found, cap), found > cap


@dataclass(frozen=True)
class SearchPage:
    rows: list[Any]  # the first `size` matches in NAME_ORDER, as model instances
    count: int  # exact up to the cap
    more: bool  # more than the cap


def search_page(
    queryset: QuerySet, term: str, country: str, size: int = PAGE_SIZE, cap: int = COUNT_CAP
) -> SearchPage:
    """The first page of `queryset` searched for `term`, in name order, and the capped count.

    The same as `apply_search(...).order_by(*NAME_ORDER)[:size]` with `capped_count`, but
    fast on a big business. `queryset` is the list before searching (a business's clients,
    maybe filtered further), not yet sliced.
    """
    results = apply_search(queryset, term, country).order_by(*NAME_ORDER)
    db = queryset.db
    if not term.strip() or connections[db].vendor != "postgresql":
        count, more = capped_count(results, cap)
        return SearchPage(list(results[:size]), count, more)

    # The planner settings are SET LOCAL; when the transaction is ours, COMMIT drops them.
    restore = connections[db].in_atomic_block
    with transaction.atomic(using=db), connections[db].cursor() as cursor:
        terms = Terms.parse(term.strip(), country)
        keys, count, more = _first_page(cursor, queryset, results, terms, size, cap, restore)
    ids = [key[-1] for key in keys]
    rows = list(queryset.filter(pk__in=ids).order_by(*NAME_ORDER)) if ids else []
    return SearchPage(rows, count, more)


def _first_page(
    cursor: CursorWrapper,
    queryset: QuerySet,
    results: QuerySet,
    terms: Terms,
    size: int,
    cap: int,
    restore: bool,
) -> tuple[list[Key], int, bool]:
    head = _walk(cursor, queryset, terms, PROBE_ROWS, cap + 1)
    if len(head) * WALK_ROWS > 2 * cap * PROBE_ROWS:
        # Common enough that walking on to cap + 1 matches beats the trigram index.
        head = _walk(cursor, queryset, terms, WALK_ROWS, cap + 1)
    elif len(head) * HEAD_ROWS >= size * PROBE_ROWS:
        head = _walk(cursor, queryset, terms, HEAD_ROWS, size)
    if len(head) > cap:
        return head[:size], cap, True

    with _planner(cursor, restore, **IN_MEMORY, **TABLE_ORDER):
        limit = cap + 1 if len(head) >= size else max(cap + 1, SAMPLE_ROWS)
        sample, sampled = _sorted_keys(cursor, results, size, first=limit)
        count, more = min(sampled, cap), sampled > cap
        if sampled < limit:  # every match
            return sample, count, more
        if len(head) >= size:
            return head[:size], count, more
        # The walk found every match up to where it stopped, but too few. The sample (sorted
        # by the database, so in its collation) holds at least `wanted` more up to `upper`.
        wanted = size - len(head)
        walked = {key[-1] for key in head}
        upper = [key for key in sample if key[-1] not in walked][wanted - 1]
        rest = results.filter(_at_most(upper)).exclude(pk__in=walked)
        return head + _sorted_keys(cursor, rest, wanted)[0], count, more


def _walk(
    cursor: CursorWrapper, queryset: QuerySet, terms: Terms, rows: int, limit: int
) -> list[Key]:
    """Up to `limit` matches among the first `rows` clients in name order, sorted.

    The inner query has no search condition, so it can only be the walk down the covering
    name index; the outer one stops as soon as it has `limit` matches.
    """
    walked = queryset.order_by(*NAME_ORDER).values_list(*NAME_ORDER, "search_text", "phone_digits")
    sql, params = walked[:rows].query.sql_with_params()
    match, match_params = terms.sql("head", connections[queryset.db].ops.prep_for_like_query)
    columns = ", ".join(NAME_ORDER)
    cursor.execute(
        f"SELECT {columns} FROM ({sql}) AS head ({columns}, search_text, phone_digits)"  # noqa: S608
        f" WHERE {match} ORDER BY {columns} LIMIT %s",
        (*params, *match_params, limit),
    )
    return [tuple(row) for row in cursor.fetchall()]


def _sorted_keys(
    cursor: CursorWrapper, queryset: QuerySet, limit: int, first: int | None = None
) -> tuple[list[Key], int]:
    """The first `limit` NAME_ORDER keys of `queryset` (of its `first` rows, in whatever order
    the plan reads them), sorted by the database; and how many rows there were."""
    keys = queryset.order_by().values_list(*NAME_ORDER)
    if first is not None:
        keys = keys[:first]
    sql, params = keys.query.sql_with_params()
    columns = ", ".join(str(n) for n in range(1, len(NAME_ORDER) + 1))
    # MATERIALIZED: the ORDER BY ... LIMIT must not reach inside and turn into an index walk.
    cursor.execute(
        f"WITH m AS MATERIALIZED ({sql})"  # noqa: S608
        f" SELECT *, count(*) OVER () FROM m ORDER BY {columns} LIMIT %s",
        (*params, limit),
    )
    rows = cursor.fetchall()
    return [tuple(row[:-1]) for row in rows], rows[0][-1] if rows else 0


def _at_most(key: Key) -> Q:
    """Rows that sort at or before `key` in NAME_ORDER."""
    fields = NAME_ORDER
    condition = Q(**{f"{fields[-1]}__lte": key[-1]})
    for field, value in zip(reversed(fields[:-1]), reversed(key[:-1]), strict=True):
        condition = Q(**{f"{field}__lt": value}) | (Q(**{field: value}) & condition)
    # The leading bound on its own lets the planner use the name index as a range.
    return Q(**{f"{fields[0]}__lte": key[0]}) & condition


@contextmanager
def _planner(cursor: CursorWrapper, restore: bool, **settings: str) -> Iterator[None]:
    """Planner settings for the queries inside (SET LOCAL). `restore` puts the old ones back,
    for when the caller's transaction goes on after us."""
    names = list(settings)
    current = ", ".join(f"current_setting('{name}')" for name in names)
    change = ", ".join(f"set_config('{name}', %s, true)" for name in names)
    cursor.execute(f"SELECT {current}, {change}", list(settings.values()))
    previous = cursor.fetchone()[: len(names)]
    yield
    if restore:
        cursor.execute(f"SELECT {change}", previous)
