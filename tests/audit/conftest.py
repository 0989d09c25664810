"""Helpers for the audit trail's tests: read entries as the owner (across the trail)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from audit.models import AuditEntry
from tests.factories import ClientFactory
from tests.rls import all_tenants


def entries(model=None, **filters) -> list[AuditEntry]:
    """Entries, oldest first (as the database owner: row-level security does not apply)."""
    with all_tenants():
        rows = AuditEntry.objects.all()
        if model is not None:
            rows = rows.filter(content_type=ContentType.objects.get_for_model(model))
        return list(rows.filter(**filters).order_by("timestamp", "id"))


def client_form(client, **changes) -> dict:
    """The client's edit form as a browser would post it, with `changes`."""
    data = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "email": client.email,
        "mobile_phone": client.mobile_phone,
        "other_phone": client.other_phone,
        "gender": client.gender,
        "pronouns": client.pronouns,
        "alert": client.alert,
    }
    return {k: v for k, v in (data | changes).items() if v is not None}


def edit_url(world, client) -> str:
    return reverse("clients:edit", kwargs={"business": world.business.slug, "pk": client.pk})


def activity_url(world, client, business=None) -> str:
    slug = (business or world.business).slug
    return reverse("profile:activity", kwargs={"business": slug, "pk": client.pk})


def revert_url(world, client, entry, business=None) -> str:
    slug = (business or world.business).slug
    return reverse(
        "profile:activity-revert", kwargs={"business": slug, "pk": client.pk, "entry_pk": entry.pk}
    )


@pytest.fixture
def client_row(world):
    with all_tenants():
        return ClientFactory(
            business=world.business, first_name="Ana", last_name="Silva", email="ana@example.com"
        )
