"""Client search on a million clients: p50/p95 of the list page (first 50 rows + capped count).

    createdb -h 127.0.0.1 -U postgres glamiti_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/glamiti_bench \\
        .venv/bin/python bench/clients_search.py [--rebuild] [--clients N]

Builds (or reuses) one business with N clients (1,000,000 by default) and 99 with 10,000
each, interleaved as they would have arrived over the years, with the search columns
computed by clients/normalize.py. Then, in the big business, times 50 searches of each kind
(name fragments, e-mail fragments, the last 4 and the last 7 digits of a phone as typed)
through `search_page` (first 50 rows + capped count), with our indexes and again with them
dropped (in a transaction that is rolled back), and for comparison `qs[:50]` +
`capped_count(qs)` with the indexes. Every run must find the same rows and counts.
The last line printed is one JSON object with the p95 figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamiti.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")

import django  # noqa: E402

django.setup()

import phonenumbers  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from clients.models import Client  # noqa: E402
from clients.normalize import fold, phone_search_digits, search_text_for  # noqa: E402
from clients.search import NAME_ORDER, capped_count, search_page  # noqa: E402
from glamiti.models import Business  # noqa: E402
from glamiti.tenancy import tenant_context  # noqa: E402

BIG_SLUG = "bench-chain"
SMALL_PREFIX = "bench-salon-"
SMALL_BUSINESSES = 99
SMALL_CLIENTS = 10_000
SEARCHES_PER_KIND = 50
PAGE = 50
SEED = 20261204
SEARCH_INDEXES = ["client_search_trgm", "client_search_name"]  # migration clients/0002

# Common names first: weights fall off with rank, as real name frequencies do.
FIRST_NAMES = [
    "Olivia", "Amelia", "Emily", "Sophie", "Jessica", "Grace", "Anna", "Hannah", "Sarah",
    "Laura", "Emma", "Chloe", "Lucy", "Rebecca", "Charlotte", "Isla", "Ava", "Mia", "Ella",
    "Lily", "Freya", "Ruby", "Poppy", "Evie", "Daisy", "Alice", "Isabella", "Rachel",
    "Niamh", "Aoife", "Siobhán", "Saoirse", "Róisín", "Caoimhe", "Sinéad", "Áine", "Orla",
    "Zoë", "Chloé", "Renée", "Noémie", "Léa", "Inès", "Hélène", "Agnès", "Maëlle", "Céline",
    "María", "Lucía", "Sofía", "Ángela", "Begoña", "Nerea", "Carmen", "Pilar", "Beatriz",
    "Małgorzata", "Zofia", "Agnieszka", "Katarzyna", "Kateřina", "Ioana", "Anastasia",
    "Priya", "Ananya", "Aisha", "Fatima", "Zainab", "Yasmin", "Layla", "Mei", "Yuki",
    "Elif", "Çağla", "Şebnem", "Åsa", "Märta", "Ingrid", "Astrid", "Björk", "Leonie",
    "Jack", "Oliver", "George", "Harry", "Noah", "Leo", "Arthur", "Oscar", "Charlie",
    "Thomas", "James", "William", "Henry", "Daniel", "Samuel", "Benjamin", "Joshua",
    "Muhammad", "Mohammed", "Yusuf", "Aarav", "José", "Martín", "Andrés", "Íñigo", "Raúl",
    "Jesús", "Seán", "Pádraig", "Eoin", "Ciarán", "Darragh", "Cian", "Jürgen", "Jörg",
    "Björn", "Søren", "Lukas", "Jonas", "Łukasz", "Wojciech", "Krzysztof", "Tomasz",
    "Dmitri", "Gökhan", "François", "Jérôme", "Théo", "Mateo", "Kai", "Finn", "Omar",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Wood", "Jackson", "Clarke", "Patel", "Khan", "Lewis", "Hughes", "Edwards", "Mitchell",
    "Murphy", "Kelly", "Byrne", "Ryan", "Walsh", "O'Brien", "O'Connor", "O'Sullivan",
    "Ó Súilleabháin", "Ó Briain", "Ní Bhriain", "Mac Giolla Phádraig", "Ó Ceallaigh",
    "Rodríguez", "García", "Martínez", "Fernández", "López", "González", "Sánchez", "Pérez",
    "Gómez", "Núñez", "Muñoz", "Ibáñez", "Peña", "Müller", "Schmidt", "Schneider",
    "Fischer", "Weiß", "Schäfer", "Köhler", "Groß", "Böhm", "Krüger", "Jäger", "Dubois",
    "Lefèvre", "Girard", "Béranger", "Bénard", "Faure", "Chevalier", "Mercier", "François",
    "Nguyễn", "Trần", "Lê", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski",
    "Zieliński", "Szymański", "Dąbrowski", "Nowak", "Andersson", "Johansson", "Nørgaard",
    "Søndergaard", "Åberg", "Öberg", "Lindqvist", "Ferreira", "Gonçalves", "Conceição",
    "Esposito", "Romano", "Ricci", "De Luca", "Novák", "Dvořák", "Svoboda", "Yılmaz",
    "Kaya", "Demir", "Çelik", "Öztürk", "Papadopoulos", "Ivanova", "Singh", "Kaur",
    "Sharma", "Ahmed", "Ali", "Hussain", "Okafor", "Adeyemi", "Mensah", "Chen", "Wang",
    "Zhang", "Tanaka", "Kim", "Park",
]  # fmt: skip
# The long tail: made-up surnames, each rare, with as many different beginnings as real ones.
TAIL_ONSETS = [
    "B", "Br", "Bl", "C", "Ch", "Cr", "D", "Dr", "F", "Fr", "G", "Gr", "H", "K", "Kr", "L",
    "M", "N", "P", "Pr", "R", "S", "Sh", "St", "T", "Tr", "V", "W", "Wh", "Z",
]  # fmt: skip
TAIL_VOWELS = ["a", "e", "i", "o", "u", "ay", "ee", "oo", "ai", "ow", "ä", "é", "ø"]
TAIL_MIDDLES = ["", "l", "n", "r", "s", "nd", "rn", "ck", "tt", "lm", "rg", "sk", "w"]
TAIL_ENDS = [
    "ford", "ley", "ton", "wood", "field", "well", "worth", "by", "ham", "stead", "more",
    "bridge", "combe", "dale", "hurst", "wick", "bury", "cott", "czyk", "ewicz", "mann",
    "sson", "gaard", "ström", "holm", "eau", "ini", "elli", "ez", "ovic", "escu", "oglu",
    "idis", "ian", "berg", "stein", "ard", "in", "et", "ic",
]  # fmt: skip
MAIL_DOMAINS = [
    "gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "icloud.com", "live.ie",
    "gmx.de", "orange.fr", "btinternet.com", "sky.com", "protonmail.com", "eircom.net",
]  # fmt: skip
COUNTRIES = ["GB", "IE", "US", "DE", "FR", "ES"]
MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def zipf_weights(n: int, s: float = 0.4) -> list[float]:
    return [1 / (rank**s) for rank in range(1, n + 1)]


class PhoneMaker:
    """Random mobile numbers that libphonenumber accepts as valid for their country."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.prefixes: dict[str, tuple[int, list[str], int]] = {}
        for country in COUNTRIES:
            example = phonenumbers.example_number_for_type(
                country, phonenumbers.PhoneNumberType.MOBILE
            )
            national = str(example.national_number)
            # Keep 3-digit prefixes for which random completions are all valid.
            good = []
            for tail in range(1000):
                prefix = national[0] + f"{tail:03d}"
                if all(
                    self._valid(
                        country, example.country_code, prefix + self._digits(len(national) - 4)
                    )
                    for _ in range(6)
                ):
                    good.append(prefix)
            self.prefixes[country] = (example.country_code, good, len(national) - 4)
            for _ in range(200):
                number = phonenumbers.parse(self.e164(country))
                assert phonenumbers.is_valid_number_for_region(number, country), number

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    @staticmethod
    def _valid(country: str, code: int, national: str) -> bool:
        number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
        return phonenumbers.is_valid_number_for_region(number, country) and (
            phonenumbers.number_type(number) in MOBILE_TYPES
        )

    def e164(self, country: str) -> str:
        code, prefixes, rest = self.prefixes[country]
        tail = f"{self.rng.randrange(10**rest):0{rest}d}"
        return f"+{code}{self.rng.choice(prefixes)}{tail}"


