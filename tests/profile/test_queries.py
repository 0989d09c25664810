"""The profile and every tab cost a fixed, small number of queries, however long the
client's history: no query per row, no query per counter."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_profile import build_long_history
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

TABS = ["history", "appointments", "sales", "notes", "feedback", "tips", "cards", "vouchers"]
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE_LIMIT = 15
TAB_LIMIT = 10


@pytest.fixture
def long_client(world):
    with all_tenants():
        client = ClientFactory(business=world.business, alert="Latex")
        members = [TeamMemberFactory(business=world.business) for _ in range(3)]
        build_long_history(client, members, size=300)
    return client


def url(world, client, tab: str = "") -> str:
    kwargs = {"business": world.business.slug, "pk": client.pk}
    return reverse(f"profile:{tab}" if tab else "clients:detail", kwargs=kwargs)


def count_queries(http, target: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = http.get(target, **headers)
    assert response.status_code == 200
    return len(captured)


def test_profile_page_needs_at_most_15_queries(
    as_staff, world, long_client, django_assert_max_num_queries
):
    as_staff.get(url(world, long_client))  # the session's first request writes to it
    with django_assert_max_num_queries(PAGE_LIMIT):
        response = as_staff.get(url(world, long_client))
    assert response.status_code == 200


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_needs_at_most_10_queries(
    as_staff, world, long_client, tab, django_assert_max_num_queries
):
    as_staff.get(url(world, long_client))
    with django_assert_max_num_queries(TAB_LIMIT):
        response = as_staff.get(url(world, long_client, tab), **HTMX)
    assert response.status_code == 200


@pytest.mark.parametrize("tab", TABS)
def test_a_direct_visit_to_each_tab_needs_at_most_15_queries(
    as_staff, world, long_client, tab, django_assert_max_num_queries
):
    as_staff.get(url(world, long_client))
    with django_assert_max_num_queries(PAGE_LIMIT):
        assert as_staff.get(url(world, long_client, tab)).status_code == 200


@pytest.mark.parametrize("tab", ["", *TABS])
def test_query_count_does_not_grow_with_the_history(as_staff, world, long_client, history, tab):
    """The long history (300 of everything) costs what the short one (a handful) costs."""
    as_staff.get(url(world, long_client))
    short = count_queries(as_staff, url(world, history.client, tab))
    long = count_queries(as_staff, url(world, long_client, tab))
    assert long == short
