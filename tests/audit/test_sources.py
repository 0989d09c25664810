"""Where a change came from: the platform admin and the Stripe webhook say so. These go
through the platform connection, so the tests commit (platform_db_mark)."""

import json

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from audit.context import Source
from audit.models import AuditEntry
from clients.models import Client
from sales.models import SavedCard
from tests.audit.conftest import entries
from tests.conftest import logged_in
from tests.conftest_stripe import WEBHOOK_SECRET
from tests.factories import ClientFactory
from tests.rls import all_tenants, platform_db_mark
from tests.stripe.test_webhooks import event, signature

pytestmark = platform_db_mark()


@pytest.fixture
def as_superuser(django_user_model):
    return logged_in(django_user_model.objects.create_superuser("root", "r@example.com", "pw-1x"))


def posted_back(response, **changes) -> dict:
    """The admin's change form as the browser would submit it, with `changes`."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField):
            continue  # no new file: the admin keeps the one there is
        value = form[name].value()
        if value is True:
            data[name] = "on"
        elif value not in (None, False):
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data | changes


def test_a_change_in_the_platform_admin_is_recorded_as_admin(
    as_superuser, world, django_user_model
):
    with all_tenants():
        client = ClientFactory(business=world.business, city="Leeds")
    url = reverse("admin:clients_client_change", args=[client.pk])
    response = as_superuser.post(url, posted_back(as_superuser.get(url), city="York"))
    assert response.status_code == 302, response.content.decode()[:3000]
    (entry,) = entries(Client, action=AuditEntry.Action.UPDATE)
    assert entry.changes == {"city": ["Leeds", "York"]}
    assert entry.source == Source.ADMIN
    assert entry.actor == django_user_model.objects.get(username="root")
    assert entry.business_id == world.business.pk


def test_a_webhook_change_is_recorded_as_webhook_by_no_one(world, settings):
    from django.test import Client as HttpClient

    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    with all_tenants():
        client = ClientFactory(business=world.business)
        card = SavedCard.objects.create(
            business=world.business,
            client=client,
            stripe_payment_method_id="pm_audit_1",
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=timezone.now().year + 2,
            is_default=True,
        )
    obj = {"id": card.stripe_payment_method_id, "object": "payment_method", "type": "card"}
    body = json.dumps(event("payment_method.detached", obj)).encode()
    response = HttpClient().post(
        "/webhooks/stripe/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature(body),
    )
    assert response.status_code == 200, response.content
    (entry,) = entries(SavedCard, action=AuditEntry.Action.UPDATE)
    assert entry.source == Source.WEBHOOK and entry.actor is None
    assert entry.changes["removed_at"][0] is None and entry.changes["removed_at"][1]
    assert entry.client_id == client.pk