@dataclass
class Person:
    first_name: str
    last_name: str
    email: str
    mobile: str
    other: str


class People:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.phones = PhoneMaker(self.rng)
        self.first_weights = zipf_weights(len(FIRST_NAMES))
        self.last_weights = zipf_weights(len(LAST_NAMES))
        self.tail = [
            onset + vowel + middle + end
            for onset in TAIL_ONSETS
            for vowel in TAIL_VOWELS
            for middle in TAIL_MIDDLES
            for end in TAIL_ENDS
        ]
        self.ascii_cache: dict[str, str] = {}

    def _ascii(self, name: str) -> str:
        cached = self.ascii_cache.get(name)
        if cached is None:
            cached = "".join(ch for ch in fold(name) if ch.isalnum() and ch.isascii())
            self.ascii_cache[name] = cached
        return cached

    def make(self, country: str) -> Person:
        rng = self.rng
        first = rng.choices(FIRST_NAMES, self.first_weights)[0]
        if rng.random() < 0.5:
            last = rng.choice(self.tail)
        else:
            last = rng.choices(LAST_NAMES, self.last_weights)[0]
        email = ""
        if rng.random() < 0.88:
            f, la = self._ascii(first), self._ascii(last)
            local = rng.choice(
                (
                    f"{f}.{la}",
                    f"{f}{la}",
                    f"{f[0]}{la}",
                    f"{la}.{f}",
                    f"{f}_{la[:1]}",
                    f"{f}{la[:3]}",
                )
            )
            if rng.random() < 0.6:
                local += str(rng.randrange(1, 2000))
            email = f"{local}@{rng.choice(MAIL_DOMAINS)}"
        abroad = rng.random() < 0.08
        mobile = self.phones.e164(rng.choice(COUNTRIES) if abroad else country)
        other = self.phones.e164(country) if rng.random() < 0.2 else ""
        return Person(first, last, email, mobile, other)


