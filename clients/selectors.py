"""Reads about clients that are more than a filter."""

from __future__ import annotations

from django.db.models import Q

from clients.models import Client
from glamiti.models import Business

DUPLICATE_WARNING_LIMIT = 5


def matching_clients(
    business: Business, *, email: str, phones: list[str], exclude_pk: int | None = None
) -> list[Client]:
    """Active clients of `business` with the same e-mail or one of the same phones."""
    condition = Q()
    if email:
        condition |= Q(email=email.lower())
    for phone in filter(None, phones):
        condition |= Q(mobile_phone=phone) | Q(other_phone=phone)
    if not condition:
        return []
    matches = business.clients.active().filter(condition)
    if exclude_pk:
        matches = matches.exclude(pk=exclude_pk)
    return list(matches.order_by("-created_at")[:DUPLICATE_WARNING_LIMIT])


def related_record_counts(client: Client) -> list[tuple[str, int]]:
    """How many rows of each kind point at `client` (for the delete confirmation)."""
    counts = []
    for relation in Client._meta.related_objects:
        if not relation.one_to_many or relation.related_model is Client:
            continue
        model = relation.related_model
        count = model._base_manager.filter(**{relation.field.name: client}).count()
        if count:
            counts.append((str(model._meta.verbose_name_plural), count))
    return counts
