import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import ClientTag, Tag
from tests.factories import ClientFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def list_url(world, query: str = "") -> str:
    return reverse("clients:list", kwargs={"business": world.business.slug}) + query


def names(response) -> set[str]:
    return {client.full_name for client in response.context["page"].object_list}


def test_empty_list_says_so(as_staff, world):
    response = as_staff.get(list_url(world))
    assert b"No clients yet" in response.content
    assert b"Add a client" in response.content


def test_list_shows_only_this_business_active_clients(as_staff, world):
    with all_tenants():
        ClientFactory(business=world.business, first_name="Amelia", last_name="Stone")
        ClientFactory(business=world.business, first_name="Gone", archived_at=timezone.now())
        ClientFactory(business=world.other_business, first_name="Stranger")
    response = as_staff.get(list_url(world))
    assert names(response) == {"Amelia Stone"}
    assert b"1 client" in response.content


@pytest.mark.parametrize(
    "typed", ["07911 123456", "+44 7911 123456", "0044-7911-123456", "123456", "3456", "(0)7911"]
)
def test_phone_digits_in_any_format_find_the_client(as_staff, world, typed):
    with all_tenants():
        ClientFactory(
            business=world.business,
            first_name="Phoebe",
            last_name="Ring",
            mobile_phone="+447911123456",
        )
        ClientFactory(
            business=world.business,
            first_name="Other",
            last_name="Person",
            mobile_phone="+447922000000",
        )
    response = as_staff.get(list_url(world), {"q": typed})
    assert names(response) == {"Phoebe Ring"}


def test_search_by_name_and_email_fragments(as_staff, world):
    with all_tenants():
        ClientFactory(
            business=world.business, first_name="José", last_name="Núñez", email="jn@salon.example"
        )
        ClientFactory(
            business=world.business, first_name="Mary", last_name="Smith", email="mary@example.com"
        )
    assert names(as_staff.get(list_url(world), {"q": "jose nun"})) == {"José Núñez"}
    assert names(as_staff.get(list_url(world), {"q": "salon.ex"})) == {"José Núñez"}
    no_match = as_staff.get(list_url(world), {"q": "zzz"})
    assert b"No clients match" in no_match.content


def test_htmx_search_returns_only_the_results(as_staff, world):
    with all_tenants():
        ClientFactory(business=world.business, first_name="Harper")
    response = as_staff.get(list_url(world, "?q=harp"), headers={"HX-Request": "true"})
    assert b"Harper" in response.content
    assert b"<html" not in response.content
    assert response["Vary"] and "HX-Request" in response["Vary"]
    restore = as_staff.get(
        list_url(world, "?q=harp"),
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert b"<html" in restore.content


def test_filters(as_staff, world):
    now = timezone.now()
    today = timezone.localdate()
    with all_tenants():
        vip = Tag.objects.create(business=world.business, name="VIP")
        tagged = ClientFactory(business=world.business, first_name="Tagged", last_name="A")
        ClientTag.objects.create(business=world.business, client=tagged, tag=vip)
        ClientFactory(
            business=world.business,
            first_name="Blocked",
            last_name="B",
            is_blocked=True,
            blocked_reason="x",
        )
        ClientFactory(
            business=world.business,
            first_name="Lapsed",
            last_name="C",
            last_visit_at=now - datetime.timedelta(days=120),
        )
        ClientFactory(
            business=world.business,
            first_name="Recent",
            last_name="D",
            last_visit_at=now - datetime.timedelta(days=3),
        )
        ClientFactory(
            business=world.business,
            first_name="Birthday",
            last_name="E",
            birth_day=1,
            birth_month=today.month,
        )
        ClientFactory(
            business=world.business, first_name="Mailable", last_name="F", email_marketing=True
        )
        ClientFactory(
            business=world.business, first_name="Texty", last_name="G", sms_marketing=True
        )
        ClientFactory(
            business=world.business,
            first_name="Soon",
            last_name="H",
            next_appointment_at=now + datetime.timedelta(days=2),
        )
        ClientFactory(
            business=world.business, first_name="Archived", last_name="I", archived_at=now
        )
    assert names(as_staff.get(list_url(world), {"tag": vip.pk})) == {"Tagged A"}
    assert names(as_staff.get(list_url(world), {"blocked": "1"})) == {"Blocked B"}
    assert names(as_staff.get(list_url(world), {"lapsed": "90"})) == {"Lapsed C"}
    assert names(as_staff.get(list_url(world), {"birthday": "1"})) == {"Birthday E"}
    assert names(as_staff.get(list_url(world), {"consent": "email"})) == {"Mailable F"}
    assert names(as_staff.get(list_url(world), {"consent": "sms"})) == {"Texty G"}
    assert names(as_staff.get(list_url(world), {"upcoming": "1"})) == {"Soon H"}
    assert names(as_staff.get(list_url(world), {"archived": "1"})) == {"Archived I"}
    # Nonsense in the query string is ignored, never a 500.
    assert (
        as_staff.get(
            list_url(world), {"tag": "x", "lapsed": "7", "sort": "drop table", "page": "-3"}
        ).status_code
        == 200
    )


def test_sorting(as_staff, world):
    now = timezone.now()
    with all_tenants():
        ClientFactory(business=world.business, first_name="Zed", last_name="Adams", total_spend=10)
        ClientFactory(
            business=world.business,
            first_name="Amy",
            last_name="Young",
            total_spend=500,
            last_visit_at=now,
        )
    order = lambda r: [c.first_name for c in r.context["page"].object_list]  # noqa: E731
    assert order(as_staff.get(list_url(world))) == ["Zed", "Amy"]
    assert order(as_staff.get(list_url(world), {"sort": "-spend"})) == ["Amy", "Zed"]
    assert order(as_staff.get(list_url(world), {"sort": "-last_visit"})) == ["Amy", "Zed"]
    assert order(as_staff.get(list_url(world), {"sort": "-created"})) == ["Amy", "Zed"]


@pytest.mark.parametrize("size", [5, 120])
def test_list_page_has_a_fixed_number_of_queries(
    as_staff, world, size, django_assert_max_num_queries
):
    with all_tenants():
        tag = Tag.objects.create(business=world.business, name="Regular")
        for client in ClientFactory.create_batch(size, business=world.business):
            ClientTag.objects.create(business=world.business, client=client, tag=tag)
    as_staff.get(list_url(world))  # the first visit remembers the business in the session
    with django_assert_max_num_queries(9):
        first = as_staff.get(list_url(world))
    # Searching takes a few more statements on PostgreSQL (planner settings, a sample, the
    # page), but a bounded number whatever the size of the business.
    with django_assert_max_num_queries(16):
        as_staff.get(list_url(world, f"?q=a&tag={tag.pk}"))
    assert f"{size} clients".encode() in first.content


def test_pagination_and_capped_count(as_staff, world, settings):
    with all_tenants():
        ClientFactory.create_batch(60, business=world.business)
    first = as_staff.get(list_url(world))
    assert b"Page 1 of 2" in first.content
    second = as_staff.get(list_url(world, "?page=2"))
    assert len(second.context["page"].object_list) == 10
    beyond = as_staff.get(list_url(world, "?page=99"))
    assert beyond.context["page"].number == 2