def copy_text(value: object) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    text = str(value)
    if any(ch in text for ch in "\\\t\n\r"):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        text = text.replace("\r", "\\r")
    return text


def elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:.0f} s"


def business_plan(big: int, rng: random.Random) -> list[int]:
    """Business index per row (0 = the chain), shuffled: rows arrive interleaved over time."""
    plan = [0] * big
    for index in range(1, SMALL_BUSINESSES + 1):
        plan.extend([index] * SMALL_CLIENTS)
    rng.shuffle(plan)
    return plan


def ensure_businesses() -> list[Business]:
    businesses = [
        Business.objects.get_or_create(
            slug=BIG_SLUG,
            defaults={"name": "Bench Chain", "country": "GB", "currency": "GBP"},
        )[0]
    ]
    for index in range(SMALL_BUSINESSES):
        country = COUNTRIES[index % len(COUNTRIES)]
        businesses.append(
            Business.objects.get_or_create(
                slug=f"{SMALL_PREFIX}{index:02d}",
                defaults={"name": f"Bench Salon {index:02d}", "country": country},
            )[0]
        )
    return businesses


def client_counts(businesses: list[Business]) -> dict[int, int]:
    with scopes_disabled():
        rows = (
            Client.objects.filter(business__in=businesses)
            .values("business")
            .annotate(n=Count("*"))
            .order_by()
        )
        return {row["business"]: row["n"] for row in rows}


