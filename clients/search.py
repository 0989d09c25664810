"""Client search: the one place that turns what staff type into a query.

Used by the list view, the client picker, and bench/clients_search.py.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from clients.normalize import fold, phone_query_digits

# Above this many matches the list says "1,000+" instead of counting every row.
COUNT_CAP = 1000


def apply_search(queryset: QuerySet, term: str, country: str) -> QuerySet:
    term = term.strip()
    if not term:
        return queryset
    condition = Q()
    for word in fold(term).split():
        condition &= Q(search_text__contains=word)
    digits = phone_query_digits(term, country)
    if digits:
        condition |= Q(phone_digits__contains=digits)
    return queryset.filter(condition)


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, more): the exact count up to `cap`, and whether there are more than `cap`."""
    found = queryset.order_by()[: cap + 1].count()
    return min(found, cap), found > cap
