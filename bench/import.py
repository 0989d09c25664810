"""Client import throughput and memory, against django-import-export's default resource.

    createdb -h 127.0.0.1 -U postgres glamiti_import_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/glamiti_import_bench \\
        .venv/bin/python bench/import.py [--rows 100000] [--big-rows 1000000] [--die-rows 10000]
        [--single-role | --compare-rounds 2]

Generates realistic client files (accented names, phones in mixed formats, dates in several
formats, 2% duplicate rows, 1% bad rows) as a Fresha export, then measures on PostgreSQL:

- our import end to end, as the business's owner goes through it (recorded as the one who
  created the clients, consents and audit entries): upload (sniffed and stored), the check
  behind the preview (parse → normalise → validate → dedupe, the analysis job), and the
  import job (the same again, then write) — 100,000 rows as CSV and as XLSX, each into an
  empty business;
- django-import-export's default `ModelResource.import_data` on 10,000 rows of the same data;
- the peak memory (max RSS) of a process importing a 1,000,000-row CSV end to end.

DATABASE_URL must be a superuser's (it sets things up and checks the results). Every
measurement runs in a process of its own that connects as production does: as an
application role that `manage.py db_roles` makes for this database (<db>_app: no superuser,
no BYPASSRLS), so row-level security and the same-business foreign keys are part of what is
measured. The jobs run as a worker runs them (each enters its tenant itself), the upload and
the confirmation inside `tenant_context` as a request would. To show what row-level security
costs, the CSV import then runs again in `--compare-rounds` rounds (2: 0 skips them) of one
run as DATABASE_URL's own role (RLS bypassed) and one as the application role, in turn
first and second (single, app, app, single): `rls_overhead_ratio` is the application role's
import job seconds over the single role's, summed over the rounds. `--single-role` measures
everything as DATABASE_URL's role instead (the old way).

After every import the superuser counts what it wrote (clients, and their import tags) and
stops the bench if that is not what the file holds, so a write refused by row-level security
cannot pass for a fast one. THE DATABASE IS FLUSHED FIRST: point it at a database of its
own. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import datetime
import json
import os
import random
import re
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamiti.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
# Jobs are queued in memory and run by `work_off()`, in this process, as a worker runs them.
os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
MEDIA = Path(tempfile.mkdtemp(prefix="glamiti-bench-media-"))
os.environ["MEDIA_ROOT"] = str(MEDIA)
atexit.register(shutil.rmtree, MEDIA, ignore_errors=True)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import UploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402
from django_tasks import default_task_backend  # noqa: E402

from clients import imports  # noqa: E402
from clients.normalize import fold  # noqa: E402
from glamiti.models import Business, Membership, Role, User  # noqa: E402
from glamiti.tenancy import tenant_context  # noqa: E402

SEED = 20261204
FIRST = [
    "Olivia", "Amelia", "Zoë", "Chloé", "Renée", "Noémie", "Léa", "Inès", "Hélène", "María",
    "Lucía", "Sofía", "Ángela", "Begoña", "Małgorzata", "Zofia", "Kateřina", "Siobhán",
    "Saoirse", "Róisín", "Áine", "Çağla", "Şebnem", "Åsa", "Märta", "Priya", "Aisha", "Yuki",
    "Jack", "Oliver", "José", "Martín", "Íñigo", "Raúl", "Seán", "Jürgen", "Søren", "Łukasz",
    "François", "Jérôme", "Théo", "Mateo", "Omar", "Grace", "Emily", "Hannah", "Noah", "Leo",
]  # fmt: skip
LAST = [
    "Smith", "Jones", "Taylor", "O'Brien", "Ó Súilleabháin", "Ní Bhriain", "Rodríguez",
    "García", "Núñez", "Muñoz", "Müller", "Weiß", "Schäfer", "Lefèvre", "Béranger", "Nguyễn",
    "Wiśniewski", "Dąbrowski", "Nørgaard", "Åberg", "Gonçalves", "Dvořák", "Yılmaz", "Çelik",
    "Papadopoulos", "Okafor", "Chen", "van der Berg", "De Luca", "MacDonald", "Patel", "Khan",
]  # fmt: skip
DOMAINS = ["gmail.com", "hotmail.co.uk", "outlook.com", "icloud.com", "gmx.de", "orange.fr"]
CITIES = ["London", "LONDON", "Dublin", "manchester", "Bristol", "Cork", "Leeds", "Edinburgh"]
HEADERS = [
    "Client ID", "First Name", "Last Name", "Full Name", "Blocked", "Block Reason", "Gender",
    "Mobile Number", "Telephone", "Email", "Accepts Marketing", "Accepts SMS Marketing",
    "Address", "Apartment Suite", "Area", "City", "State", "Post Code", "Date of Birth",
    "Added", "Note", "Referral Source",
]  # fmt: skip
# The same columns under the names a django-import-export default resource understands.
MODEL_FIELDS = {
    "Client ID": "external_id", "First Name": "first_name", "Last Name": "last_name",
    "Gender": "gender", "Mobile Number": "mobile_phone", "Telephone": "other_phone",
    "Email": "email", "Address": "address_line1", "City": "city", "Post Code": "postal_code",
    "Block Reason": "blocked_reason",
}  # fmt: skip


def phone(rng: random.Random, n: int) -> str:
    number = f"74{n % 100_000_000:08d}"  # 074xx xxxxxx: UK mobiles
    style = rng.random()
    if style < 0.4:
        return f"0{number[:4]} {number[4:]}"
    if style < 0.6:
        return f"+44 {number[:4]} {number[4:]}"
    if style < 0.7:
        return f"'0{number}"
    if style < 0.8:
        return f"44{number}"
    if style < 0.9:
        return f"0044 ({number[:4]}) {number[4:7]}-{number[7:]}"
    return f"0{number}"


def birthday(rng: random.Random) -> str:
    date = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 55))
    style = rng.random()
    if style < 0.4:
        return date.strftime("%d/%m/%Y")
    if style < 0.55:
        return date.isoformat()
    if style < 0.65:
        return date.strftime("%d.%m.%Y")
    if style < 0.75:
        return f"{date.day} {date.strftime('%B')} {date.year}"
    if style < 0.85:
        return date.strftime("%d/%m")  # day and month only
    if style < 0.9:
        return str((date - datetime.date(1899, 12, 30)).days)  # an Excel serial
    return ""


def rows(count: int, seed: int = SEED, stats: dict | None = None):
    """Fresha-style rows: 2% repeat an earlier client, 1% are bad (no name). `stats["new"]`
    counts the rows that must become clients (neither a repeat nor bad)."""
    rng = random.Random(seed)
    recent: list[list[str]] = []
    for n in range(1, count + 1):
        if recent and rng.random() < 0.02:
            row = list(rng.choice(recent))
            row[0] = str(500_000_000 + n)
            yield row
            continue
        first, last = rng.choice(FIRST), rng.choice(LAST)
        if rng.random() < 0.15:
            first, last = first.upper(), last.upper()
        local = fold(first).encode("ascii", "ignore").decode().replace(" ", "")
        email = f"{local}.{n}@{rng.choice(DOMAINS)}"
        if rng.random() < 0.005:
            email = email.replace("@", " at ")  # a bad value: dropped with a warning
        gender = rng.choice(["F", "Female", "M", "Male", ""])
        marketing = rng.choice(["Yes", "No", ""]), rng.choice(["Yes", "No"])
        added = datetime.date(2015, 1, 1) + datetime.timedelta(days=rng.randrange(3000))
        note = "Prefers mornings" if rng.random() < 0.1 else ""
        source = rng.choice(["Instagram", "Google", "Walk-in", ""])
        row = [
            str(100_000 + n), first, last, f"{first} {last}", "No", "", gender,
            phone(rng, n), "", email if rng.random() < 0.9 else email.upper(), *marketing,
            f"{rng.randrange(1, 300)} High St", "", "", rng.choice(CITIES), "", "N1 9GU",
            birthday(rng), added.isoformat(), note, source,
        ]  # fmt: skip
        if rng.random() < 0.01:
            row[1] = row[2] = row[3] = ""  # a bad row: no name, rejected
        elif stats is not None:
            stats["new"] += 1
        if len(recent) < 5000:
            recent.append(row)
        elif rng.random() < 0.01:
            recent[rng.randrange(5000)] = row
        yield row


def write_csv(path: Path, count: int) -> int:
    """Write the file; returns how many clients importing it must create."""
    stats = {"new": 0}
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Client list\r\n")  # a title row above the header, as exports have
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADERS)
        writer.writerows(rows(count, stats=stats))
    return stats["new"]


def write_xlsx(path: Path, count: int) -> int:
    import openpyxl

    stats = {"new": 0}
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Clients")
    sheet.append(HEADERS)
    for row in rows(count, stats=stats):
        sheet.append(row)
    workbook.save(path)
    return stats["new"]


# --- In a measuring process: connected as the role being measured ------------------------


def work_off() -> None:
    """Run the queued jobs, as `manage.py db_worker` would (each enters its tenant itself)."""
    while default_task_backend.results:
        job = default_task_backend.results.pop(0)
        job.task.call(*job.args, **job.kwargs)


def connected_as() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles "
            "WHERE rolname = current_user"
        )
        role, bypasses = cursor.fetchone()
    return {"role": role, "rls": not bypasses}


def ours(path: Path, business: Business) -> dict:
    """Upload, check and import one file as the owner would; the import job's seconds,
    counts and the other timings."""
    started = time.perf_counter()
    # The upload and mapping pages: requests, inside the tenant.
    with tenant_context(business), path.open("rb") as handle:
        upload = UploadedFile(handle, name=path.name, size=path.stat().st_size)
        imp = imports.client_import_upload(business=business, by=owner_of(business),
                                           upload=upload)  # fmt: skip
        imports.client_import_map(
            imp=imp, mapping=imp.mapping, keep_unmapped=False, duplicate_mode="skip"
        )
    work_off()  # the analysis job behind the preview
    checked = time.perf_counter()
    with tenant_context(business):
        imp.refresh_from_db()
        if imp.status != "previewed":
            raise SystemExit(f"the check failed ({imp.status}): {imp.error}")
        imports.client_import_confirm(imp=imp)  # the preview's "Import" button
    work_off()  # the import job
    finished = time.perf_counter()
    with tenant_context(business):
        imp.refresh_from_db()
    if imp.status != "done":
        raise SystemExit(f"import failed ({imp.status}): {imp.error}")
    return {
        "job_s": round(finished - checked, 3),
        "upload_and_check_s": round(checked - started, 2),
        "total_s": round(finished - started, 2),
        "counts": imp.counts,
    }


def import_export_default(path: Path, count: int, business: Business) -> float:
    """django-import-export's default ModelResource on the same rows (model field names)."""
    import tablib
    from import_export import resources

    from clients.models import Client

    class DefaultClientResource(resources.ModelResource):
        class Meta:
            model = Client

        def after_import(self, dataset, result, **kwargs):  # noqa: ANN001, ANN003, ANN202
            # The default resets the id sequence to max(id) (one statement): only the
            # sequence's owner may, and under row-level security max(id) would be this
            # business's alone. clients/resources.py skips it too.
            pass

    data = tablib.Dataset(headers=["business", *MODEL_FIELDS.values()])
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader), next(reader)
        index = [HEADERS.index(h) for h in MODEL_FIELDS]
        for _, row in zip(range(count), reader, strict=False):
            data.append([business.pk, *(row[i] for i in index)])
    started = time.perf_counter()
    with tenant_context(business):
        result = DefaultClientResource().import_data(data, dry_run=False)
    elapsed = time.perf_counter() - started
    if result.has_errors():
        first = next((r for r in result.rows if r.errors), None)
        errors = first.errors if first else result.base_errors
        raise SystemExit(f"django-import-export failed: {errors}")
    return elapsed