def load_clients(businesses: list[Business], big: int) -> None:
    """Replace the bench businesses' clients: COPY with the table's indexes dropped, then
    recreate them (much faster than maintaining a dozen indexes row by row)."""
    table = Client._meta.db_table
    rng = random.Random(SEED)
    people = People(SEED)
    plan = business_plan(big, rng)
    now = datetime.datetime.now(tz=datetime.UTC)

    varying = [
        "business_id", "first_name", "last_name", "email", "mobile_phone", "other_phone",
        "country", "search_text", "phone_digits", "created_at", "updated_at", "archived_at",
        "birth_day", "birth_month",
    ]  # fmt: skip
    constant = {}
    for field in Client._meta.concrete_fields:
        if field.primary_key or field.column in varying or field.null:
            continue
        default = field.get_default()
        if default is None:
            raise SystemExit(f"Don't know what to put in the NOT NULL column {field.column}.")
        constant[field.column] = default
    columns = varying + list(constant)
    suffix = "".join("\t" + copy_text(value) for value in constant.values())

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [table],
        )
        indexes = cursor.fetchall()
    ids = [business.pk for business in businesses]
    with transaction.atomic(), connection.cursor() as cursor:
        # The table name is our model's, not input.
        others = f"SELECT EXISTS (SELECT 1 FROM {table} WHERE NOT business_id = ANY(%s))"  # noqa: S608
        cursor.execute(others, [ids])
        if cursor.fetchone()[0]:
            cursor.execute(f"DELETE FROM {table} WHERE business_id = ANY(%s)", [ids])  # noqa: S608
        else:
            cursor.execute(f"TRUNCATE {table} CASCADE")
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # Django's foreign keys are deferred; pending checks would block CREATE INDEX.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        started = time.perf_counter()
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cursor.connection.cursor().copy(sql) as copy:
            lines: list[str] = []
            for index in plan:
                business = businesses[index]
                person = people.make(business.country)
                created = now - datetime.timedelta(seconds=rng.randrange(8 * 365 * 86400))
                birthday = rng.random() < 0.5
                row = (
                    business.pk,
                    person.first_name,
                    person.last_name,
                    person.email,
                    person.mobile,
                    person.other,
                    business.country,
                    search_text_for(person.first_name, person.last_name, person.email),
                    phone_search_digits(person.mobile, person.other),
                    created,
                    created,
                    created + datetime.timedelta(days=30) if rng.random() < 0.03 else None,
                    rng.randrange(1, 29) if birthday else None,
                    rng.randrange(1, 13) if birthday else None,
                )
                lines.append("\t".join(copy_text(value) for value in row) + suffix + "\n")
                if len(lines) >= 20_000:
                    copy.write("".join(lines))
                    lines.clear()
            copy.write("".join(lines))
        print(f"  copied {len(plan):,} clients in {elapsed(started)}", flush=True)
        started = time.perf_counter()
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        print(f"  rebuilt {len(indexes)} indexes in {elapsed(started)}", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # ANALYZE for the planner; VACUUM sets the visibility map (index-only scans).
        cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"  vacuum + analyze in {elapsed(started)}", flush=True)


def national_digits(e164: str) -> str:
    return str(phonenumbers.parse(e164, None).national_number)


def search_terms(business: Business, seed: int = SEED) -> dict[str, list[str]]:
    """What staff type, taken from real clients of `business`: name and e-mail fragments,
    and the last 4 or 7 digits of a phone typed as people say them."""
    rng = random.Random(seed)
    with tenant_context(business):
        ids = list(business.clients.active().values_list("id", flat=True).order_by("id"))
        sample = rng.sample(ids, SEARCHES_PER_KIND * 4)
        clients = {c.pk: c for c in business.clients.filter(pk__in=sample)}
    picks = [clients[pk] for pk in sample]
    terms: dict[str, list[str]] = {"name": [], "email": [], "phone last 4": [], "phone last 7": []}
    for client in picks[:SEARCHES_PER_KIND]:
        first = rng.choice(fold(client.first_name).split())
        last = max(fold(client.last_name).split(), key=len)
        roll = rng.random()
        if roll < 0.2:
            # "anna smi": the start of both names.
            terms["name"].append(f"{first[: rng.randint(2, 5)]} {last[: rng.randint(3, 5)]}")
            continue
        word = first if roll < 0.6 else last
        if rng.random() < 0.75 or len(word) < 5:
            terms["name"].append(word[: rng.randint(3, 6)])
        else:
            start = rng.randrange(1, len(word) - 2)
            terms["name"].append(word[start : start + rng.randint(3, 5)])
    for client in [c for c in picks if c.email][SEARCHES_PER_KIND : 2 * SEARCHES_PER_KIND]:
        local, domain = client.email.split("@")
        if rng.random() < 0.25:
            terms["email"].append("@" + domain.split(".")[0])
        else:
            terms["email"].append(local[: rng.randint(5, 9)])
    for client in picks[2 * SEARCHES_PER_KIND : 3 * SEARCHES_PER_KIND]:
        terms["phone last 4"].append(national_digits(client.mobile_phone)[-4:])
    for client in picks[3 * SEARCHES_PER_KIND :]:
        digits = national_digits(client.mobile_phone)[-7:]
        terms["phone last 7"].append(f"{digits[:3]} {digits[3:]}")
    return terms


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


Outcome = tuple[list[int], int, bool]


def run_searches(
    business: Business, terms: dict[str, list[str]], search: Callable[[str], Outcome]
) -> tuple[dict[str, list[float]], dict[str, Outcome]]:
    """Milliseconds per search, by kind, and what each search found."""
    timings: dict[str, list[float]] = {}
    found: dict[str, Outcome] = {}
    with tenant_context(business):
        for kind, kind_terms in terms.items():
            timings[kind] = []
            for term in kind_terms:
                started = time.perf_counter()
                found[term] = search(term)
                timings[kind].append((time.perf_counter() - started) * 1000)
    return timings, found


