"""Writes to clients: each one transaction, one business rule."""

from __future__ import annotations

from django.db import transaction

from clients.consent import CHANNELS as CONSENT_CHANNELS
from clients.consent import consent_record, consent_set
from clients.models import Client, ClientTag, ConsentSource, Tag
from glamiti.models import Business, User

BIRTHDAY_FIELDS = ("birth_day", "birth_month", "birth_year")


def _set_tags(client: Client, tags: list[Tag], new_names: list[str]) -> None:
    business = client.business
    wanted = {t.pk: t for t in tags}
    for name in new_names:
        tag = business.tags.filter(name__iexact=name).first()
        tag = tag or Tag.objects.create(business=business, name=name)
        wanted[tag.pk] = tag
    current = set(client.client_tags.values_list("tag_id", flat=True))
    client.client_tags.exclude(tag_id__in=wanted.keys()).delete()
    ClientTag.objects.bulk_create(
        ClientTag(business=business, client=client, tag=tag)
        for pk, tag in wanted.items()
        if pk not in current
    )


@transaction.atomic
def client_save(
    *, business: Business, client: Client, data: dict, by: User | None, is_new: bool
) -> Client:
    """Create or update a client from a validated ClientForm's cleaned data."""
    client.business = business
    for field in BIRTHDAY_FIELDS:
        setattr(client, field, data.get(field))
    consent_fields = [f"{channel}_marketing" for channel in CONSENT_CHANNELS]
    # The form has already set the new answers on the instance: compare with what is stored.
    # Locked: two saves at once must not both record the same change.
    rows = Client.objects.select_for_update().filter(pk=client.pk)
    stored = {} if is_new else rows.values(*consent_fields).get()
    changed = []
    for channel, field in zip(CONSENT_CHANNELS, consent_fields, strict=True):
        given, was = bool(data.get(field)), stored.get(field)
        if consent_set(client, channel, given, was=was, source=ConsentSource.FORM):
            changed.append(channel)
    if not client.is_blocked:
        client.blocked_reason = ""
    if is_new:
        client.created_by = by
    client.save()
    consent_record(client, changed, by=by)
    _set_tags(client, list(data.get("tags") or []), data.get("new_tags") or [])
    return client


@transaction.atomic
def client_delete(*, client: Client) -> None:
    """Delete a client for good, with everything that belongs only to them."""
    Client.objects.filter(referred_by=client).update(referred_by=None)
    client.delete()