def child(args: argparse.Namespace) -> None:
    """One measurement in this process; prints one JSON line (with the peak RSS in MB)."""
    business = Business.objects.get(pk=args.business)  # no tenant table: readable as is
    if args.kind == "die":
        figures = {"seconds": round(import_export_default(args.file, args.die_rows, business), 3)}
    else:
        if args.no_size_limit:
            # A million realistic rows take about 150 MB of CSV: the 50 MB upload limit is
            # lifted so that the row limit itself can be measured.
            from clients import imports_read

            imports_read.MAX_BYTES = imports.MAX_BYTES = 1024 * 1024 * 1024
        figures = ours(args.file, business)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**figures, "peak_mb": round(peak_mb, 1), **connected_as()}))


# --- The conductor: DATABASE_URL, a superuser ---------------------------------------------


def manage(*args: str, env: dict) -> None:
    """Run manage.py in a subprocess (as an operator would), failing loudly."""
    result = subprocess.run(  # noqa: S603 - our own manage.py with our own arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")


def application_role() -> dict[str, str]:
    """Make (or reuse) this database's application and platform roles with `db_roles`; the
    environment a process needs to connect as production does (DATABASE_URL: the app)."""
    owner_url = os.environ["DATABASE_URL"]
    parts = urllib.parse.urlsplit(owner_url)
    base = re.sub(r"\W", "_", parts.path.lstrip("/"))[:40]
    host = parts.hostname or "127.0.0.1"
    netloc_host = f"{host}:{parts.port}" if parts.port else host
    passwords = {f"{base}_app": secrets.token_urlsafe(24),
                 f"{base}_platform": secrets.token_urlsafe(24)}  # fmt: skip

    def url(role: str) -> str:
        netloc = f"{role}:{urllib.parse.quote(passwords[role], safe='')}@{netloc_host}"
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))

    env = {
        "DATABASE_OWNER_URL": owner_url,
        "DATABASE_URL": url(f"{base}_app"),
        "DATABASE_ADMIN_URL": url(f"{base}_platform"),
    }
    manage("db_roles", env={**os.environ, **env})
    # db_roles leaves an existing role's password alone: give it this run's.
    with connection.cursor() as cursor:
        for role, password in passwords.items():
            cursor.execute(f'ALTER ROLE "{role}" PASSWORD %s', [password])
    return env


