"""Writes to clients: each one transaction, one business rule."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clients.models import Client, ClientTag, ConsentSource, Tag
from glamiti.models import Business, User

CONSENT_CHANNELS = ("email", "sms")
BIRTHDAY_FIELDS = ("birth_day", "birth_month", "birth_year")


def _apply_consent(
    client: Client, channel: str, given: bool, was: bool | None, source: str
) -> None:
    """Record when and how consent changed; an unchanged answer keeps its original time."""
    field = f"{channel}_marketing"
    if was == given and getattr(client, f"{field}_at"):
        return
    setattr(client, field, given)
    setattr(client, f"{field}_at", timezone.now())
    setattr(client, f"{field}_source", source)


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
    stored = {} if is_new else Client.objects.filter(pk=client.pk).values(*consent_fields).get()
    for channel, field in zip(CONSENT_CHANNELS, consent_fields, strict=True):
        given = bool(data.get(field))
        if is_new and not given:
            continue
        _apply_consent(client, channel, given, stored.get(field), ConsentSource.FORM)
    if not client.is_blocked:
        client.blocked_reason = ""
    if is_new:
        client.created_by = by
    client.save()
    _set_tags(client, list(data.get("tags") or []), data.get("new_tags") or [])
    return client


@transaction.atomic
def client_delete(*, client: Client) -> None:
    """Delete a client for good, with everything that belongs only to them."""
    Client.objects.filter(referred_by=client).update(referred_by=None)
    client.delete()
