import pytest
from django.contrib import admin
from django.urls import reverse

from tests.conftest import logged_in
from tests.factories import ClientFactory, TeamMemberFactory
from tests.rls import all_tenants, platform_db_mark

pytestmark = platform_db_mark()

REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.fixture
def as_superuser(django_user_model):
    return logged_in(django_user_model.objects.create_superuser("root", "r@example.com", "pw-1x"))


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_platform_admin_lists_every_model_across_tenants(as_superuser, world, model):
    with all_tenants():
        ClientFactory(business=world.business, first_name="Alpha")
        ClientFactory(business=world.other_business, first_name="Bravo")
        TeamMemberFactory(business=world.business)
    opts = model._meta
    response = as_superuser.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    if opts.label == "clients.Client":
        assert b"Alpha" in response.content and b"Bravo" in response.content


def test_platform_admin_edits_a_tenant_row(as_superuser, world):
    with all_tenants():
        client = ClientFactory(business=world.business)
    url = reverse("admin:clients_client_change", args=[client.pk])
    assert as_superuser.get(url).status_code == 200


def test_salon_owner_is_not_a_platform_admin(as_owner):
    response = as_owner.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response.url