def new_business(slug: str) -> Business:
    """A business with its owner, who uploads and imports (and is recorded doing so)."""
    with scopes_disabled():
        business = Business.objects.create(
            name=slug, slug=slug, country="GB", time_zone="Europe/London"
        )
        owner = User.objects.create_user(f"{slug}-owner", email=f"owner@{slug}.example")
        Membership.objects.create(user=owner, business=business, role=Role.OWNER)
        return business


def owner_of(business: Business) -> User:
    return Membership.objects.get(business=business, role=Role.OWNER).user


def measure(kind: str, path: Path, business: Business, env: dict, *extra: str) -> dict:
    """Run one measurement in a process of its own, connected through `env`."""
    result = subprocess.run(  # noqa: S603 - our own script, with our own arguments
        [sys.executable, __file__, "--child", kind, "--file", str(path),
         "--business", str(business.pk), *extra],
        capture_output=True, text=True, check=False, env={**os.environ, **env},
    )  # fmt: skip
    if result.returncode:
        raise SystemExit(
            f"The {kind} measurement ({path.name}) failed:\n"
            f"{(result.stderr or result.stdout)[-4000:]}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def count(sql: str, *params: object) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def verify(business: Business, expected: int, created: int | None = None) -> int:
    """As the superuser: the business has exactly `expected` clients (and, after our import,
    as many import tags), as the job said. Stops the bench otherwise."""
    clients = count("SELECT count(*) FROM clients_client WHERE business_id = %s", business.pk)
    problems = []
    if clients != expected:
        problems.append(f"{clients:,} clients in the database, {expected:,} in the file")
    if created is not None:
        tagged = count("SELECT count(*) FROM clients_clienttag WHERE business_id = %s", business.pk)
        if created != clients:
            problems.append(f"the job says it created {created:,}")
        if tagged != clients:
            problems.append(f"{tagged:,} client tags")
    if problems:
        raise SystemExit(f"{business.slug}: " + "; ".join(problems))
    return clients


def gin_clean() -> float:
    """As the table owner, merge the clients table's GIN pending lists (what the import job
    does once committed, but the application role may not: it owns no index); seconds."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT gin_clean_pending_list(c.oid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE i.indrelid = 'clients_client'::regclass AND a.amname = 'gin'"
        )
    return time.perf_counter() - started


def run_ours(path: Path, slug: str, env: dict, expected: int, *extra: str) -> dict:
    """Import `path` into a new business in a process of its own; checked and tidied up."""
    business = new_business(slug)
    figures = measure("ours", path, business, env, *extra)
    figures["verified"] = verify(business, expected, figures["counts"]["created"])
    # Every import starts with the GIN indexes merged, whoever ran the one before, and the
    # planner's statistics up to date (as autovacuum would have them).
    figures["gin_left_s"] = round(gin_clean(), 2)
    analyze()
    return figures


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def rls_proof(env: dict, business: Business, clients: int) -> str:
    """What the application role sees of the clients table, with and without a tenant."""
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as db:
        unscoped = db.execute("SELECT count(*) FROM clients_client").fetchone()[0]
        with db.transaction():
            db.execute("SELECT set_config('app.business_id', %s, true)", [str(business.pk)])
            scoped = db.execute("SELECT count(*) FROM clients_client").fetchone()[0]
    total = count("SELECT count(*) FROM clients_client")
    if unscoped or scoped != clients:
        raise SystemExit(
            f"Row-level security is not in force: the application role sees {unscoped:,} "
            f"clients outside any tenant and {scoped:,} of {business.slug}'s {clients:,}."
        )
    return (
        f"row-level security: the application role sees 0 of the {total:,} clients outside "
        f"a tenant, {scoped:,} in {business.slug}"
    )


def compare_roles(rounds: int, path: Path, expected: int, app: dict, single: dict) -> dict:
    """The CSV import as each role in turn, each into a new business; the ratios."""
    runs: dict[str, list[dict]] = {"rls": [], "single": []}
    for n in range(rounds):
        order = ["single", "rls"] if n % 2 == 0 else ["rls", "single"]
        for side in order:
            figures = run_ours(path, f"bench-compare-{n + 1}-{side}",
                               single if side == "single" else app, expected)  # fmt: skip
            if figures["rls"] != (side == "rls"):
                raise SystemExit(f"The {side} run connected as {figures['role']}.")
            runs[side].append(figures)
            print(f"  round {n + 1}, as {figures['role']}: import job {figures['job_s']:.1f} "
                  f"s, with the check {figures['total_s']} s", flush=True)  # fmt: skip

    def total(side: str, key: str) -> float:
        return sum(run[key] for run in runs[side])

    gin_left_s = total("rls", "gin_left_s")
    compare = {
        "rls_overhead_ratio": round(total("rls", "job_s") / total("single", "job_s"), 2),
        "rls_overhead_ratio_with_preview": round(
            total("rls", "total_s") / total("single", "total_s"), 2
        ),
        "rls_overhead_ratio_with_gin_merge": round(
            (total("rls", "job_s") + gin_left_s) / total("single", "job_s"), 2
        ),
        "compare_csv_job_s": {side: [r["job_s"] for r in runs[side]] for side in runs},
        "compare_csv_total_s": {side: [r["total_s"] for r in runs[side]] for side in runs},
        "rls_gin_merge_left_s": round(gin_left_s / rounds, 2),
        "verified": total("rls", "verified") + total("single", "verified"),
    }
    print(f"  row-level security: import job x{compare['rls_overhead_ratio']}, with the "
          f"check x{compare['rls_overhead_ratio_with_preview']}; the GIN merge the "
          f"application role may not do took the owner {gin_left_s / rounds:.2f} s a run "
          f"afterwards (x{compare['rls_overhead_ratio_with_gin_merge']} counting it)",
          flush=True)  # fmt: skip
    return compare


def load() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--die-rows", type=int, default=10_000)
    parser.add_argument(
        "--single-role",
        action="store_true",
        help="measure as DATABASE_URL's role (RLS bypassed) instead of an application role",
    )
    parser.add_argument(
        "--compare-rounds",
        type=int,
        default=2,
        help="rounds of CSV imports as each role for rls_overhead_ratio (0: none)",
    )
    parser.add_argument("--child", choices=["ours", "die"], help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--business", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-size-limit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run this on PostgreSQL: set DATABASE_URL.")
    if args.child:
        args.kind = args.child
        child(args)
        return
    if os.environ.get("DATABASE_OWNER_URL") or os.environ.get("DATABASE_ADMIN_URL"):
        raise SystemExit("Set DATABASE_URL alone, to a superuser: the bench makes its own roles.")
    if not count("SELECT count(*) FROM pg_roles WHERE rolname = current_user AND rolsuper"):
        raise SystemExit("DATABASE_URL must connect as a superuser.")
    load_start = load()
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    analyze()
    single = {}  # DATABASE_URL as it is: one role for everything, RLS bypassed
    app = single if args.single_role else application_role()
    work = Path(tempfile.mkdtemp(prefix="glamiti-bench-"))
    try:
        summary = bench(args, work, app, single, load_start)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary))


def bench(args: argparse.Namespace, work: Path, app: dict, single: dict, load_start: str) -> dict:
    print(f"Database {settings.DATABASES['default']['NAME']}, files in {work}; load average "
          f"{load_start}", flush=True)  # fmt: skip
    csv_path, xlsx_path, big_path = work / "clients.csv", work / "clients.xlsx", work / "big.csv"
    csv_new = write_csv(csv_path, args.rows)
    xlsx_new = write_xlsx(xlsx_path, args.rows)
    big_new = write_csv(big_path, args.big_rows)
    print(f"Generated {args.rows:,} rows as CSV and XLSX, {args.big_rows:,} as CSV", flush=True)

    csv = run_ours(csv_path, "bench-csv", app, csv_new)
    role = f"{csv['role']} ({'row-level security' if csv['rls'] else 'RLS bypassed'})"
    print(f"Importing as {role}", flush=True)
    if not args.single_role:
        if not csv["rls"]:
            raise SystemExit(f"{csv['role']} bypasses row-level security.")
        print(f"  {rls_proof(app, Business.objects.get(slug='bench-csv'), csv['verified'])}")
    csv_s, csv_total_s = csv["job_s"], csv["total_s"]
    csv_rate, csv_total_rate = args.rows / csv_s, args.rows / csv_total_s
    print(f"ours, CSV, {args.rows:,} rows: import job {csv_s:.1f} s = {csv_rate:,.0f} rows/s; "
          f"with upload and the preview's check {csv_total_s} s = "
          f"{csv_total_rate:,.0f} rows/s; {csv['verified']:,} clients checked as the "
          f"superuser", flush=True)  # fmt: skip
    print(f"  {csv['counts']}", flush=True)

    compare = None
    if not args.single_role and args.compare_rounds > 0:
        compare = compare_roles(args.compare_rounds, csv_path, csv_new, app, single)

    xlsx = run_ours(xlsx_path, "bench-xlsx", app, xlsx_new)
    xlsx_s = xlsx["job_s"]
    print(f"ours, XLSX, {args.rows:,} rows: import job {xlsx_s:.1f} s; with upload and the "
          f"preview's check {xlsx['total_s']} s", flush=True)  # fmt: skip

    die_business = new_business("bench-die")
    die = measure("die", csv_path, die_business, app, "--die-rows", str(args.die_rows))
    verify(die_business, args.die_rows)
    analyze()
    die_s = die["seconds"]
    die_rate = args.die_rows / die_s
    print(f"django-import-export default, {args.die_rows:,} rows: {die_s:.1f} s = "
          f"{die_rate:,.0f} rows/s", flush=True)  # fmt: skip
    ratio = csv_rate / die_rate
    print(f"ratio ours / django-import-export: {ratio:.1f}x", flush=True)

    peak = run_ours(big_path, "bench-million", app, big_new, "--no-size-limit")
    print(f"ours, CSV, {args.big_rows:,} rows in a separate process: upload, check and import "
          f"{peak['total_s']} s, peak memory {peak['peak_mb']} MB", flush=True)  # fmt: skip
    load_end = load()
    verified = csv["verified"] + xlsx["verified"] + args.die_rows + peak["verified"]
    if compare:
        verified += compare.pop("verified")
    print(f"load average {load_end} at the end ({os.cpu_count()} CPUs)", flush=True)
    return {
        # The import job: parse → normalise → validate → dedupe → write, as
        # django-import-export's import_data does in one pass.
        "csv_rows_per_s": round(csv_rate),
        "xlsx_100k_s": round(xlsx_s, 2),
        "import_export_default_rows_per_s": round(die_rate),
        "ratio_vs_import_export": round(ratio, 1),
        "peak_mb_1m_rows": peak["peak_mb"],
        # The same, counting the upload and the preview's check of every row too.
        "csv_with_preview_rows_per_s": round(csv_total_rate),
        "xlsx_100k_with_preview_s": xlsx["total_s"],
        # Who the measured processes connected as, and what the superuser counted after.
        "db_role": csv["role"],
        "rls": csv["rls"],
        "rows_verified": verified,
        # Row-level security's cost: the CSV import job as the application role over the
        # same as DATABASE_URL's role (RLS bypassed); None when not compared.
        "rls_overhead_ratio": compare["rls_overhead_ratio"] if compare else None,
        **({k: v for k, v in compare.items() if k != "rls_overhead_ratio"} if compare else {}),
        "load_average_start": load_start,
        "load_average_end": load_end,
    }


if __name__ == "__main__":
    main()
