"""Two businesses under concurrent load through gunicorn: throughput, latency, tenant isolation.

    createdb -h 127.0.0.1 -U postgres glamiti_load
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/glamiti_load \\
        .venv/bin/python bench/load.py [--requests 3000] [--users 4] [--workers 3] [--port 8321]
        [--single-role]

Prepares the database (`migrate`, then `seed_demo` for the two demo salons with some history,
both through manage.py), adds to each salon a few marker clients whose surname belongs to that
salon alone and `--users` logins that are members of that salon only, collects the static
files into a temporary folder, and serves the app with gunicorn as in production (DEBUG off,
manifest static files, ALLOWED_HOSTS=127.0.0.1; only the secure-cookie settings are off, since
this is plain HTTP on loopback). With DATABASE_URL alone (a superuser or the tables' owner)
gunicorn connects as an application role that `manage.py db_roles` sets up for this database
(no superuser, no BYPASSRLS: row-level security applies, as in production); `--single-role`
serves as DATABASE_URL's role instead, and roles already configured through
DATABASE_OWNER_URL / DATABASE_ADMIN_URL are used as they are. Every login signs in through
the login form, then all of them at once browse their own salon: client list and searches,
client profiles and their htmx tabs, the calendar, sales and vouchers, and now and then try
the other salon's URLs and client ids.

Every response is checked: a page of one salon must never show the other salon's name, URLs
or any client or team member name that only the other salon has; full pages must show their
own salon's name, a profile its client's name, a search for the salon's marker surname its
marker clients; the other salon's URLs and clients must answer 404. Anything else counts as a
wrong-tenant response. Gunicorn is stopped at the end, whatever happens. The last line printed
is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import datetime
import html
import http.client
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamiti.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")

import django  # noqa: E402

django.setup()

from django.db import connection, connections  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from clients.models import Client  # noqa: E402
from glamiti.models import Business, Membership, Role, User  # noqa: E402
from glamiti.tenancy import tenant_context  # noqa: E402

SEED = 20261208
PASSWORD = "load-bench-" + "not-a-secret"  # noqa: S105 - local bench logins only
ROLES = [Role.OWNER, Role.MANAGER, Role.STAFF]
TABS = ["history", "appointments", "sales", "notes", "feedback", "tips", "cards", "vouchers"]
MARKER_FIRST = [
    "Imogen", "Tabitha", "Ottilie", "Perpetua", "Clementine", "Wilhelmina", "Araminta",
    "Cordelia", "Hermione", "Rosamund", "Ptolemy", "Barnaby", "Ambrose", "Lysander",
    "Peregrine", "Tarquin", "Evander", "Leopold", "Ignatius", "Cuthbert",
]  # fmt: skip


@dataclass(frozen=True)
class Salon:
    slug: str  # a business made by seed_demo
    marker: str  # a surname only this salon's marker clients have


SALONS = [Salon("bella", "Wrenfield"), Salon("northside", "Kilbarrack")]

# (kind, weight): what a front desk does most — find a client, open them, look at tabs.
MIX = [
    ("client list", 10),
    ("search", 16),
    ("search: own marker", 4),
    ("search: other marker", 2),
    ("profile", 14),
    ("profile tab", 28),
    ("calendar", 10),
    ("sales list", 7),
    ("vouchers list", 5),
    ("dashboard", 2),
    ("probe: other salon URL", 1),
    ("probe: other client id", 1),
    ("probe: other client tab", 1),
]
SEARCH_TERMS = ["smith", "Murphy", "ol", "Em", "kelly", "an", "O'B", "garcía", "07911", "0851"]
FULL_PAGES = {"client list", "profile", "calendar", "sales list", "vouchers list"}


# --- Data --------------------------------------------------------------------------------


@dataclass
class Tenant:
    """What the load needs to know about one salon, read before the server starts."""

    slug: str
    name: str
    marker: str
    business_id: int
    clients: list[tuple[int, str]]  # (pk, full name) of every client
    markers: list[str]  # full names of the marker clients
    names: set[str]  # every client, team member and member name of this salon
    usernames: list[str] = field(default_factory=list)
    forbidden: Forbidden | None = None  # what a page of this salon must never show


def manage(*args: str, env: dict | None = None) -> None:
    """Run manage.py in a subprocess (as an operator would), failing loudly."""
    result = subprocess.run(  # noqa: S603 - our own manage.py with our own arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")


def prepare(history_days: int, users: int) -> list[Tenant]:
    started = time.perf_counter()
    manage("migrate", "--noinput")
    if history_days:
        manage("seed_demo", "--history-days", str(history_days))
    else:
        manage("seed_demo", "--no-history")
    print(f"  migrate + seed_demo in {time.perf_counter() - started:.0f} s", flush=True)
    tenants = [prepare_salon(salon, users) for salon in SALONS]
    for tenant, other in [(tenants[0], tenants[1]), (tenants[1], tenants[0])]:
        tenant.forbidden = forbidden_pattern(other, allowed=tenant.names)
    connections.close_all()
    return tenants


def prepare_salon(salon: Salon, users: int) -> Tenant:
    """Marker clients and member-of-this-salon-only logins (both kept for the next run)."""
    with scopes_disabled():
        business = Business.objects.filter(slug=salon.slug).first()
    if business is None:
        raise SystemExit(f"seed_demo made no business {salon.slug!r}.")
    usernames = []
    for n in range(users):
        username = f"load-{salon.slug}-{n + 1}"
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": "Load",
                "last_name": f"Tester {n + 1}",
                "email": f"{username}@bench.glamiti.test",
            },
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        with tenant_context(business):
            Membership.objects.get_or_create(
                user=user, business=business, defaults={"role": ROLES[n % len(ROLES)]}
            )
        if Membership.objects.filter(user=user).exclude(business=business).exists():
            raise SystemExit(f"{username} must belong to {salon.slug} only.")
        usernames.append(username)
    with tenant_context(business):
        have = set(
            business.clients.filter(external_id__startswith="load-marker-").values_list(
                "external_id", flat=True
            )
        )
        new = []
        for n, first in enumerate(MARKER_FIRST):
            if f"load-marker-{n}" in have:
                continue
            client = Client(
                business=business,
                external_id=f"load-marker-{n}",
                first_name=first,
                last_name=salon.marker,
                email=f"{first.lower()}.{salon.marker.lower()}@example.com",
            )
            client.refresh_derived_fields()
            new.append(client)
        Client.objects.bulk_create(new)
        clients = [
            (pk, f"{first} {last}".strip())
            for pk, first, last in business.clients.values_list("pk", "first_name", "last_name")
        ]
        team = set(business.teammembers.values_list("name", flat=True))
    with scopes_disabled():
        members = {
            f"{m.user.first_name} {m.user.last_name}".strip()
            for m in Membership.objects.filter(business=business).select_related("user")
        }
    markers = [name for pk, name in clients if name.endswith(f" {salon.marker}")]
    return Tenant(
        slug=business.slug,
        name=business.name,
        marker=salon.marker,
        business_id=business.pk,
        clients=clients,
        markers=markers,
        names={name for _, name in clients} | team | members,
        usernames=usernames,
    )


def forbidden_pattern(other: Tenant, *, allowed: set[str]) -> Forbidden:
    """The other salon's name, URLs and the people only it has, as they would be rendered."""
    people = {name for name in other.names if name and name not in allowed}
    texts = {other.name, f"/{other.slug}", *people}  # the slug as the start of a URL path
    return Forbidden({form for text in texts for form in (text, html.escape(text))})


