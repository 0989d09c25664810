"""Client search: what matches (names, accents, e-mails, phones as people type them), tenancy,
the capped count, and the fast first page agreeing with the plain queryset."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from clients import search
from clients.models import Client
from clients.search import NAME_ORDER, apply_search, capped_count, search_page
from glamiti.tenancy import tenant_context
from tests.factories import BusinessFactory, ClientFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL indexes and planner settings"
)


def add(business, first_name, last_name="", **fields) -> Client:
    # No factory e-mail: its sequence number would match digit searches by accident.
    fields.setdefault("email", "")
    with all_tenants():
        return ClientFactory(
            business=business, first_name=first_name, last_name=last_name, **fields
        )


def found(business, term: str) -> set[str]:
    with tenant_context(business):
        return {c.full_name for c in Client.objects.active().search(term, business.country)}


@pytest.fixture
def us_business(db):
    return BusinessFactory(name="Main Street Nails", slug="main-street", country="US")


def test_name_fragments_match_anywhere_in_first_or_last_name(world):
    add(world.business, "Amelia", "Stone")
    add(world.business, "Noah", "Wright")
    assert found(world.business, "mel") == {"Amelia Stone"}
    assert found(world.business, "TON") == {"Amelia Stone"}
    assert found(world.business, "righ") == {"Noah Wright"}
    assert found(world.business, "xyz") == set()


def test_accents_are_ignored_both_ways(world):
    add(world.business, "José", "Müller")
    add(world.business, "Zoe", "Ó Súilleabháin")
    assert found(world.business, "jose") == {"José Müller"}
    assert found(world.business, "muller") == {"José Müller"}
    assert found(world.business, "Zoë") == {"Zoe Ó Súilleabháin"}
    assert found(world.business, "o suilleab") == {"Zoe Ó Súilleabháin"}
    assert found(world.business, "súil") == {"Zoe Ó Súilleabháin"}


def test_every_word_of_the_term_must_match(world):
    add(world.business, "Anna", "Smith")
    add(world.business, "Anna", "Jones")
    add(world.business, "John", "Smithson")
    assert found(world.business, "anna smi") == {"Anna Smith"}
    assert found(world.business, "smi  ANNA") == {"Anna Smith"}
    assert found(world.business, "smi") == {"Anna Smith", "John Smithson"}


def test_email_fragments_match(world):
    add(world.business, "Grace", "Hall", email="grace.hall84@gmail.com")
    add(world.business, "Jane", "Smith", email="smith.j@outlook.com")
    assert found(world.business, "@gmail") == {"Grace Hall"}
    assert found(world.business, "smith.j") == {"Jane Smith"}
    assert found(world.business, "hall84") == {"Grace Hall"}


def test_like_wildcards_in_the_term_are_plain_characters(world):
    add(world.business, "Laura", "Black", email="laura_b@example.com")
    add(world.business, "Laura", "Brown", email="laurab@example.com")
    add(world.business, "Percy", "Cent", email="100percent@example.com")
    assert found(world.business, "laura_") == {"Laura Black"}
    assert found(world.business, "0%p") == set()


@pytest.mark.parametrize(
    "typed",
    ["07911 123456", "+44 7911 123456", "0044 7911 123456", "0791 112 3456", "123 456", "3456"],
)
def test_gb_phone_typed_in_national_or_international_format(world, typed):
    add(world.business, "Mia", "Khan", mobile_phone="+447911123456")
    add(world.business, "Leo", "Patel", mobile_phone="+447700900999")
    assert found(world.business, typed) == {"Mia Khan"}


def test_other_phone_and_foreign_numbers_are_found_too(world):
    add(world.business, "Saoirse", "Byrne", mobile_phone="+353851234567")
    add(world.business, "Ruby", "Hughes", other_phone="+447700900123")
    assert found(world.business, "+353 85 123 4567") == {"Saoirse Byrne"}
    assert found(world.business, "07700 900123") == {"Ruby Hughes"}


@pytest.mark.parametrize(
    "typed", ["(202) 555-0123", "202-555-0123", "1 202 555 0123", "+1 202 555 0123", "555-0123"]
)
def test_us_phone_typed_in_national_or_international_format(us_business, typed):
    add(us_business, "Ava", "Johnson", mobile_phone="+12025550123")
    add(us_business, "Ella", "Moore", mobile_phone="+13125550199")
    assert found(us_business, typed) == {"Ava Johnson"}


def test_a_term_without_digits_never_searches_phones(world):
    add(world.business, "Olivia", "Evans", mobile_phone="+447911123456")
    assert found(world.business, "zzz") == set()
    # One digit is not a phone number either.
    assert found(world.business, "7") == set()


def test_clients_of_another_business_never_match(world):
    add(world.business, "Freya", "Walsh", mobile_phone="+447911000111")
    add(world.other_business, "Freya", "Walsh", mobile_phone="+447911000111")
    with tenant_context(world.business):
        for term in ("freya", "walsh", "07911 000111"):
            matches = world.business.clients.search(term, "GB")
            assert [c.business_id for c in matches] == [world.business.pk]
            page = search_page(world.business.clients.all(), term, "GB")
            assert [c.business_id for c in page.rows] == [world.business.pk]


def test_archived_clients_are_left_out_by_active(world):
    add(world.business, "Isla", "Reid")
    add(world.business, "Isla", "Ross", archived_at=timezone.now())
    assert found(world.business, "isla") == {"Isla Reid"}
    with tenant_context(world.business):
        everyone = world.business.clients.search("isla", "GB")
        assert {c.full_name for c in everyone} == {"Isla Reid", "Isla Ross"}


def test_an_empty_term_leaves_the_list_as_it_is(world):
    add(world.business, "Harry", "Green")
    with tenant_context(world.business):
        clients = world.business.clients.all()
        assert list(apply_search(clients, "   ", "GB")) == list(clients)


def test_capped_count_is_exact_up_to_the_cap_and_capped_beyond(world):
    for n in range(5):
        add(world.business, "Lily", f"Ward{n}")
    add(world.business, "Oscar", "Ward")
    with tenant_context(world.business):
        clients = world.business.clients.active()
        assert capped_count(clients.search("oscar", "GB"), cap=3) == (1, False)
        assert capped_count(clients.search("ward", "GB"), cap=6) == (6, False)
        assert capped_count(clients.search("ward", "GB"), cap=5) == (5, True)
        assert capped_count(clients.search("lily", "GB"), cap=3) == (3, True)
        ordered = clients.search("ward", "GB").order_by(*NAME_ORDER)
        assert capped_count(ordered, cap=4) == (4, True)


@pytest.fixture
def crowd(world, monkeypatch):
    """A business shaped like a big one, with the fast path's thresholds scaled down to it:
    a surname cluster at the end of the alphabet with a few matches elsewhere, common and
    rare first names, phones."""
    monkeypatch.setattr(search, "PROBE_ROWS", 10)
    monkeypatch.setattr(search, "HEAD_ROWS", 30)
    monkeypatch.setattr(search, "WALK_ROWS", 60)
    monkeypatch.setattr(search, "SAMPLE_ROWS", 12)
    firsts = ["Anna", "Ben", "Cara", "Dan", "Yasmin", "Eve", "Finn", "Gus", "Hana", "Ivy"]
    rows = []
    for n in range(120):
        last = "Zimmerman" if n % 3 == 0 else f"{chr(65 + n % 20)}ale{n:03d}"
        first = firsts[n % len(firsts)]
        rows.append(
            Client(
                business=world.business,
                first_name=first,
                last_name=last,
                email=f"{first.lower()}.{last.lower()}@example.com",
                mobile_phone=f"+4479111{n:05d}",
                archived_at=timezone.now() if n % 17 == 0 else None,
            )
        )
    for row in rows:
        row.refresh_derived_fields()
    with all_tenants():
        Client.objects.bulk_create(rows)
    add(world.other_business, "Anna", "Zimmerman")
    return world.business


@pytest.mark.parametrize(
    "term",
    ["a", "ann", "zim", "zimmer", "mmer", "yas", "ale0", "ale11", "anna zim", "example",
     "07911 100", "100", "00042", "nobody"],
)  # fmt: skip
@pytest.mark.parametrize(("size", "cap"), [(5, 8), (3, 50), (50, 1000)])
def test_search_page_is_the_first_page_and_capped_count_of_the_plain_search(crowd, term, size, cap):
    with tenant_context(crowd):
        clients = crowd.clients.active()
        expected = apply_search(clients, term, "GB").order_by(*NAME_ORDER)
        page = search_page(clients, term, "GB", size=size, cap=cap)
        assert [c.pk for c in page.rows] == [c.pk for c in expected[:size]]
        assert (page.count, page.more) == capped_count(expected, cap)


def test_search_page_without_a_term_is_the_start_of_the_list(crowd):
    with tenant_context(crowd):
        clients = crowd.clients.active()
        page = search_page(clients, "", "GB", size=7, cap=10)
        assert page.rows == list(clients.order_by(*NAME_ORDER)[:7])
        assert (page.count, page.more) == (10, True)


def test_later_pages_of_a_search_follow_the_first(crowd):
    with tenant_context(crowd):
        clients = crowd.clients.active()
        first = search_page(clients, "zim", "GB", size=10, cap=100).rows
        later = list(clients.search("zim", "GB").order_by(*NAME_ORDER)[10:20])
        ordered = sorted(first + later, key=lambda c: (c.last_name, c.first_name, c.id))
        assert first + later == ordered
        assert len(later) == 10


@on_postgresql
def test_search_page_leaves_the_callers_transaction_settings_alone(crowd):
    def settings() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('enable_seqscan'), current_setting('jit'),"
                " current_setting('random_page_cost')"
            )
            return list(cursor.fetchone())

    with transaction.atomic(), tenant_context(crowd):
        before = settings()
        search_page(crowd.clients.active(), "zim", "GB", size=5, cap=8)
        assert settings() == before


@on_postgresql
def test_the_search_indexes_exist_on_postgresql(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'clients_client'"
            " AND indexname LIKE 'client_search_%%' ORDER BY indexname"
        )
        assert [row[0] for row in cursor.fetchall()] == ["client_search_name", "client_search_trgm"]
