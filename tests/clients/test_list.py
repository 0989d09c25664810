import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def list_url(world) -> str:
    return reverse("clients:list", kwargs={"business": world.business.slug})


def test_empty_list_says_so(as_staff, world):
    response = as_staff.get(list_url(world))
    assert b"No clients yet" in response.content


def test_list_shows_only_this_business_active_clients(as_staff, world):
    with scopes_disabled():
        ClientFactory(business=world.business, first_name="Amelia", last_name="Stone")
        ClientFactory(business=world.business, first_name="Gone", archived_at=timezone.now())
        ClientFactory(business=world.other_business, first_name="Stranger")
    content = as_staff.get(list_url(world)).content
    assert b"Amelia Stone" in content
    assert b"Gone" not in content
    assert b"Stranger" not in content
    assert b"1 client<" in content


def test_list_paginates_with_a_fixed_number_of_queries(
    as_staff, world, django_assert_max_num_queries
):
    with scopes_disabled():
        ClientFactory.create_batch(60, business=world.business)
    with django_assert_max_num_queries(10):
        first = as_staff.get(list_url(world))
    assert b"60 clients" in first.content
    assert b"Page 1 of 2" in first.content
    second = as_staff.get(list_url(world) + "?page=2")
    assert second.status_code == 200
    assert as_staff.get(list_url(world) + "?page=junk").status_code == 200