class Forbidden:
    """Finds any of many strings as whole words, fast enough to check every response.

    One regex alternative per name costs 5-20 ms a page; the same strings as a trie (shared
    prefixes merged) without the word-boundary lookbehind cost well under 1 ms and rule out
    almost every page, and only the rest is searched with the exact, bounded pattern.
    """

    def __init__(self, texts: set[str]) -> None:
        alternatives = self._trie(sorted(texts))
        self.candidates = re.compile(alternatives)
        self.exact = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def search(self, body: str) -> re.Match | None:
        candidate = self.candidates.search(body)
        return candidate and self.exact.search(body, candidate.start())

    @classmethod
    def _trie(cls, words: list[str]) -> str:
        root: dict = {}
        for word in words:
            node = root
            for char in word:
                node = node.setdefault(char, {})
            node[""] = {}
        return cls._emit(root)

    @classmethod
    def _emit(cls, node: dict) -> str:
        branches = [re.escape(char) + cls._emit(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body


# --- Database roles ----------------------------------------------------------------------


def server_database(single_role: bool, tenants: list[Tenant]) -> tuple[dict[str, str], str]:
    """The database settings gunicorn runs with, and a line saying which role serves.

    With DATABASE_OWNER_URL already set, the roles are the operator's: used as they are.
    With DATABASE_URL alone (a superuser or the tables' owner) and a `db_roles` command, the
    server connects as an application role made for this database (no superuser, no
    BYPASSRLS) as in production, so row-level security is part of what is measured;
    `--single-role` serves with DATABASE_URL itself instead.
    """
    if os.environ.get("DATABASE_OWNER_URL"):
        return {}, "the configured application role (DATABASE_URL; owner and admin set)"
    has_command = (ROOT / "glamiti" / "management" / "commands" / "db_roles.py").exists()
    if single_role or not has_command:
        return {}, "DATABASE_URL's own role (one role for everything)"
    owner_url = os.environ["DATABASE_URL"]
    parts = urllib.parse.urlsplit(owner_url)
    database = parts.path.lstrip("/")
    base = re.sub(r"\W", "_", database)[:40]
    host = parts.hostname or "127.0.0.1"
    netloc_host = f"{host}:{parts.port}" if parts.port else host

    def role_url(role: str, password: str) -> str:
        netloc = f"{role}:{urllib.parse.quote(password, safe='')}@{netloc_host}"
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))

    app_role, platform_role = f"{base}_app", f"{base}_platform"
    env = {
        "DATABASE_OWNER_URL": owner_url,
        "DATABASE_URL": role_url(app_role, secrets.token_urlsafe(24)),
        "DATABASE_ADMIN_URL": role_url(platform_role, secrets.token_urlsafe(24)),
    }
    manage("db_roles", env={**os.environ, **env})
    return env, f"{app_role} ({rls_proof(env['DATABASE_URL'], tenants)})"


