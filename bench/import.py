"""Client import throughput and memory, against django-import-export's default resource.

    createdb -h 127.0.0.1 -U postgres glamiti_import_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/glamiti_import_bench \\
        .venv/bin/python bench/import.py [--rows 100000] [--big-rows 1000000] [--die-rows 10000]

Generates realistic client files (accented names, phones in mixed formats, dates in several
formats, 2% duplicate rows, 1% bad rows) as a Fresha export, then measures on PostgreSQL:

- our import end to end, as the owner goes through it: upload (sniffed and stored), the check
  behind the preview (parse → normalise → validate → dedupe), and the import job (the same
  again, then write) — 100,000 rows as CSV and as XLSX, each into an empty business;
- django-import-export's default `ModelResource.import_data` on 10,000 rows of the same data;
- the peak memory (max RSS) of a separate process importing a 1,000,000-row CSV end to end.

THE DATABASE IS FLUSHED FIRST: point it at a database of its own. The last line printed is
one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamiti.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
# Jobs run in this process, one after the other, as a worker would run them.
os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
MEDIA = Path(tempfile.mkdtemp(prefix="glamiti-bench-media-"))
os.environ["MEDIA_ROOT"] = str(MEDIA)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import UploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_scopes import scopes_disabled  # noqa: E402

from clients import imports  # noqa: E402
from clients.normalize import fold  # noqa: E402
from glamiti.models import Business  # noqa: E402
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


def rows(count: int, seed: int = SEED):
    """Fresha-style rows: 2% repeat an earlier client, 1% are bad (no name)."""
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
        if len(recent) < 5000:
            recent.append(row)
        elif rng.random() < 0.01:
            recent[rng.randrange(5000)] = row
        yield row


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Client list\r\n")  # a title row above the header, as exports have
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADERS)
        writer.writerows(rows(count))


def write_xlsx(path: Path, count: int) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Clients")
    sheet.append(HEADERS)
    for row in rows(count):
        sheet.append(row)
    workbook.save(path)


def new_business(slug: str) -> Business:
    with scopes_disabled():
        return Business.objects.create(
            name=slug, slug=slug, country="GB", time_zone="Europe/London"
        )


def ours(path: Path, slug: str) -> tuple[float, dict]:
    """Upload, check and import one file; returns (seconds of the import job, counts and the
    other timings)."""
    business = new_business(slug)
    started = time.perf_counter()
    with tenant_context(business), path.open("rb") as handle:
        upload = UploadedFile(handle, name=path.name, size=path.stat().st_size)
        imp = imports.client_import_upload(business=business, by=None, upload=upload)
        imports.client_import_map(
            imp=imp, mapping=imp.mapping, keep_unmapped=False, duplicate_mode="skip"
        )
        checked = time.perf_counter()
        imports.client_import_confirm(imp=imp)
        imp.refresh_from_db()
    finished = time.perf_counter()
    if imp.status != "done":
        raise SystemExit(f"import failed: {imp.error}")
    timings = {
        "upload_and_check_s": round(checked - started, 2),
        "total_s": round(finished - started, 2),
    }
    return finished - checked, imp.counts | timings


def import_export_default(path: Path, count: int) -> float:
    """django-import-export's default ModelResource on the same rows (model field names)."""
    import tablib
    from import_export import resources

    from clients.models import Client

    class DefaultClientResource(resources.ModelResource):
        class Meta:
            model = Client

    business = new_business("bench-die")
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
        raise SystemExit(f"django-import-export failed: {result.rows[0].errors}")
    return elapsed


def child_peak(path: Path) -> None:
    """Run in a separate process: import `path` end to end, print the peak RSS in MB.

    A million realistic rows take about 150 MB of CSV: the 50 MB upload limit is lifted here
    so that the row limit itself can be measured."""
    from clients import imports_read

    imports_read.MAX_BYTES = imports.MAX_BYTES = 1024 * 1024 * 1024
    seconds, counts = ours(path, "bench-million")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"job_s": round(seconds, 1), "peak_mb": round(peak_mb, 1), **counts}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--die-rows", type=int, default=10_000)
    parser.add_argument("--child-peak", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run this on PostgreSQL: set DATABASE_URL.")
    if args.child_peak:
        child_peak(args.child_peak)
        return
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    work = Path(tempfile.mkdtemp(prefix="glamiti-bench-"))
    print(f"Database {settings.DATABASES['default']['NAME']}, files in {work}", flush=True)

    csv_path, xlsx_path, big_path = work / "clients.csv", work / "clients.xlsx", work / "big.csv"
    write_csv(csv_path, args.rows)
    write_xlsx(xlsx_path, args.rows)
    write_csv(big_path, args.big_rows)
    print(f"Generated {args.rows:,} rows as CSV and XLSX, {args.big_rows:,} as CSV", flush=True)

    csv_s, csv_counts = ours(csv_path, "bench-csv")
    csv_rate = args.rows / csv_s
    csv_total_rate = args.rows / csv_counts["total_s"]
    print(f"ours, CSV, {args.rows:,} rows: import job {csv_s:.1f} s = {csv_rate:,.0f} rows/s; "
          f"with upload and the preview's check {csv_counts['total_s']} s = "
          f"{csv_total_rate:,.0f} rows/s", flush=True)  # fmt: skip
    print(f"  {csv_counts}", flush=True)
    xlsx_s, xlsx_counts = ours(xlsx_path, "bench-xlsx")
    print(f"ours, XLSX, {args.rows:,} rows: import job {xlsx_s:.1f} s; with upload and the "
          f"preview's check {xlsx_counts['total_s']} s", flush=True)  # fmt: skip
    die_s = import_export_default(csv_path, args.die_rows)
    die_rate = args.die_rows / die_s
    print(f"django-import-export default, {args.die_rows:,} rows: {die_s:.1f} s = "
          f"{die_rate:,.0f} rows/s", flush=True)  # fmt: skip
    ratio = csv_rate / die_rate
    print(f"ratio ours / django-import-export: {ratio:.1f}x", flush=True)

    child = subprocess.run(  # noqa: S603 - our own script, with our own arguments
        [sys.executable, __file__, "--child-peak", str(big_path)],
        capture_output=True, text=True, check=False, env={**os.environ},
    )  # fmt: skip
    if child.returncode:
        raise SystemExit(f"The 1,000,000-row import failed:\n{child.stderr[-3000:]}")
    peak = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"ours, CSV, {args.big_rows:,} rows in a separate process: upload, check and import "
          f"{peak['total_s']} s, peak memory {peak['peak_mb']} MB", flush=True)  # fmt: skip
    print(
        json.dumps(
            {
                # The import job: parse → normalise → validate → dedupe → write, as
                # django-import-export's import_data does in one pass.
                "csv_rows_per_s": round(csv_rate),
                "xlsx_100k_s": round(xlsx_s, 2),
                "import_export_default_rows_per_s": round(die_rate),
                "ratio_vs_import_export": round(ratio, 1),
                "peak_mb_1m_rows": peak["peak_mb"],
                # The same, counting the upload and the preview's check of every row too.
                "csv_with_preview_rows_per_s": round(csv_total_rate),
                "xlsx_100k_with_preview_s": xlsx_counts["total_s"],
            }
        )
    )


if __name__ == "__main__":
    main()
