import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_scopes import ScopeError

from clients.models import Client
from glamiti.models import TeamMember
from glamiti.tenancy import tenant_context
from tests.conftest import logged_in
from tests.factories import ClientFactory, TeamMemberFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def tenant_url_names() -> list[str]:
    """Every named URL under /<business>/ that takes no other argument."""
    names = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.pattern.converters:
                    continue  # needs an object id: covered by each app's outsider tests
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif (
                isinstance(pattern, URLPattern) and pattern.name and not pattern.pattern.converters
            ):
                names.append(f"{namespace}{pattern.name}")

    tenant = next(p for p in get_resolver().url_patterns if str(p.pattern) == "<slug:business>/")
    walk(tenant.url_patterns, "")
    return names


TENANT_PAGES = tenant_url_names()


def test_tenant_pages_are_discovered():
    assert {"dashboard", "clients:list", "appointments:calendar", "settings:index"} <= set(
        TENANT_PAGES
    )


@pytest.mark.parametrize("name", TENANT_PAGES)
def test_anonymous_is_sent_to_login(client, world, name):
    url = reverse(name, kwargs={"business": world.business.slug})
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "next=" in response.url


@pytest.mark.parametrize("name", TENANT_PAGES)
def test_member_gets_the_page(as_owner, world, name):
    url = reverse(name, kwargs={"business": world.business.slug})
    response = as_owner.get(url, follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize("name", TENANT_PAGES)
def test_non_member_gets_404(as_outsider, world, name):
    response = as_outsider.get(reverse(name, kwargs={"business": world.business.slug}))
    assert response.status_code == 404


@pytest.mark.parametrize("name", TENANT_PAGES)
def test_member_of_a_cannot_reach_any_page_of_b(as_owner, world, name):
    response = as_owner.get(reverse(name, kwargs={"business": world.other_business.slug}))
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["settings:team-create"])
def test_wrong_role_gets_403(as_staff, world, name):
    response = as_staff.get(reverse(name, kwargs={"business": world.business.slug}))
    assert response.status_code == 403
    assert b"role doesn" in response.content


def test_unknown_business_is_404_like_a_foreign_one(as_owner):
    assert as_owner.get("/no-such-salon/clients/").status_code == 404


def test_member_of_a_cannot_open_b_objects_through_a_url(as_owner, world):
    with all_tenants():
        foreign_client = ClientFactory(business=world.other_business)
        foreign_member = TeamMemberFactory(business=world.other_business)
    slug = world.business.slug
    assert as_owner.get(f"/{slug}/clients/{foreign_client.pk}/").status_code == 404
    assert as_owner.get(f"/{slug}/settings/team/{foreign_member.pk}/").status_code == 404
    other = world.other_business.slug
    assert as_owner.get(f"/{other}/clients/{foreign_client.pk}/").status_code == 404


def test_superuser_who_is_not_a_member_gets_404(world, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-1")
    response = logged_in(admin).get(
        reverse("clients:list", kwargs={"business": world.business.slug})
    )
    assert response.status_code == 404


def test_query_on_a_tenant_model_outside_a_scope_raises(world):
    with all_tenants():
        ClientFactory(business=world.business)
    with pytest.raises(ScopeError):
        list(Client.objects.all())
    with pytest.raises(ScopeError):
        TeamMember.objects.count()
    with pytest.raises(ScopeError):
        world.business.clients.first()


def test_tenant_context_only_sees_its_own_rows(world):
    with all_tenants():
        mine = ClientFactory(business=world.business)
        ClientFactory(business=world.other_business)
    with tenant_context(world.business):
        assert list(Client.objects.all()) == [mine]
        assert Client.objects.filter(pk__gt=0).count() == 1


def test_tenant_context_activates_the_business_time_zone(world):
    from django.utils import timezone

    world.business.time_zone = "America/New_York"
    with tenant_context(world.business):
        assert timezone.get_current_timezone_name() == "America/New_York"
    assert timezone.get_current_timezone_name() == "UTC"


def test_tenant_context_refuses_an_unsaved_business():
    from glamiti.models import Business

    with pytest.raises(ValueError), tenant_context(Business(name="x", slug="x")):
        pass