def rls_proof(app_url: str, tenants: list[Tenant]) -> str:
    """What the application role sees of the clients table, with and without a tenant."""
    import psycopg

    with psycopg.connect(app_url) as db:
        superuser, bypass = db.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        if superuser or bypass:
            raise SystemExit("The application role must be neither superuser nor BYPASSRLS.")
        unscoped = db.execute("SELECT count(*) FROM clients_client").fetchone()[0]
        seen = []
        for tenant in tenants:
            with db.transaction():
                db.execute(
                    "SELECT set_config('app.business_id', %s, true)", [str(tenant.business_id)]
                )
                count = db.execute("SELECT count(*) FROM clients_client").fetchone()[0]
                seen.append(f"{count} as {tenant.slug}")
    if unscoped:
        raise SystemExit(f"The application role sees {unscoped} clients outside any tenant.")
    return f"row-level security: sees 0 clients without a tenant, {', '.join(seen)}"


# --- Server ------------------------------------------------------------------------------


class Server:
    """gunicorn serving glamiti.wsgi on loopback with production settings."""

    def __init__(
        self, port: int, workers: int, threads: int, static_root: Path, database: dict[str, str]
    ) -> None:
        self.port = port
        self.log = static_root.parent / "gunicorn.log"
        self.env = {k: v for k, v in os.environ.items() if k != "DEBUG"} | database
        if self.env.get("SECRET_KEY", "") in ("", "bench-only-not-a-secret"):
            self.env["SECRET_KEY"] = secrets.token_urlsafe(50)
        self.env.update(
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            STATIC_ROOT=str(static_root),
            LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        )
        self.command = [
            sys.executable, "-m", "gunicorn", "glamiti.wsgi",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--worker-class", "gthread" if threads > 1 else "sync",
            "--threads", str(threads),
            "--timeout", "60",
            "--graceful-timeout", "15",
            "--keep-alive", "5",
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with socket.socket() as probe:  # not some other server answering /healthz instead
            try:
                probe.bind(("127.0.0.1", self.port))
            except OSError as error:
                raise SystemExit(f"Port {self.port} is taken ({error}); pick another.") from None
        manage("collectstatic", "--noinput", "-v0", env=self.env)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - gunicorn from our own venv
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches us; we stop it in order
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited at start:\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /healthz in 60 s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: finish the requests in flight
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- Load --------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    status: int
    ms: float
    problems: list[str]


class Browser:
    """One logged-in person: a keep-alive connection and a cookie jar."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, *, body: str | None = None, headers: dict | None = None
    ) -> tuple[int, dict, str]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                # The server closed an idle keep-alive connection: open another, once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for key, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        return response.status, dict(response.headers), data.decode("utf-8", "replace")

    def login(self, username: str, next_url: str) -> None:
        status, _, page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise SystemExit(f"login page answered {status} without a CSRF token")
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": PASSWORD,
                "next": next_url,
            }
        )
        status, headers, _ = self.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"http://127.0.0.1:{self.port}",
                "Referer": f"http://127.0.0.1:{self.port}/accounts/login/",
            },
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"{username} could not log in (status {status})")


class Budget:
    """Request tickets shared by every thread, and a deadline."""

    def __init__(self, total: int, seconds: float) -> None:
        self.left = total
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() > self.deadline:
                return False
            self.left -= 1
            return True

    def stop(self) -> None:
        with self.lock:
            self.left = 0


def plan(rng: random.Random, tenant: Tenant, other: Tenant) -> tuple[str, str, dict, dict]:
    """The next request: (kind, path, headers, what to expect)."""
    kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
    base = f"/{tenant.slug}"
    hx = {"HX-Request": "true"}
    expect: dict = {"status": 200}
    if kind == "client list":
        page = rng.choice([1, 1, 1, 2, 3, 5])
        sort = rng.choice(["", "", "&sort=-last_visit", "&sort=-spend", "&sort=-created"])
        return kind, f"{base}/clients/?page={page}{sort}", {}, expect
    if kind == "search":
        term = urllib.parse.quote(rng.choice(SEARCH_TERMS))
        return kind, f"{base}/clients/?q={term}", hx, expect
    if kind == "search: own marker":
        expect["any_of"] = tenant.markers
        return kind, f"{base}/clients/?q={tenant.marker}", hx, expect
    if kind == "search: other marker":
        return kind, f"{base}/clients/?q={other.marker}", hx, expect
    if kind == "profile":
        pk, name = rng.choice(tenant.clients)
        expect["all_of"] = [name]
        return kind, f"{base}/clients/{pk}/", {}, expect
    if kind == "profile tab":
        pk, _ = rng.choice(tenant.clients)
        tab = rng.choice(TABS)
        return f"tab: {tab}", f"{base}/clients/{pk}/{tab}/", hx, expect
    if kind == "calendar":
        day = datetime.date.today() + datetime.timedelta(days=rng.randint(-120, 21))  # noqa: DTZ011
        return kind, f"{base}/calendar/?date={day.isoformat()}", {}, expect
    if kind == "sales list":
        period = rng.choice(["", "period=this_month&", "period=last_month&", "period=today&"])
        return kind, f"{base}/sales/?{period}page={rng.choice([1, 1, 2, 3])}", {}, expect
    if kind == "vouchers list":
        status = rng.choice(["", "", "status=active&", "status=redeemed&"])
        return kind, f"{base}/vouchers/?{status}page=1", {}, expect
    if kind == "dashboard":  # it sends the salon's people to their client list
        return kind, f"{base}/", {}, {"status": 302, "location": f"{base}/clients/"}
    expect = {"status": 404}
    pk, _ = rng.choice(other.clients)
    if kind == "probe: other salon URL":
        return kind, f"/{other.slug}/clients/{rng.choice(['', f'{pk}/'])}", {}, expect
    if kind == "probe: other client id":
        return kind, f"{base}/clients/{pk}/", {}, expect
    return kind, f"{base}/clients/{pk}/{rng.choice(TABS)}/", hx, expect


def check(
    tenant: Tenant, kind: str, status: int, headers: dict, body: str, expect: dict
) -> list[str]:
    """Why this response is not plainly this salon's (empty when it is)."""
    problems = []
    leak = tenant.forbidden.search(body) or tenant.forbidden.search(headers.get("Location", ""))
    if leak:
        problems.append(f"shows the other salon's {leak.group(0)!r}")
    location = urllib.parse.urlsplit(headers.get("Location", "")).path
    if status == expect["status"] and expect.get("location", location) != location:
        problems.append(f"redirects to {location!r}")
    if status != expect["status"]:
        if kind.startswith("probe") and 200 <= status < 300:
            problems.append(f"the other salon's page answered {status}")
        return problems
    if status != 200:
        return problems
    if kind in FULL_PAGES and html.escape(tenant.name) not in body:
        problems.append("does not show its salon's name")
    for name in expect.get("all_of", []):
        if html.escape(name) not in body:
            problems.append(f"does not show {name!r}")
    if "any_of" in expect and not any(html.escape(n) in body for n in expect["any_of"]):
        problems.append("finds none of the salon's marker clients")
    return problems


def person(
    number: int, tenant: Tenant, other: Tenant, browser: Browser, budget: Budget
) -> list[Result]:
    rng = random.Random(SEED + number)
    results = []
    while budget.take():
        kind, path, headers, expect = plan(rng, tenant, other)
        started = time.perf_counter()
        try:
            status, response_headers, body = browser.request("GET", path, headers=headers)
        except (OSError, http.client.HTTPException) as error:
            results.append(Result(kind, 0, (time.perf_counter() - started) * 1000, []))
            print(f"  {path}: {error!r}", flush=True)
            continue
        ms = (time.perf_counter() - started) * 1000
        problems = check(tenant, kind, status, response_headers, body, expect)
        results.append(Result(kind, status, ms, [f"{path}: {p}" for p in problems]))
    return results


def run_load(
    tenants: list[Tenant], port: int, requests: int, seconds: float
) -> tuple[list[Result], float, float]:
    """Log everyone in, then let them all browse at once; returns (results, seconds, login s)."""
    pairs = [(tenants[0], tenants[1]), (tenants[1], tenants[0])]
    people = []
    started = time.perf_counter()
    for tenant, other in pairs:
        for username in tenant.usernames:
            browser = Browser(port)
            browser.login(username, f"/{tenant.slug}/clients/")
            people.append((tenant, other, browser))
    login_s = time.perf_counter() - started
    budget = Budget(requests, seconds)
    outputs: list[list[Result]] = [[] for _ in people]
    failures: list[BaseException] = []

    def work(n: int, tenant: Tenant, other: Tenant, browser: Browser) -> None:
        try:
            outputs[n] = person(n, tenant, other, browser, budget)
        except BaseException as error:  # reported below, after the other threads finish
            failures.append(error)

    threads = [
        threading.Thread(target=work, args=(n, *p), daemon=True) for n, p in enumerate(people)
    ]
    started, cpu = time.perf_counter(), time.process_time()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C or SIGTERM: let the people finish their request first
        budget.stop()
        for thread in threads:
            thread.join(timeout=70)
        raise
    elapsed = time.perf_counter() - started
    print(
        f"  the load generator itself used {time.process_time() - cpu:.0f} CPU-s "
        f"of the {elapsed:.0f} s",
        flush=True,
    )
    for _, _, browser in people:
        browser.conn.close()
    if failures:
        raise failures[0]
    return [r for output in outputs for r in output], elapsed, login_s


# --- Report ------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def report(
    results: list[Result], elapsed: float, login_s: float, tenants: list[Tenant], args
) -> dict:
    timings = [r.ms for r in results]
    wrong = [r for r in results if r.problems]
    errors_5xx = sum(1 for r in results if r.status >= 500)
    failed = sum(1 for r in results if r.status == 0)
    statuses = Counter(r.status for r in results)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for r in results:
        by_kind[r.kind].append(r.ms)
    print()
    print(
        f"{len(results):,} requests in {elapsed:.1f} s by {len(tenants) * args.users} logged-in "
        f"people at once ({args.users} per salon: "
        + ", ".join(f"{t.name} {len(t.clients)} clients" for t in tenants)
        + f"); gunicorn {args.workers} workers × {args.threads} threads on {os.cpu_count()} CPUs; "
        f"{len(tenants) * args.users} logins took {login_s:.1f} s"
    )
    header = f"{'request':<26}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
    print(header)
    print("-" * len(header))
    for kind in sorted(by_kind, key=lambda k: -len(by_kind[k])):
        values = by_kind[kind]
        print(
            f"{kind:<26}{len(values):>7}{percentile(values, 0.5):>9.1f}"
            f"{percentile(values, 0.95):>9.1f}{max(values):>9.1f}"
        )
    print("-" * len(header))
    print(
        f"{'all':<26}{len(timings):>7}{percentile(timings, 0.5):>9.1f}"
        f"{percentile(timings, 0.95):>9.1f}{max(timings, default=0):>9.1f}"
    )
    print(f"statuses: {dict(sorted(statuses.items()))}; connection failures: {failed}")
    print(f"wrong-tenant responses: {len(wrong)}; 5xx: {errors_5xx}")
    for r in wrong[:10]:
        print(f"  {r.kind}: {'; '.join(r.problems)}")
    return {
        "requests": len(results),
        "rps": round(len(results) / elapsed, 1) if elapsed else 0.0,
        "p95_ms": round(percentile(timings, 0.95), 1),
        "wrong_tenant_responses": len(wrong),
        "errors_5xx": errors_5xx,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests in all")
    parser.add_argument("--seconds", type=float, default=180, help="stop sooner than this")
    parser.add_argument("--users", type=int, default=4, help="logged-in people per salon")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, default=8321, help="gunicorn's port on 127.0.0.1")
    parser.add_argument(
        "--single-role",
        action="store_true",
        help="serve with DATABASE_URL's role instead of a restricted application role",
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=120,
        help="days of appointments and sales seed_demo makes (0: none); data is reused",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Point DATABASE_URL at a PostgreSQL database of its own.")
    # A `kill` of the bench still stops gunicorn (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print("Preparing the two salons…", flush=True)
    tenants = prepare(args.history_days, args.users)
    database, served_as = server_database(args.single_role, tenants)
    work = Path(tempfile.mkdtemp(prefix="glamiti-load-"))
    server = Server(args.port, args.workers, args.threads, work / "static", database)
    try:
        server.start()
        print(
            f"gunicorn on 127.0.0.1:{args.port} (pid {server.process.pid}), connecting to "
            f"PostgreSQL as {served_as}; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        results, elapsed, login_s = run_load(tenants, args.port, args.requests, args.seconds)
        if server.process.poll() is not None:
            raise SystemExit(f"gunicorn died during the run:\n{server.tail()}")
        summary = report(results, elapsed, login_s, tenants, args)
        if summary["errors_5xx"]:
            print(f"gunicorn's log ends with:\n{server.tail(20)}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("Interrupted (gunicorn stopped).")