def fast_path(business: Business) -> Callable[[str], Outcome]:
    """What the list page should do: search_page (first 50 rows + capped count)."""

    def search(term: str) -> Outcome:
        page = search_page(business.clients.active(), term, business.country)
        return [client.pk for client in page.rows], page.count, page.more

    return search


def plain_path(business: Business) -> Callable[[str], Outcome]:
    """apply_search + capped_count the straightforward way: qs[:50] and the count."""

    def search(term: str) -> Outcome:
        clients = business.clients.active().search(term, business.country)
        clients = clients.order_by(*NAME_ORDER)
        rows = list(clients[:PAGE])
        count, more = capped_count(clients)
        return [client.pk for client in rows], count, more

    return search


def summary(timings: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    rows = {kind: (percentile(ms, 0.5), percentile(ms, 0.95)) for kind, ms in timings.items()}
    every = [value for ms in timings.values() for value in ms]
    rows["overall"] = (percentile(every, 0.5), percentile(every, 0.95))
    return rows


def print_table(title: str, columns: dict[str, dict[str, tuple[float, float]]]) -> None:
    print(f"\n{title}")
    header = "".join(f"{name:>26}" for name in columns)
    print(f"{'':16}{header}")
    print(f"{'':16}" + "".join(f"{'p50':>13}{'p95':>13}" for _ in columns))
    for kind in next(iter(columns.values())):
        cells = "".join(f"{c[kind][0]:11.1f}ms{c[kind][1]:11.1f}ms" for c in columns.values())
        print(f"{kind:16}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data even if present")
    parser.add_argument(
        "--clients", type=int, default=1_000_000, help="clients in the big business"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Point DATABASE_URL at a PostgreSQL database of its own.")
    call_command("migrate", verbosity=0)
    businesses = ensure_businesses()
    counts = client_counts(businesses)
    wanted = {b.pk: (args.clients if b.slug == BIG_SLUG else SMALL_CLIENTS) for b in businesses}
    if args.rebuild or counts != wanted:
        print(
            f"Loading {args.clients:,} + {SMALL_BUSINESSES} × {SMALL_CLIENTS:,} clients…",
            flush=True,
        )
        load_clients(businesses, args.clients)
    big = businesses[0]
    with tenant_context(big):
        clients = big.clients.count()
    terms = search_terms(big)
    warm_up = search_terms(big, seed=SEED + 1)
    print(f"{clients:,} clients in {big.name}; {SEARCHES_PER_KIND} searches of each kind.")

    run_searches(big, warm_up, fast_path(big))
    indexed, found = run_searches(big, terms, fast_path(big))
    plain, plain_found = run_searches(big, terms, plain_path(big))
    with transaction.atomic():
        with connection.cursor() as cursor:
            for index in SEARCH_INDEXES:
                cursor.execute(f'DROP INDEX "{index}"')
        run_searches(big, warm_up, fast_path(big))
        unindexed, unindexed_found = run_searches(big, terms, fast_path(big))
        transaction.set_rollback(True)  # the indexes come back

    differ = [t for t in found if not (found[t] == plain_found[t] == unindexed_found[t])]
    if differ:
        raise SystemExit(f"Search results differ between paths for: {differ}")
    with_indexes, without = summary(indexed), summary(unindexed)
    print_table(
        "search_page (first 50 rows + capped count), ms",
        {"with our indexes": with_indexes, "indexes dropped": without},
    )
    print(f"\n{'ratio (dropped ÷ with)':28}{'p50':>13}{'p95':>13}")
    for kind, (p50, p95) in with_indexes.items():
        print(f"{kind:28}{without[kind][0] / p50:12.1f}×{without[kind][1] / p95:12.1f}×")
    print_table(
        "for comparison, with our indexes: qs[:50] + capped_count(qs), ms",
        {"plain queryset": summary(plain), "search_page": with_indexes},
    )
    print(
        "\nAll three runs returned the same rows, counts and '1,000+' flags"
        f" for all {len(found)} distinct terms."
    )
    print(
        json.dumps(
            {
                "search_p95_ms_indexed": round(with_indexes["overall"][1], 1),
                "search_p95_ms_unindexed": round(without["overall"][1], 1),
                "clients": clients,
            }
        )
    )


if __name__ == "__main__":
    main()
