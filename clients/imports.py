"""Client import: the fast pipeline (read → map → normalise → validate → dedupe → write).

The flow, one `ClientImport` per file:
  upload (sniffed, stored)  →  mapping  →  analysis job (nothing written to clients: counts,
  problems, the first rows, the rejected rows file)  →  preview  →  confirm  →  import job
  →  result  →  maybe undo job.

The import job writes every batch inside ONE transaction: if it fails, or its worker process
is killed, PostgreSQL rolls everything back and no client of the file remains. Progress is
written on a second connection so the web pages see it while that transaction is open; the
job also holds an advisory lock, which tells the web process whether the job is still alive
(a killed worker's lock goes with its connection; see `client_import_recover`).

Rows are not turned into model instances: each row becomes a list of column values, with
the derived search columns computed by the same functions `Client.refresh_derived_fields`
uses. On PostgreSQL a batch's new clients are COPYed into a temporary stage table, where
they draw their ids, and every row that hangs off them (tags, notes, consent records, audit
entries) is written from there with INSERT … SELECT, so that the writing thread only sends
bytes; `bulk_create` elsewhere. Duplicates are found with a compact hash table of the keys
seen.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import logging
import os
import sys
import tempfile
import threading
import time
import zoneinfo
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from queue import Empty, Queue
from typing import Any, TypeVar

import psycopg
from auditlog.context import disable_auditlog
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import Model, Q
from django.utils import timezone

from audit import imports as audit_imports
from clients.consent import CHANNELS as CONSENT_CHANNELS
from clients.consent import Answer as ConsentAnswer
from clients.consent import consent_record_bulk, consent_record_given_from
from clients.imports_fields import FIELDS_BY_KEY, ImportField, detect_vendor, propose_mapping
from clients.imports_read import (
    MAX_BYTES,
    MAX_ROWS,
    FileInfo,
    ImportFileError,
    cells_readable,
    iter_rows,
    local_copy,
    read_cells,
    sniff,
    write_cells,
)
from clients.imports_values import (
    FORMULA_START,
    PLACEHOLDERS,
    Dropped,
    cell_text,
    clean_text,
    date_order_hint,
    fit,
    fix_case,
    parse_birthday,
    parse_bool,
    parse_country,
    parse_datetime,
    parse_email,
    parse_gender,
    parse_phone_fast,
    split_full_name,
)
from clients.models import (
    Client,
    ClientImport,
    ClientImportChange,
    ClientImportProblem,
    ClientMerge,
    ClientNote,
    ClientTag,
    ConsentRecord,
    ConsentSource,
    DuplicateMode,
    Gender,
    ImportProblemLevel,
    ImportStatus,
    NoteKind,
    ReferralSource,
    Tag,
)
from clients.normalize import fold, format_phone, phone_search_digits, search_text_for
from glamiti.models import Business, User
from glamiti.pgarray import array_param
from glamiti.rls import TENANT_SETTING
from glamiti.tenancy import tenant_context

logger = logging.getLogger(__name__)
T = TypeVar("T")

BATCH_SIZE = int(os.environ.get("GLAMITI_IMPORT_BATCH_SIZE", "5000"))
FIRST_BATCH_SIZE = 500
SWITCH_INTERVAL = 0.0001  # seconds; see _prefetch
KNOWN_TABLE_ROWS = 10_000  # see _tune_import_transaction
PROBLEMS_KEPT = 20_000
PREVIEW_ROWS = 10
PROGRESS_EVERY = 0.25  # seconds between progress writes
LOCK_NAMESPACE = 71_460_001  # pg_advisory_lock(namespace, import id)
STALE_WITHOUT_LOCKS = datetime.timedelta(minutes=30)  # SQLite has no advisory locks
DATE_KINDS = ("birthday", "datetime", "archived")
IMPORT_TAG_COLOR = "#0f766e"

# What a row does, decided by `Deduper.classify`.
NEW, EXISTING, IN_FILE, REJECTED = "new", "existing", "in_file", "rejected"


class ImportError_(Exception):  # noqa: N801, N818 - avoids shadowing the builtin ImportError
    """An import step that must not happen now; the message is for the owner."""


# --- Reading and normalising one row --------------------------------------------------------------


@dataclass
class Column:
    index: int
    field: ImportField
    header: str
    order: str = "dmy"  # for dates: how to read 03/04


@dataclass
class Row:
    number: int
    cells: list[Any]
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str, str, str]] = field(default_factory=list)
    error: str = ""
    action: str = ""
    client: int = 0  # the existing client it matches
    earlier: int = 0  # the earlier row of the file it repeats
    reason: str = ""  # which key matched: "e", "p" or "i"
    name_moved: bool = False  # a lone last name, kept as the first name
    previous: dict = field(default_factory=dict)  # set by an update: {attname: [before, after]}
    derived: tuple[str, str] | None = None  # search_text, phone_digits


@dataclass
class Staged:
    """A batch of classified rows and what the Writer will write for them."""

    rows: list[Row]
    creates: list[Row] = field(default_factory=list)
    updates: list[Row] = field(default_factory=list)
    data: list[list[Any]] = field(default_factory=list)  # the creates' client columns
    new_sources: list[tuple[int, str]] = field(default_factory=list)  # (index in data, name)
    # PostgreSQL: what the stage holds besides the client columns, per create (its tags'
    # folded names, its note), and the tags' names as first written, by folded name
    extras: list[tuple[list[str] | None, str | None]] = field(default_factory=list)
    tag_names: dict[str, str] = field(default_factory=dict)
    encoded: bytes | None = None  # data and extras as COPY text, when no new source changes it
    # Elsewhere: (index in creates, channel) of every marketing consent the creates give
    consents: list[tuple[int, str]] = field(default_factory=list)


def derived_columns(values: dict) -> tuple[str, str]:
    """The derived search columns of a new client: the same derivation as
    Client.refresh_derived_fields() (tests check they agree), without building a model."""
    return (
        search_text_for(values["first_name"], values["last_name"], values.get("email", "")),
        phone_search_digits(values.get("mobile_phone", ""), values.get("other_phone", "")),
    )


class Plan:
    """The import's mapping, compiled for the per-row loop."""

    def __init__(
        self, business: Business, headers: list[str], mapping: list[str], options: dict,
        vendor: str = "",
    ) -> None:  # fmt: skip
        self.business = business
        self.country = business.country
        self.tz = zoneinfo.ZoneInfo(business.time_zone)
        self.default_order = "mdy" if business.locale == "en-US" else "dmy"
        self.today = timezone.localdate()
        # Our own export is taken as it is: its names and codes were typed in Glamiti.
        self.fix_case = vendor != "glamiti"
        orders = options.get("date_orders", {})
        self.columns = [
            Column(i, FIELDS_BY_KEY[key], headers[i], orders.get(str(i), self.default_order))
            for i, key in enumerate(mapping)
            if key and key in FIELDS_BY_KEY
        ]
        self.note_columns = (
            [(i, headers[i]) for i, key in enumerate(mapping) if not key]
            if options.get("keep_unmapped")
            else []
        )
        self.keys = {column.field.key for column in self.columns}
        # The per-row loop's view of the columns; full names last, as they are a fallback.
        self.steps = [
            _step(c) for c in sorted(self.columns, key=lambda c: c.field.key == "full_name")
        ]

    @classmethod
    def of(cls, imp: ClientImport) -> Plan:
        return cls(imp.business, imp.headers, imp.mapping, imp.options, imp.vendor)

    @classmethod
    def for_headers(cls, business: Business, headers: list[str]) -> Plan:
        """A plan from the header names alone (the admin's import has no mapping step)."""
        vendor = detect_vendor(headers)
        return cls(business, headers, propose_mapping(headers, vendor), {}, vendor)

    def date_columns(self) -> list[Column]:
        return [c for c in self.columns if c.field.kind in DATE_KINDS]

    def prepare(self, number: int, cells: list[Any]) -> Row:
        row = Row(number, cells)
        values = row.values
        width = len(cells)
        for index, column, normalise, key, combine, cache, fallback, keep_drops in self.steps:
            if fallback and ("first_name" in values or "last_name" in values):
                continue  # only read when the first and last name columns are empty
            raw = cells[index] if index < width else ""
            if raw.__class__ is str:
                value = cache.get(raw, _MISS)
                if value is _MISS:
                    value = _read(self, column, normalise, raw)
                    if (
                        keep_drops is not None
                        and len(cache) < CACHE_SIZE
                        and len(raw) <= CACHE_KEY_LENGTH
                        and (keep_drops or value.__class__ is not _Problem)
                    ):
                        cache[raw] = value
            else:
                value = _read(self, column, normalise, raw)
            if value is _SKIP:
                continue
            kind = value.__class__
            if kind is _Problem:
                row.problems.append(value.problem)
                continue
            if kind is list:
                value = value.copy()  # each row its own list of tags
            if key not in values:
                values[key] = value
            elif combine == "join" and value not in values[key]:
                values[key] = fit_silently(f"{values[key]}, {value}", column.field.max_length)
            elif combine == "lines":
                values[key] = f"{values[key]}\n{value}"
        if self.note_columns:
            extra = []
            for i, header in self.note_columns:
                if i < len(cells):
                    text = cell_text(cells[i]).strip()
                    if text and text.casefold() not in PLACEHOLDERS:
                        extra.append(f"{header}: {text}")
            if extra:
                values["note"] = "\n".join(filter(None, [values.get("note", ""), *extra]))
        self._names(row)
        return row

    def _names(self, row: Row) -> None:
        values = row.values
        first = values.pop("first_name", "")
        last = values.pop("last_name", "")
        full = values.pop("full_name", "")
        if not first and not last and full:
            first, last = split_full_name(full)
            first, last = fit_silently(first, 80), fit_silently(last, 80)
        if not first and last:
            first, last = last, ""  # a single name is kept as the first name
            row.name_moved = True
        if not first or not (first[0].isalpha() or any(ch.isalpha() for ch in first + last)):
            shown = " ".join(filter(None, [first, last]))
            row.error = (
                f"“{shown}” is not a name."
                if shown
                else "No name: a client needs a first or last name."
            )
        values["first_name"], values["last_name"] = first, last
        if values.get("other_phone") and values.get("other_phone") == values.get("mobile_phone"):
            del values["other_phone"]
        if "note" in values:
            values["note"] = values["note"][:5000]


def fit_silently(text: str, max_length: int) -> str:
    return text[:max_length].rstrip() if max_length else text


# What `Plan.prepare` makes of one cell: nothing (_SKIP), a problem, or the value.
_SKIP = object()
_MISS = object()
# Files repeat the same cities, genders, yes/no and names: each column remembers what its
# first few thousand short cells became. Only for kinds whose result depends on nothing but
# the cell and the plan (not "archived": it reads the clock; not birthdays: two-digit years
# read the clock, and they hardly repeat); "datetime" keeps only its successes, as a date in
# the future stops being one.
CACHED_KINDS = frozenset(
    {"name", "full_name", "text", "place", "postal_code", "gender", "country", "bool",
     "referral", "tags", "note"}
)  # fmt: skip
CACHE_SIZE = 4096
CACHE_KEY_LENGTH = 100


class _Problem:
    """A cell's warning, as `Row.problems` holds it."""

    __slots__ = ("problem",)

    def __init__(self, problem: tuple[str, str, str, str]) -> None:
        self.problem = problem


def _step(column: Column) -> tuple:
    """One column as `Plan.prepare` reads it, with its cache of cells already read."""
    kind, key = column.field.kind, column.field.key
    # None: only the empty cell is remembered; True/False: whether warnings are too.
    keep_drops = True if kind in CACHED_KINDS else False if kind == "datetime" else None
    cache: dict[str, Any] = {"": _SKIP}
    return (column.index, column, NORMALISERS[kind], key, column.field.combine, cache,
            key == "full_name", keep_drops)  # fmt: skip


def _read(
    plan: Plan, column: Column, normalise: Callable[[Plan, Column, Any], Any], raw: Any
) -> Any:
    if raw.__class__ is str:
        raw = raw.strip()
        if not raw or raw.casefold() in PLACEHOLDERS:
            return _SKIP
        if raw[0] == "'" and len(raw) > 1 and (raw[1] in FORMULA_START or raw[1].isdigit()):
            raw = raw[1:]  # the apostrophe a spreadsheet (or our export) put in front
    elif raw is None or raw == "":
        return _SKIP
    try:
        value = normalise(plan, column, raw)
    except Dropped as dropped:
        return _Problem(
            (ImportProblemLevel.WARNING, column.header, cell_text(raw)[:200],
             f"{dropped} The value was left out.")
        )  # fmt: skip
    if value is None or value == "" or value == []:
        return _SKIP
    return value


def _text(plan: Plan, column: Column, raw: Any) -> str:
    return fit(clean_text(cell_text(raw)), column.field.max_length, column.header)


def _name(plan: Plan, column: Column, raw: Any) -> str:
    text = clean_text(cell_text(raw))
    return fit(fix_case(text) if plan.fix_case else text, column.field.max_length, column.header)


def _place(plan: Plan, column: Column, raw: Any) -> str:
    return _name(plan, column, raw)


def _postal_code(plan: Plan, column: Column, raw: Any) -> str:
    text = _text(plan, column, raw)
    return text.upper() if plan.fix_case else text


def _email(plan: Plan, column: Column, raw: Any) -> str:
    return parse_email(cell_text(raw))


def _phone(plan: Plan, column: Column, raw: Any) -> str:
    return parse_phone_fast(cell_text(raw), plan.country)


def _birthday(plan: Plan, column: Column, raw: Any) -> tuple[int | None, int, int]:
    return parse_birthday(raw, column.order, plan.today)


def _gender(plan: Plan, column: Column, raw: Any) -> str:
    return parse_gender(cell_text(raw))


def _country(plan: Plan, column: Column, raw: Any) -> str:
    return parse_country(cell_text(raw))


def _bool(plan: Plan, column: Column, raw: Any) -> bool:
    return parse_bool(raw)


def _datetime(plan: Plan, column: Column, raw: Any) -> datetime.datetime:
    return parse_datetime(raw, column.order, plan.tz)


def _archived(plan: Plan, column: Column, raw: Any) -> datetime.datetime | None:
    try:
        return timezone.now() if parse_bool(raw) else None
    except Dropped:
        return parse_datetime(raw, column.order, plan.tz)


def _tags(plan: Plan, column: Column, raw: Any) -> list[str]:
    names = [clean_text(part) for part in cell_text(raw).replace(";", ",").split(",")]
    return [name[:40] for name in names if name and name.casefold() not in PLACEHOLDERS]


def _note(plan: Plan, column: Column, raw: Any) -> str:
    text = cell_text(raw).strip()
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@") else text


def _glamiti_id(plan: Plan, column: Column, raw: Any) -> int:
    text = cell_text(raw).strip()
    # isdecimal, not isdigit: int() refuses "²"; and no id has more than 18 digits.
    if not text.isdecimal() or len(text) > 18:
        raise Dropped(f"“{text[:40]}” is not a Glamiti client id.")
    return int(text)


NORMALISERS: dict[str, Callable[[Plan, Column, Any], Any]] = {
    "name": _name,
    "full_name": _name,
    "text": _text,
    "place": _place,
    "postal_code": _postal_code,
    "email": _email,
    "phone": _phone,
    "birthday": _birthday,
    "gender": _gender,
    "country": _country,
    "bool": _bool,
    "referral": _name,
    "tags": _tags,
    "datetime": _datetime,
    "archived": _archived,
    "note": _note,
    "glamiti_id": _glamiti_id,
}


def decide_date_orders(
    plan: Plan, rows: Iterator[tuple[int, list[Any]]], columns: list[Column]
) -> dict[str, str]:
    """Read the date columns until each one's 03/04 order is settled by a value like 25/04."""
    undecided = {c.index: c for c in columns}
    orders: dict[str, str] = {}
    for _, cells in rows:
        for index in list(undecided):
            if index < len(cells) and isinstance(cells[index], str):
                hint = date_order_hint(cells[index])
                if hint:
                    orders[str(index)] = hint
                    del undecided[index]
        if not undecided:
            break
    for index in undecided:
        orders[str(index)] = plan.default_order
    return orders


# --- Duplicates -----------------------------------------------------------------------------------


class KeyTable:
    """A set of 64-bit key hashes with a number each, in two flat arrays: a million rows
    need tens of megabytes here, where a dict of strings would need hundreds."""

    def __init__(self, expected: int) -> None:
        size = 1024
        while size < expected * 2:
            size *= 2
        self._reset(size)

    def _reset(self, size: int) -> None:
        self.size, self.mask, self.count = size, size - 1, 0
        self.keys = array("q", bytes(8 * size))
        self.values = array("q", bytes(8 * size))

    def get(self, key: int) -> int:
        keys, mask = self.keys, self.mask
        slot = key & mask
        while True:
            found = keys[slot]
            if found == key:
                return self.values[slot]
            if found == 0:
                return 0
            slot = (slot + 1) & mask

    def add(self, key: int, value: int) -> None:
        """Remember `key` → `value`, unless `key` is already there (the first one wins)."""
        keys, mask = self.keys, self.mask
        slot = key & mask
        while True:
            found = keys[slot]
            if found == key:
                return
            if found == 0:
                keys[slot] = key
                self.values[slot] = value
                self.count += 1
                if self.count * 2 > self.size:
                    self._grow()
                return
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old = [(k, v) for k, v in zip(self.keys, self.values, strict=True) if k]
        self._reset(self.size * 2)
        for key, value in old:
            self.add(key, value)


def _hash(kind: str, value: Any) -> int:
    return hash(f"{kind}\x00{value}") or 1


KEY_WORDS = {"e": "e-mail", "p": "phone", "i": "Glamiti ID"}


class Deduper:
    """Finds rows that repeat an earlier row of the file or an existing client."""

    def __init__(self, business: Business, expected: int, with_ids: bool) -> None:
        # Erased clients are placeholders: a row of a file must never fill them again.
        existing = business.clients.filter(merged_into__isnull=True, erased_at__isnull=True)
        self.table = KeyTable(expected * 2 + existing.count() * (3 if with_ids else 2))
        self.matched: set[int] = set()
        for pk, email, mobile, other in existing.values_list(
            "pk", "email", "mobile_phone", "other_phone"
        ).iterator(chunk_size=5000):
            for kind, value in (("e", email), ("p", mobile), ("p", other)):
                if value:
                    self.table.add(_hash(kind, value), -pk)
            if with_ids:
                self.table.add(_hash("i", pk), -pk)

    @staticmethod
    def keys(row: Row) -> list[tuple[str, int]]:
        values = row.values
        keys = []
        if values.get("glamiti_id"):
            keys.append(("i", _hash("i", values["glamiti_id"])))
        if values.get("email"):
            keys.append(("e", _hash("e", values["email"])))
        for name in ("mobile_phone", "other_phone"):
            if values.get(name):
                keys.append(("p", _hash("p", values[name])))
        return keys

    def classify(self, row: Row) -> None:
        if row.error:
            row.action = REJECTED
            return
        keys = self.keys(row)
        existing = earlier = 0
        existing_how = earlier_how = ""
        for kind, key in keys:
            found = self.table.get(key)
            if found < 0 and not existing:
                existing, existing_how = -found, kind
            elif found > 0 and not earlier:
                earlier, earlier_how = found, kind
        if existing and existing not in self.matched:
            self.matched.add(existing)
            row.action, row.client, row.reason = EXISTING, existing, existing_how
        elif earlier:
            row.action, row.earlier, row.reason = IN_FILE, earlier, earlier_how
        elif existing:  # a client that an earlier row of the file already matched
            row.action, row.client, row.reason = IN_FILE, existing, existing_how
        else:
            row.action = NEW
        for _, key in keys:
            self.table.add(key, row.number)


def duplicate_message(row: Row, names: dict[int, str], same_name: bool) -> str:
    what = KEY_WORDS.get(row.reason, "details")
    if what == "phone" and same_name:
        what = "name and phone"
    if row.action == EXISTING:
        return f"Same {what} as {names.get(row.client, 'a client')}, already in your client list."
    if row.earlier:
        return f"Same {what} as row {row.earlier}."
    name = names.get(row.client, "a client")
    return f"Same {what} as {name}, already in your client list and matched by an earlier row."


# --- Problems, preview rows and the rejected rows file --------------------------------------------


class Report:
    """Collects what the owner sees: counts, problems by row, the first rows, rejected rows."""

    def __init__(
        self, imp: ClientImport, business: Business, plan: Plan, *, store_problems: bool = True
    ) -> None:
        self.imp, self.business, self.plan = imp, business, plan
        self.store_problems = store_problems
        self.counts = {NEW: 0, EXISTING: 0, IN_FILE: 0, REJECTED: 0, "warnings": 0, "rows": 0}
        self.problems: list[ClientImportProblem] = []
        self.kept = 0
        self.preview: list[dict] = []
        self._raw = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._file = io.TextIOWrapper(self._raw, encoding="utf-8", newline="")
        self._file.write("\ufeff")  # so that Excel reads UTF-8
        self._writer = csv.writer(self._file)
        self._writer.writerow([*imp.headers, "Reason"])

    def add(self, rows: list[Row]) -> None:
        names = self._names(rows)
        for row in rows:
            self.counts["rows"] += 1
            self.counts[row.action] += 1
            problems = list(row.problems)
            self.counts["warnings"] += len(problems)
            if row.action == REJECTED:
                problems.append((ImportProblemLevel.ERROR, "", "", row.error))
                self._writer.writerow([neutralise(cell_text(c)) for c in row.cells] + [row.error])
            elif row.action in (EXISTING, IN_FILE):
                same = names.get(row.client, "").casefold() == _full(row.values).casefold()
                message = duplicate_message(row, names, same)
                problems.append((ImportProblemLevel.DUPLICATE, "", "", message))
            for level, column, value, message in problems:
                self.kept += 1
                if self.store_problems and self.kept <= PROBLEMS_KEPT:
                    self.problems.append(
                        ClientImportProblem(
                            business=self.business, client_import=self.imp, row=row.number,
                            column=column[:100], value=value[:200], message=message[:300],
                            level=level,
                        )
                    )  # fmt: skip
            if len(self.preview) < PREVIEW_ROWS:
                self.preview.append(self._preview_row(row, problems))
        if len(self.problems) >= 2000:
            self.flush()

    def _names(self, rows: list[Row]) -> dict[int, str]:
        ids = {r.client for r in rows if r.client}
        if not ids or not self.store_problems:  # the names only go into problems
            return {}
        found = self.business.clients.filter(pk__in=ids).values_list(
            "pk", "first_name", "last_name"
        )
        return {pk: f"{first} {last}".strip() for pk, first, last in found}

    def _preview_row(self, row: Row, problems: list) -> dict:
        values = {}
        for key, value in row.values.items():
            shown = display(key, value, self.plan.country)
            if shown:
                values[key] = shown
        return {
            "row": row.number,
            "action": row.action,
            "values": values,
            "problems": [message for _, _, _, message in problems],
        }

    def flush(self) -> None:
        ClientImportProblem.objects.bulk_create(self.problems)
        self.problems = []

    def save_rejected(self) -> str:
        self._file.flush()
        self._raw.seek(0)
        if not self.counts[REJECTED]:
            self.imp.rejected_file = ""
            return ""
        self.imp.rejected_file.save("rejected.csv", File(self._raw), save=False)
        return self.imp.rejected_file.name

    def close(self) -> None:
        self._file.close()


def _full(values: dict) -> str:
    return f"{values.get('first_name', '')} {values.get('last_name', '')}".strip()


def neutralise(value: str) -> str:
    """Stop spreadsheet programs from running a cell as a formula (CSV injection)."""
    return "'" + value if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def display(key: str, value: Any, country: str) -> str:
    """A normalised value as the preview shows it."""
    if key in ("mobile_phone", "other_phone"):
        return format_phone(value, country)
    if key == "birthday":
        year, month, day = value
        month_name = datetime.date(2000, month, 1).strftime("%B")
        return f"{day} {month_name}" + (f" {year}" if year else "")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if key == "gender":
        return str(dict(Gender.choices).get(value, value))
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


# --- Progress and job locks -----------------------------------------------------------------------


class Progress:
    """Writes rows done where the web pages can see it, throttled.

    Inside the import's transaction the job's own connection cannot publish anything, so on
    PostgreSQL a second connection does (with a short lock timeout: it must never wait).
    """

    def __init__(self, imp: ClientImport, *, separate: bool) -> None:
        self.pk = imp.pk
        self.tenant = str(imp.business_id)
        self.last = 0.0
        self.connection = None
        self.enabled = True
        if separate:
            if connection.vendor == "postgresql":
                self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
            else:
                self.enabled = False  # SQLite: one writer at a time; the bar jumps at the end

    def report(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self.last < PROGRESS_EVERY):
            return
        self.last = now
        stamp = timezone.now()
        if self.connection is None:
            ClientImport.objects.filter(pk=self.pk).update(rows_done=done, progress_at=stamp)
            return
        try:
            self.connection.ensure_connection()
            raw = self.connection.connection
            with raw.transaction(), raw.cursor() as cursor:
                # Its own short transaction, in the import's business (row-level security).
                cursor.execute("SELECT set_config(%s, %s, true)", [TENANT_SETTING, self.tenant])
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
                cursor.execute(
                    f"UPDATE {ClientImport._meta.db_table} SET rows_done = %s, progress_at = %s "  # noqa: S608
                    "WHERE id = %s",
                    [done, stamp, self.pk],
                )
        except (OperationalError, psycopg.Error):
            pass  # the row is locked by someone else for a moment: report next time

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


@contextlib.contextmanager
def job_lock(pk: int) -> Iterator[bool]:
    """Hold the import's advisory lock while its job runs (PostgreSQL; elsewhere a no-op).

    Yields False if another worker already holds it.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, pk % 2**31])
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, pk % 2**31])


def job_alive(pk: int) -> bool | None:
    """Whether a worker holds the import's lock; None where we cannot tell (SQLite)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, pk % 2**31])
        if not cursor.fetchone()[0]:
            return True
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, pk % 2**31])
    return False


# --- Writing --------------------------------------------------------------------------------------


def _insert(model: type[Model], attnames: list[str], rows: list[list[Any]], *,
            returning: bool, ignore_conflicts: bool = False) -> list[int]:  # fmt: skip
    """Insert rows of plain values in one statement; returns their ids if asked.

    PostgreSQL: INSERT … SELECT FROM unnest(arrays), a batched INSERT that is close to COPY
    in speed. Elsewhere: bulk_create.
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        fields = [_concrete(model, name) for name in attnames]
        casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        sql = (
            f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT * FROM unnest({casts})"
        )
        if ignore_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        if returning:
            sql += " RETURNING id"
        with connection.cursor() as cursor:
            cursor.execute(sql, [array_param(column) for column in zip(*rows, strict=True)])
            return [r[0] for r in cursor.fetchall()] if returning else []
    objects = [model(**dict(zip(attnames, row, strict=True))) for row in rows]
    model._base_manager.bulk_create(objects, ignore_conflicts=ignore_conflicts, batch_size=500)
    return [obj.pk for obj in objects] if returning else []


class CopyEncoder:
    """Encodes rows as COPY text with psycopg's own encoder (C in psycopg-binary), away from
    the connection: the reading thread encodes the next batch while the database works."""

    def __init__(self) -> None:
        from psycopg._copy_base import format_row_text  # what Copy.write_row uses
        from psycopg.adapt import Transformer

        self._format = format_row_text
        self._transformer = Transformer.from_context(connection.connection)

    def encode(self, rows: list[list[Any]], extras: list[tuple]) -> bytearray:
        buffer = bytearray()
        for order, (row, extra) in enumerate(zip(rows, extras, strict=True)):
            self._format([order, *row, *extra], self._transformer, buffer)
        return buffer


class Stage:
    """PostgreSQL: a temporary table of one batch's new clients, filled by COPY (rows encoded
    by a CopyEncoder), from which one INSERT … SELECT writes them (a plain INSERT, as
    row-level security would want: twice as fast as unnest() for a wide table), and the rows
    that hang off them are written without their ids leaving the database. Each staged
    client draws its id from the clients' own sequence as it is copied in."""

    NAME = "clients_import_stage"
    EXTRAS = (("import_tags", "text[]"), ("import_note", "text"))  # CopyEncoder's `extras`
    IDS = f"SELECT id FROM {NAME}"  # noqa: S608 - the staged clients' ids

    def __init__(self) -> None:
        self.ready = False
        quote = connection.ops.quote_name
        self.columns = ", ".join(quote(_concrete(Client, name).column) for name in CLIENT_COLUMNS)

    def fill(self, encoded: bytes) -> None:
        table = connection.ops.quote_name(Client._meta.db_table)
        with connection.cursor() as cursor:
            if not self.ready:
                # One import's transaction drops it at commit; a test's may hold several.
                cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{self.NAME}")
                cursor.execute(
                    f"CREATE TEMP TABLE {self.NAME} ON COMMIT DROP AS "  # noqa: S608
                    f"SELECT 0 AS stage_order, {self.columns} FROM {table} WITH NO DATA"
                )
                cursor.execute(
                    "SELECT format('ALTER TABLE %%I ADD COLUMN id bigint "
                    "DEFAULT nextval(%%L::regclass)', %s, pg_get_serial_sequence(%s, 'id'))",
                    [self.NAME, table],
                )
                (add_id,) = cursor.fetchone()
                cursor.execute(add_id + "".join(f", ADD COLUMN {n} {t}" for n, t in self.EXTRAS))
                self.ready = True
            else:
                cursor.execute(f"TRUNCATE {self.NAME}")
            extras = ", ".join(name for name, _ in self.EXTRAS)
            with cursor.cursor.copy(
                f"COPY {self.NAME} (stage_order, {self.columns}, {extras}) FROM STDIN"
            ) as copy:
                copy.write(encoded)
            cursor.execute(
                f"INSERT INTO {table} (id, {self.columns}) "  # noqa: S608
                f"SELECT id, {self.columns} FROM {self.NAME} ORDER BY stage_order"
            )


def _imported_tables() -> list[str]:
    """The tables an import writes row by row."""
    from audit.models import AuditEntry

    return [m._meta.db_table for m in (Client, ClientTag, ClientNote, ConsentRecord, AuditEntry)]


def _concrete(model: type[Model], attname: str) -> Any:
    for f in model._meta.concrete_fields:
        if f.attname == attname:
            return f
    raise LookupError(attname)


def _stage_extras(row: Row, tag_names: dict[str, str]) -> tuple[list[str] | None, str | None]:
    """A new client's Stage.EXTRAS: its tags' folded names (each name first written is
    noted in `tag_names`) and its note."""
    tags = None
    if row.values.get("tags"):
        tags = []
        for name in row.values["tags"]:
            key = fold(name)
            tag_names.setdefault(key, name)
            if key not in tags:
                tags.append(key)
    return tags, row.values.get("note") or None


CLIENT_COLUMNS = [f.attname for f in Client._meta.concrete_fields if not f.primary_key]
CLIENT_INDEX = {name: i for i, name in enumerate(CLIENT_COLUMNS)}
CONSENT_FIELDS = [(channel, f"{channel}_marketing") for channel in CONSENT_CHANNELS]
# Fields an import may set on an existing client ("update with the file's non-empty values").
UPDATABLE = (
    "first_name", "last_name", "email", "mobile_phone", "other_phone", "gender", "pronouns",
    "address_line1", "address_line2", "city", "region", "postal_code", "country",
    "is_blocked", "blocked_reason", "alert", "external_id", "referral_source_id",
)  # fmt: skip


class Writer:
    """Writes batches of classified rows: creates, updates, tags, notes, and the change
    records that undo reads."""

    def __init__(self, imp: ClientImport, business: Business, tag: Tag, by_id: int | None) -> None:
        self.imp, self.business, self.tag, self.by_id = imp, business, tag, by_id
        self.mode = imp.duplicate_mode
        self.now = timezone.now()
        self.created = self.updated = 0
        self.defaults = [
            f.get_default() if not f.primary_key else None
            for f in Client._meta.concrete_fields
            if not f.primary_key
        ]
        self.defaults[CLIENT_INDEX["business_id"]] = business.pk
        self.defaults[CLIENT_INDEX["created_by_id"]] = by_id
        self.defaults[CLIENT_INDEX["created_at"]] = self.now
        self.defaults[CLIENT_INDEX["updated_at"]] = self.now
        self.sources = {
            fold(s.name): s.pk for s in ReferralSource.objects.filter(business=business)
        }
        self.tags = {fold(t.name): t.pk for t in Tag.objects.filter(business=business)}
        self.new_sources: list[int] = []
        self.new_tags: list[int] = []
        postgresql = connection.vendor == "postgresql"
        self.encoder = CopyEncoder() if postgresql else None
        self.stage = Stage() if postgresql else None

    def prepare(self, rows: list[Row]) -> Staged:
        """What a batch will write, worked out without the database: safe in the reading
        thread, so that the writing thread only waits for PostgreSQL."""
        staged = Staged(rows)
        for row in rows:
            if row.action == NEW or (
                row.action in (EXISTING, IN_FILE) and self.mode == DuplicateMode.CREATE
            ):
                staged.creates.append(row)
            elif row.action == EXISTING and self.mode == DuplicateMode.UPDATE:
                staged.updates.append(row)
        referral = CLIENT_INDEX["referral_source_id"]
        staged.data = data = [self._columns(row) for row in staged.creates]
        staged.new_sources = [
            (index, row.values["referral_source"])
            for index, row in enumerate(staged.creates)
            if data[index][referral] is None and row.values.get("referral_source")
        ]
        if self.stage is not None:
            staged.extras = [_stage_extras(row, staged.tag_names) for row in staged.creates]
            if data and not staged.new_sources:
                staged.encoded = self.encoder.encode(data, staged.extras)
        else:
            for index, row in enumerate(staged.creates):
                for channel, consent_field in CONSENT_FIELDS:
                    if row.values.get(consent_field):
                        staged.consents.append((index, channel))
        return staged

    def write(self, staged: Staged) -> None:
        referral = CLIENT_INDEX["referral_source_id"]
        for index, name in staged.new_sources:
            staged.data[index][referral] = self._source(name)
        if self.stage is not None:
            ids, notes = [], self._create_staged(staged)
        else:
            ids, notes = self._create_portably(staged)
        updated = self._update(staged.updates)
        self._record_consent(ids, staged, updated)
        update_pairs = [(row.client, self.tag.pk) for row in updated]
        update_notes = []
        for row in updated:
            update_pairs += [(row.client, self._tag(name)) for name in row.values.get("tags", ())]
            if row.values.get("note"):
                update_notes.append((row.client, row.values["note"]))
        b = self.business.pk
        added_tags = _insert(ClientTag, ["business_id", "client_id", "tag_id"],
                             [[b, c, t] for c, t in dict.fromkeys(update_pairs)], returning=True,
                             ignore_conflicts=True) if connection.vendor == "postgresql" else (
            self._tag_updated_portably(update_pairs))  # fmt: skip
        notes += self._add_notes(update_notes)
        changes = [
            (ClientImportChange.Kind.CREATED, ids, {}),
            (ClientImportChange.Kind.NOTES, [pk for pk, _ in notes], {}),
            (ClientImportChange.Kind.CLIENT_TAGS, added_tags, {}),
        ]
        previous = {str(row.client): row.previous for row in updated}
        if previous:
            changes.append((ClientImportChange.Kind.UPDATED, [], previous))
        ClientImportChange.objects.bulk_create(
            ClientImportChange(business=self.business, client_import=self.imp, kind=kind,
                               ids=changed, previous=before)
            for kind, changed, before in changes if changed or before
        )  # fmt: skip
        self.created += len(staged.creates)
        self.updated += len(updated)
        staged_ids = self.stage is not None and bool(staged.creates)
        audit_imports.batch_written(
            self, created=ids, created_sql=Stage.IDS if staged_ids else None, updated=updated,
            notes=notes, added_tags=added_tags,
        )  # fmt: skip

    def _create_staged(self, staged: Staged) -> list[tuple[int, int]]:
        """PostgreSQL: the batch's new clients through the stage, then from it, by the
        database alone, their import tag and file tags, consent records, notes and the
        record of their ids for undo. Returns the notes' (id, client id)."""
        if not staged.creates:
            return []
        self.stage.fill(staged.encoded or self.encoder.encode(staged.data, staged.extras))
        quote = connection.ops.quote_name
        stage, b = Stage.NAME, self.business.pk
        client_tags = quote(ClientTag._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {client_tags} (business_id, client_id, tag_id) "  # noqa: S608
                f"SELECT %s, id, %s FROM {stage} ORDER BY stage_order",
                [b, self.tag.pk],
            )
            if staged.tag_names:
                keys = list(staged.tag_names)
                tag_ids = [self._tag(staged.tag_names[key]) for key in keys]
                cursor.execute(
                    f"INSERT INTO {client_tags} (business_id, client_id, tag_id) "  # noqa: S608
                    f"SELECT %s, s.id, m.tag_id FROM {stage} s "
                    "CROSS JOIN unnest(s.import_tags) AS n(name) "
                    "JOIN unnest(%s::text[], %s::bigint[]) AS m(name, tag_id) ON m.name = n.name "
                    "WHERE m.tag_id <> %s ORDER BY s.stage_order",
                    [b, array_param(keys), array_param(tag_ids), self.tag.pk],
                )
            consent_record_given_from(business_id=b, clients_sql=stage,
                                      source=ConsentSource.IMPORT, by_id=self.by_id,
                                      client_import_id=self.imp.pk, now=self.now)  # fmt: skip
            cursor.execute(
                f"INSERT INTO {quote(ClientNote._meta.db_table)} (business_id, client_id, kind, "  # noqa: S608
                "text, is_pinned, created_by_id, created_at, updated_at, updated_by_id) "
                f"SELECT %s, id, %s, import_note, false, %s, %s, %s, NULL FROM {stage} "
                "WHERE import_note IS NOT NULL ORDER BY stage_order RETURNING id, client_id",
                [b, NoteKind.INTERNAL, self.by_id, self.now, self.now],
            )
            notes = cursor.fetchall()
            cursor.execute(
                f"INSERT INTO {quote(ClientImportChange._meta.db_table)} "  # noqa: S608
                "(business_id, client_import_id, kind, ids, previous) "
                f"SELECT %s, %s, %s, jsonb_agg(id ORDER BY stage_order), '{{}}' FROM {stage}",
                [b, self.imp.pk, ClientImportChange.Kind.CREATED],
            )
        return notes

    def _create_portably(self, staged: Staged) -> tuple[list[int], list[tuple[int, int]]]:
        """Not PostgreSQL: the batch's new clients, their tags and notes, through the ORM's
        bulk_create. Returns the clients' ids and the notes' (id, client id)."""
        if not staged.creates:
            return [], []
        ids = _insert(Client, CLIENT_COLUMNS, staged.data, returning=True)
        # bulk_create stamps created_at itself; put back the dates the file gave.
        for pk, row in zip(ids, staged.creates, strict=True):
            if row.values.get("client_since"):
                Client._base_manager.filter(pk=pk).update(created_at=row.values["client_since"])
        tag_pairs = [(pk, self.tag.pk) for pk in ids]
        notes = []
        for pk, row in zip(ids, staged.creates, strict=True):
            tag_pairs += [(pk, self._tag(name)) for name in row.values.get("tags", ())]
            if row.values.get("note"):
                notes.append((pk, row.values["note"]))
        b = self.business.pk
        _insert(ClientTag, ["business_id", "client_id", "tag_id"],
                [[b, c, t] for c, t in dict.fromkeys(tag_pairs)], returning=False)  # fmt: skip
        return ids, self._add_notes(notes)

    def _add_notes(self, notes: list[tuple[int, str]]) -> list[tuple[int, int]]:
        """Internal notes, given as (client id, text); returns their (id, client id)."""
        b = self.business.pk
        note_ids = _insert(
            ClientNote,
            ["business_id", "client_id", "kind", "text", "is_pinned", "created_by_id",
             "created_at", "updated_at", "updated_by_id"],
            [[b, c, NoteKind.INTERNAL, text, False, self.by_id, self.now, self.now, None]
             for c, text in notes],
            returning=True,
        )  # fmt: skip
        return [(pk, client) for pk, (client, _) in zip(note_ids, notes, strict=True)]

    def _record_consent(self, ids: list[int], staged: Staged, updated: list[Row]) -> None:
        """Unverified consent records for the answers this batch gave or changed, in one
        INSERT for the batch (clients/consent.py); on PostgreSQL, the new clients' answers
        were recorded from the stage."""
        answers = [ConsentAnswer(ids[index], channel, True) for index, channel in staged.consents]
        answers += [ConsentAnswer(row.client, channel, row.previous[field][1])
                    for row in updated
                    for channel, field in CONSENT_FIELDS if field in row.previous]  # fmt: skip
        consent_record_bulk(business_id=self.business.pk, answers=answers,
                            source=ConsentSource.IMPORT, by_id=self.by_id,
                            client_import_id=self.imp.pk, now=self.now)  # fmt: skip

    def finish(self) -> None:
        ClientImportChange.objects.bulk_create(
            ClientImportChange(business=self.business, client_import=self.imp, kind=kind, ids=ids)
            for kind, ids in ((ClientImportChange.Kind.TAGS, self.new_tags),
                              (ClientImportChange.Kind.SOURCES, self.new_sources)) if ids
        )  # fmt: skip

    def _tag_updated_portably(self, pairs: list[tuple[int, int]]) -> list[int]:
        wanted = dict.fromkeys(pairs)
        have = set(
            ClientTag.objects.filter(
                business=self.business, client_id__in={c for c, _ in wanted}
            ).values_list("client_id", "tag_id")
        )
        new = [
            ClientTag(business=self.business, client_id=c, tag_id=t)
            for c, t in wanted
            if (c, t) not in have
        ]
        ClientTag.objects.bulk_create(new)
        return [t.pk for t in new]

    def _tag(self, name: str) -> int:
        key = fold(name)
        if key not in self.tags:
            tag = Tag.objects.create(business=self.business, name=name)
            self.tags[key] = tag.pk
            self.new_tags.append(tag.pk)
        return self.tags[key]

    def _source(self, name: str) -> int:
        key = fold(name)
        if key not in self.sources:
            source = ReferralSource.objects.create(business=self.business, name=name)
            self.sources[key] = source.pk
            self.new_sources.append(source.pk)
        return self.sources[key]

    def _columns(self, row: Row) -> list[Any]:
        """The row's client columns, in CLIENT_COLUMNS order; a referral source that is not
        in the database yet is left empty here (`prepare` lists it for `write`)."""
        values = row.values
        data = self.defaults.copy()
        put = CLIENT_INDEX.__getitem__
        first, last = values["first_name"], values["last_name"]
        email = values.get("email", "")
        mobile, other = values.get("mobile_phone", ""), values.get("other_phone", "")
        data[put("first_name")] = first
        data[put("last_name")] = last
        data[put("email")] = email
        data[put("mobile_phone")] = mobile
        data[put("other_phone")] = other
        data[put("search_text")], data[put("phone_digits")] = row.derived or derived_columns(values)
        for key, value in values.items():
            if key in SIMPLE_COLUMNS:
                data[put(key)] = value
        if "birthday" in values:
            year, month, day = values["birthday"]
            data[put("birth_year")], data[put("birth_month")], data[put("birth_day")] = (
                year,
                month,
                day,
            )
        for channel in ("email", "sms"):
            if values.get(f"{channel}_marketing"):
                data[put(f"{channel}_marketing")] = True
                data[put(f"{channel}_marketing_at")] = self.now
                data[put(f"{channel}_marketing_source")] = ConsentSource.IMPORT
        if not values.get("is_blocked"):
            data[put("is_blocked")], data[put("blocked_reason")] = False, ""
        if values.get("referral_source"):
            data[put("referral_source_id")] = self.sources.get(fold(values["referral_source"]))
        if values.get("client_since"):
            data[put("created_at")] = values["client_since"]
        if values.get("archived"):
            data[put("archived_at")] = values["archived"]
        return data

    def _update(self, rows: list[Row]) -> list[Row]:
        if not rows:
            return []
        clients = Client._base_manager.select_for_update().in_bulk([r.client for r in rows])
        changed_rows, changed_clients, fields = (
            [],
            [],
            {"updated_at", "search_text", "phone_digits", "email"},
        )
        for row in rows:
            client = clients.get(row.client)
            if client is None or client.business_id != self.business.pk:
                continue
            before = self._apply(client, row)
            if before:
                row.previous = before
                client.updated_at = self.now
                client.refresh_derived_fields()
                changed_rows.append(row)
                changed_clients.append(client)
                fields.update(before)
        if changed_clients:
            Client._base_manager.bulk_update(changed_clients, sorted(fields), batch_size=500)
        return changed_rows

    def _apply(self, client: Client, row: Row) -> dict[str, list]:
        return apply_row(client, row, now=self.now, source=self._source, new=False)


def apply_row(
    client: Client, row: Row, *, now: datetime.datetime, source: Callable[[str], int], new: bool
) -> dict[str, list]:
    """Set a row's non-empty values on a client; returns {attname: [before, after]}.

    The import's update path and the admin's django-import-export resource both use this.
    """
    values = row.values
    wanted: dict[str, Any] = {}
    for key in UPDATABLE:
        if key == "referral_source_id":
            if values.get("referral_source"):
                wanted[key] = source(values["referral_source"])
        elif key in ("first_name", "last_name"):
            if new or (values.get(key) and not row.name_moved):
                wanted[key] = values[key]
        elif key == "is_blocked":
            if "is_blocked" in values:
                wanted[key] = values["is_blocked"]
                if not values["is_blocked"]:
                    wanted["blocked_reason"] = ""
        elif values.get(key) and key not in wanted:
            wanted[key] = values[key]
    if "birthday" in values:
        year, month, day = values["birthday"]
        wanted.update(birth_day=day, birth_month=month)
        if year or new:
            wanted["birth_year"] = year
    for channel in ("email", "sms"):
        name = f"{channel}_marketing"
        if name in values and values[name] != getattr(client, name):
            wanted.update({name: values[name], f"{name}_at": now,
                           f"{name}_source": ConsentSource.IMPORT})  # fmt: skip
    if new and values.get("client_since"):
        wanted["created_at"] = values["client_since"]
    if new and values.get("archived"):
        wanted["archived_at"] = values["archived"]
    before = {}
    for attname, value in wanted.items():
        current = getattr(client, attname)
        if current != value:
            before[attname] = [_json(current), _json(value)]
            setattr(client, attname, value)
    return before


SIMPLE_COLUMNS = frozenset(
    {"gender", "pronouns", "address_line1", "address_line2", "city", "region", "postal_code",
     "country", "is_blocked", "blocked_reason", "alert", "external_id"}
)  # fmt: skip


def _json(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _from_json(attname: str, value: Any) -> Any:
    field = _concrete(Client, attname)
    if value is not None and field.get_internal_type() == "DateTimeField":
        return datetime.datetime.fromisoformat(value)
    return value


# --- The jobs -------------------------------------------------------------------------------------


def _rows(imp: ClientImport, path: Path) -> Iterator[tuple[int, list[Any]]]:
    info = FileInfo(
        kind=imp.file_kind,
        headers=imp.headers,
        header_row=imp.header_row,
        encoding=imp.encoding,
        delimiter=imp.delimiter,
        sheet_name=imp.sheet_name,
    )
    return iter_rows(path, info)


Rows = Callable[[], Iterator[tuple[int, list[Any]]]]


@contextlib.contextmanager
def _file_rows(imp: ClientImport, *, save_cells: bool = False) -> Iterator[Rows]:
    """The import's rows below its header, to read as many times as needed: a spreadsheet's
    from the cells the check saved (with `save_cells`, the check saves them first), so that
    an import parses its sheet once; a CSV's, or a sheet's without saved cells, from the file."""
    readable = _saved_cells_readable(imp)
    if save_cells and imp.file_kind == "xlsx" and not readable:
        unreadable = imp.cells_file.name
        with local_copy(imp.file.name) as path, tempfile.TemporaryFile() as saved:
            write_cells(_rows(imp, path), saved)
            saved.seek(0)
            # The caller saves; if it fails, _job deletes the file its rollback forgot.
            imp.cells_file.save("cells.jsonl.gz", File(saved), save=False)
        readable = True
        if unreadable:
            default_storage.delete(unreadable)
    if readable:

        def saved_rows() -> Iterator[tuple[int, list[Any]]]:
            with default_storage.open(imp.cells_file.name, "rb") as handle:
                yield from read_cells(handle)

        yield saved_rows
        return
    with local_copy(imp.file.name) as path:
        yield lambda: _rows(imp, path)


def _saved_cells_readable(imp: ClientImport) -> bool:
    if not imp.cells_file:
        return False
    try:
        with default_storage.open(imp.cells_file.name, "rb") as handle:
            return cells_readable(handle)
    except OSError:  # gone from the storage: the file is read instead
        return False


def _batches(plan: Plan, rows: Rows, *, derive: bool = False) -> Iterator[list[Row]]:
    """Batches of prepared rows; with `derive`, also each row's search columns (the import
    job computes them here, in the reading thread)."""
    batch: list[Row] = []
    count = 0
    # A small first batch: the database starts writing after tens of rows read, not thousands.
    size = min(FIRST_BATCH_SIZE, BATCH_SIZE)
    for number, cells in rows():
        first = cells[0] if cells else None
        if not (first.__class__ is str and first.strip()) and not any(
            c not in ("", None) and (c.__class__ is not str or c.strip()) for c in cells
        ):
            continue  # empty line
        count += 1
        if count > MAX_ROWS:
            raise ImportFileError(
                f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
            )
        row = plan.prepare(number, cells)
        if derive and not row.error:
            row.derived = derived_columns(row.values)
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
            size = BATCH_SIZE
    if batch:
        yield batch


def _staged(
    batches: Iterator[list[Row]], deduper: Deduper, report: Report, writer: Writer
) -> Iterator[Staged]:
    """Batches classified, counted and made ready to write, in file order (no database)."""
    for batch in batches:
        for row in batch:
            deduper.classify(row)
        report.add(batch)
        yield writer.prepare(batch)


def _prefetch(batches: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Read, normalise and prepare the next batches in a thread while this one writes: the
    database's time and Python's overlap (psycopg lets go of the GIL while it waits)."""
    done = object()
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    # This thread comes back from PostgreSQL several times a batch and must then wait for
    # the reading thread to let go of the GIL: at the default 5 ms that waiting took a
    # quarter of the import's time; and while both threads run, its own Python work takes
    # turns with the reader's. 0.1 ms measured faster than 0.5 ms (-0.45 s per 100k rows)
    # and than 0.05 ms. (One import job at a time runs in a worker process.)
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                queue.put(batch)
            queue.put(done)
        except BaseException as error:  # handed over to the consumer, raised there
            queue.put(error)

    thread = threading.Thread(target=produce, name="import-reader", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(Empty):
                queue.get_nowait()
            thread.join(0.05)
        sys.setswitchinterval(switch_interval)


def _start(imp: ClientImport, status: str) -> None:
    imp.status = status
    imp.job_started_at = imp.progress_at = timezone.now()
    imp.rows_done = 0
    imp.error = ""
    imp.failed_step = ""
    fields = ["status", "job_started_at", "progress_at", "rows_done", "error", "failed_step"]
    if status == ImportStatus.RUNNING:
        imp.started_at = imp.job_started_at
        fields.append("started_at")
    imp.save(update_fields=fields)


def _fail(imp: ClientImport, step: str, error: BaseException) -> None:
    if isinstance(error, ImportFileError | ImportError_):
        message = str(error)
    elif _connection_lost(error):
        logger.exception("Client import %s lost its database connection while %s", imp.pk, step)
        message = "The connection to the database was lost."
    else:
        logger.exception("Client import %s failed while %s", imp.pk, step)
        message = f"Something went wrong ({type(error).__name__})."
    what = {"analyse": "", "import": " Nothing was imported: you can try again.",
            "undo": " Nothing was undone: you can try again."}[step]  # fmt: skip
    imp.refresh_from_db()
    imp.status = ImportStatus.DONE if step == "undo" else ImportStatus.FAILED
    imp.failed_step = step
    imp.error = (message + what).strip()
    imp.job_started_at = None
    imp.finished_at = timezone.now() if step != "undo" else imp.finished_at
    imp.save(update_fields=["status", "failed_step", "error", "job_started_at", "finished_at"])


def _connection_lost(error: BaseException) -> bool:
    """Whether `error` means the job's database connection went away (a server restart, a
    terminated session, the network), not that a statement failed."""
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    state = getattr(error.__cause__, "sqlstate", None)
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


def _job(
    imp: ClientImport,
    *,
    waiting: str,
    running: str,
    step: str,
    work: Callable[[ClientImport, Progress], None],
) -> bool:
    """One background step of an import, in three tenant transactions: claim it (its lock and
    the status it waits in) and show it started; do the work (all or nothing); or record why
    it failed. Returns whether the work was done."""
    business = imp.business
    with job_lock(imp.pk) as got:
        with tenant_context(business):
            imp.refresh_from_db()
            if not got or imp.status != waiting:
                return False
            _start(imp, running)
        progress = Progress(imp, separate=True)
        files = _files_of(imp)
        try:
            with tenant_context(business):
                work(imp, progress)
        except Exception as error:
            # Files the work saved for the import, which its rollback has just forgotten.
            for name in _files_of(imp) - files:
                default_storage.delete(name)
            with tenant_context(business):
                _fail(imp, step, error)
            return False
        finally:
            progress.close()
    return True


def import_analyse(imp: ClientImport) -> None:
    """The dry run behind the preview: every row read, normalised, validated and matched;
    counts, problems, the first rows and the rejected rows file saved; no client written."""
    _job(imp, waiting=ImportStatus.MAPPED, running=ImportStatus.MAPPED, step="analyse",
         work=_analyse)  # fmt: skip


def _analyse(imp: ClientImport, progress: Progress) -> None:
    business = imp.business
    imp.problems.all().delete()
    plan = Plan.of(imp)
    with _file_rows(imp, save_cells=True) as rows:
        date_columns = plan.date_columns()
        if date_columns:
            imp.options["date_orders"] = decide_date_orders(plan, rows(), date_columns)
            plan = Plan.of(imp)
        deduper = Deduper(business, imp.rows_total, with_ids="glamiti_id" in plan.keys)
        report = Report(imp, business, plan)
        try:
            for batch in _batches(plan, rows):
                for row in batch:
                    deduper.classify(row)
                report.add(batch)
                progress.report(report.counts["rows"])
            report.flush()
            _replace_rejected_file(imp, report)
        finally:
            report.close()
    counts = report.counts
    counts["problems_kept"] = min(report.kept, PROBLEMS_KEPT)
    counts["problems"] = report.kept
    imp.counts = counts
    imp.preview_rows = report.preview
    imp.rows_total = counts["rows"]
    imp.rows_done = counts["rows"]
    imp.status = ImportStatus.PREVIEWED
    imp.analysed_at = timezone.now()
    imp.job_started_at = None
    imp.save()


def import_run(imp: ClientImport) -> None:
    """The import job: everything in one transaction, or nothing."""
    done = _job(imp, waiting=ImportStatus.QUEUED, running=ImportStatus.RUNNING, step="import",
                work=_run)  # fmt: skip
    if done:
        _clean_gin_pending_lists()  # once committed


def _import_tag(imp: ClientImport, business: Business) -> Tag:
    stamp = timezone.localdate().isoformat()
    base = f"Import {stamp} {imp.file_name}"[:36].rstrip()
    name, n = base, 1
    while Tag.objects.filter(business=business, name__iexact=name).exists():
        n += 1
        name = f"{base[:33]} ({n})"
    return Tag.objects.create(business=business, name=name, color=IMPORT_TAG_COLOR)


def _run(imp: ClientImport, progress: Progress) -> None:
    business = imp.business
    with transaction.atomic():
        _tune_import_transaction()
        imp.changes.all().delete()
        plan = Plan.of(imp)
        tag = _import_tag(imp, business)
        writer = Writer(imp, business, tag, imp.created_by_id)
        report = Report(imp, business, plan, store_problems=False)  # the preview has them
        done = 0
        try:
            with _file_rows(imp) as rows:
                deduper = Deduper(business, imp.rows_total, with_ids="glamiti_id" in plan.keys)
                batches = _batches(plan, rows, derive=True)
                for staged in _prefetch(_staged(batches, deduper, report, writer)):
                    writer.write(staged)
                    done += len(staged.rows)
                    after_batch(imp, done)
                    progress.report(done)
            writer.finish()
            _replace_rejected_file(imp, report)
        finally:
            report.close()
        counts = report.counts
        mode = imp.duplicate_mode
        skipped = counts[IN_FILE] + (counts[EXISTING] if mode == DuplicateMode.SKIP else 0)
        imp.counts = {
            **imp.counts,
            "rows": counts["rows"],
            "created": writer.created,
            "updated": writer.updated,
            "skipped": 0 if mode == DuplicateMode.CREATE else skipped,
            "unchanged": counts[EXISTING] - writer.updated if mode == DuplicateMode.UPDATE else 0,
            "rejected": counts[REJECTED],
            "warnings": counts["warnings"],
        }
        if not writer.created and not writer.updated:
            tag.delete()
            tag = None
        imp.tag = tag
        imp.rows_total = imp.rows_done = counts["rows"]
        if imp.cells_file:  # no longer needed: a copy of the file's personal data
            transaction.on_commit(partial(default_storage.delete, imp.cells_file.name))
            imp.cells_file = ""
        imp.status = ImportStatus.DONE
        imp.finished_at = timezone.now()
        imp.job_started_at = None
        imp.save()


def _files_of(imp: ClientImport) -> set[str]:
    """The names of the files a job may save for the import (the upload itself is never
    replaced)."""
    return {name for name in (imp.rejected_file.name, imp.cells_file.name) if name}


def _replace_rejected_file(imp: ClientImport, report: Report) -> None:
    """Save the rejected rows file; the one it replaces is deleted once the job's transaction
    has committed: until then, a failure would leave the import pointing at it."""
    old = imp.rejected_file.name
    report.save_rejected()
    if old and old != imp.rejected_file.name:
        transaction.on_commit(partial(default_storage.delete, old))


def _tune_import_transaction() -> None:
    """PostgreSQL, for the import's transaction: the client table's GIN (trigram search)
    indexes collect its entries in their pending lists, merged in bulk once committed
    (_clean_gin_pending_lists), instead of every 4 MB (a third more rows per second); and
    which foreign keys are checked batch by batch rather than at commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL gin_pending_list_limit = '64MB'")
            # Foreign keys are checked as each batch is written, overlapping the reading
            # thread, rather than all at commit, where they are safe to plan early: those to
            # tables outside the tenants' (the business, users, content types: only the
            # primary key can serve), and those to tenant tables whose statistics already
            # show many rows. A same-business key (business_id, x_id) planned at the first
            # batch into a table whose statistics say it is empty picks an index that leads
            # with the business and scans it for every row: an import of 100,000 rows into
            # a new database never ended. Deferred, it is planned at commit, with the rows.
            cursor.execute(
                "SELECT string_agg(format('%%I', c.conname), ', ') FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.confrelid "
                "WHERE c.contype = 'f' AND c.condeferrable "
                "AND c.conrelid = ANY(%s::regclass[]) AND (t.reltuples >= %s "
                "OR NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.confrelid "
                "AND a.attname = 'business_id' AND NOT a.attisdropped))",
                [_imported_tables(), KNOWN_TABLE_ROWS],
            )
            (names,) = cursor.fetchone()
            if names:
                cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")


def _clean_gin_pending_lists() -> None:
    if connection.vendor != "postgresql":
        return
    # The import is committed: a failure here (the app's role may not own the indexes) must
    # not mark it failed, nor spoil a transaction around it (autovacuum cleans up instead).
    with contextlib.suppress(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT gin_clean_pending_list(c.oid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE i.indrelid = %s::regclass AND a.amname = 'gin'",
            [Client._meta.db_table],
        )


def after_batch(imp: ClientImport, done: int) -> None:
    """Called after each batch is written (inside the transaction); tests make it fail."""


def _related_rows(ids: list[int], skip_notes: set[int],
                  import_id: int | None = None) -> dict[int, str]:  # fmt: skip
    """Of `ids`, the clients that gained something since the import: {id: what}."""
    from clients.merge import _client_foreign_keys

    found: dict[int, str] = {}
    for key in _client_foreign_keys():
        model = key.model
        if model in (ClientTag,) or (model is Client and key.name == "referred_by"):
            continue
        what = str(model._meta.verbose_name_plural)
        for start in range(0, len(ids), 5000):
            rows = model._base_manager.filter(**{f"{key.name}__in": ids[start : start + 5000]})
            if model is ClientNote:
                rows = rows.exclude(pk__in=skip_notes)
            elif model is ConsentRecord:  # the answers the import itself recorded
                rows = rows.exclude(client_import_id=import_id)
            for pk in rows.order_by().values_list(key.attname, flat=True).distinct():
                found.setdefault(pk, what)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        merges = ClientMerge._base_manager.filter(Q(kept__in=chunk) | Q(merged__in=chunk))
        mine = set(chunk)
        for pair in merges.values_list("kept_id", "merged_id"):
            for pk in pair:
                if pk in mine:
                    found.setdefault(pk, "a merge")
    return found


def import_undo(imp: ClientImport, by: User | None = None) -> None:
    """Undo an import: delete the clients it created (except those that gained appointments,
    sales, notes… since), revert the fields it changed unless edited since, remove its tags."""
    _job(imp, waiting=ImportStatus.UNDOING, running=ImportStatus.UNDOING, step="undo",
         work=_undo)  # fmt: skip


def _undo(imp: ClientImport, progress: Progress) -> None:
    business = imp.business
    # The audit trail records the undo in bulk below, not row by row as it deletes.
    with transaction.atomic(), disable_auditlog():
        changes = list(imp.changes.all())
        ids_of = lambda kind: [pk for c in changes if c.kind == kind for pk in c.ids]  # noqa: E731
        created = ids_of(ClientImportChange.Kind.CREATED)
        notes = set(ids_of(ClientImportChange.Kind.NOTES))
        previous: dict[str, dict] = {}
        for change in changes:
            if change.kind == ClientImportChange.Kind.UPDATED:
                previous.update(change.previous)
        kept = _related_rows(created, notes, imp.pk)
        removable = [pk for pk in created if pk not in kept]
        done = 0
        for start in range(0, len(removable), BATCH_SIZE):
            chunk = removable[start : start + BATCH_SIZE]
            Client._base_manager.filter(business=business, pk__in=chunk).delete()
            done += len(chunk)
            progress.report(done)
        # The notes it added to clients that stay (updated, or kept above) go too.
        ClientNote._base_manager.filter(business=business, pk__in=notes).exclude(
            client_id__in=list(kept)
        ).delete()
        ClientTag._base_manager.filter(
            business=business, pk__in=ids_of(ClientImportChange.Kind.CLIENT_TAGS)
        ).delete()
        consent: list[ConsentAnswer] = []
        reverted = _revert(business, previous, consent)
        audit_imports.undone(imp, removed=removable, previous=previous, by_id=imp.undone_by_id)
        # An answer put back is a change of answer too: recorded, never erased.
        consent_record_bulk(business_id=business.pk, answers=consent,
                            source=ConsentSource.IMPORT_UNDO, by_id=imp.undone_by_id,
                            client_import_id=imp.pk)  # fmt: skip
        done += len(previous)
        progress.report(done, force=True)
        for tag_pk in [imp.tag_id, *ids_of(ClientImportChange.Kind.TAGS)]:
            if tag_pk and not ClientTag._base_manager.filter(tag_id=tag_pk).exists():
                Tag._base_manager.filter(business=business, pk=tag_pk).delete()
        for source_pk in ids_of(ClientImportChange.Kind.SOURCES):
            if not Client._base_manager.filter(referral_source_id=source_pk).exists():
                ReferralSource._base_manager.filter(business=business, pk=source_pk).delete()
        stay = Client._base_manager.filter(pk__in=list(kept)[:200])
        names = {
            pk: f"{first} {last}".strip()
            for pk, first, last in stay.values_list("pk", "first_name", "last_name")
        }
        imp.undo_summary = {
            "removed": len(removable),
            "reverted": reverted,
            "kept_count": len(kept),
            "kept": [
                {"id": pk, "name": names.get(pk, ""), "why": why}
                for pk, why in list(kept.items())[:200]
            ],  # fmt: skip
        }
        imp.refresh_from_db(fields=["tag"])
        imp.status = ImportStatus.UNDONE
        imp.undone_at = timezone.now()
        imp.job_started_at = None
        imp.save()


def _revert(business: Business, previous: dict[str, dict],
            consent: list[ConsentAnswer] | None = None) -> int:  # fmt: skip
    """Put back fields the import changed, unless they were edited since. Returns how many
    clients changed back; adds to `consent` the consent answers put back."""
    reverted = 0
    pks = [int(pk) for pk in previous]
    for start in range(0, len(pks), BATCH_SIZE):
        chunk = Client._base_manager.filter(
            business=business, pk__in=pks[start : start + BATCH_SIZE]
        )
        changed, fields = [], {"updated_at", "search_text", "phone_digits", "email"}
        for client in chunk:
            touched = set()
            for attname, (before, after) in previous[str(client.pk)].items():
                if _json(getattr(client, attname)) == after:
                    setattr(client, attname, _from_json(attname, before))
                    fields.add(attname)
                    touched.add(attname)
            if consent is not None:
                consent += [ConsentAnswer(client.pk, channel, getattr(client, field),
                                          getattr(client, f"{field}_source") != "import")
                            for channel, field in CONSENT_FIELDS if field in touched]  # fmt: skip
            if touched:
                client.updated_at = timezone.now()
                client.refresh_derived_fields()
                changed.append(client)
        Client._base_manager.bulk_update(changed, sorted(fields), batch_size=500)
        reverted += len(changed)
    return reverted


# --- Services (web side) --------------------------------------------------------------------------


def _enqueue(task_name: str, imp: ClientImport) -> None:
    from clients import tasks

    getattr(tasks, task_name).enqueue(imp.business_id, imp.pk)


def client_import_upload(
    *, business: Business, by: User | None, upload: UploadedFile
) -> ClientImport:
    """Check an uploaded file and store it as a new import; raises ImportFileError (and
    stores nothing) if it cannot be imported."""
    if upload.size and upload.size > MAX_BYTES:
        raise ImportFileError("The file is larger than 50 MB. Split it into smaller files.")
    with tempfile.NamedTemporaryFile(suffix=".upload") as temporary:
        for chunk in upload.chunks():
            temporary.write(chunk)
        temporary.flush()
        info = sniff(Path(temporary.name))
        from clients.imports_fields import detect_vendor, propose_mapping

        vendor = detect_vendor(info.headers)
        imp = ClientImport(
            business=business, created_by=by, file_name=(upload.name or "clients")[:255],
            file_kind=info.kind, file_size=upload.size or 0, encoding=info.encoding,
            delimiter=info.delimiter, sheet_name=info.sheet_name, header_row=info.header_row,
            headers=info.headers, vendor=vendor, mapping=propose_mapping(info.headers, vendor),
            rows_total=info.rows_estimate,
            options={"samples": info.samples, "keep_unmapped": False},
        )  # fmt: skip
        temporary.seek(0)
        imp.file.save(f"upload.{info.kind}", File(temporary), save=False)
    imp.save()
    return imp


def client_import_map(*, imp: ClientImport, mapping: list[str], keep_unmapped: bool,
                      duplicate_mode: str) -> None:  # fmt: skip
    """Save the column mapping and start checking every row (the analysis job)."""
    with transaction.atomic():
        imp = ClientImport.objects.select_for_update().get(pk=imp.pk)
        if imp.status not in (ImportStatus.UPLOADED, ImportStatus.PREVIEWED, ImportStatus.MAPPED,
                              ImportStatus.FAILED):  # fmt: skip
            raise ImportError_("This import has already run; its mapping can't change.")
        if imp.status == ImportStatus.MAPPED and imp.job_started_at and job_alive(imp.pk):
            raise ImportError_("The file is being checked right now; try again in a moment.")
        imp.mapping = mapping
        imp.options = {**imp.options, "keep_unmapped": keep_unmapped}
        imp.options.pop("date_orders", None)
        imp.duplicate_mode = duplicate_mode
        imp.status = ImportStatus.MAPPED
        imp.error = imp.failed_step = ""
        imp.rows_done = 0
        imp.job_started_at = None
        imp.counts = {}
        imp.preview_rows = []
        imp.save()
    _enqueue("analyse_client_import", imp)


def client_import_set_mode(*, imp: ClientImport, duplicate_mode: str) -> None:
    if imp.status != ImportStatus.PREVIEWED:
        raise ImportError_("This import has already started.")
    imp.duplicate_mode = duplicate_mode
    imp.save(update_fields=["duplicate_mode"])


def client_import_confirm(*, imp: ClientImport) -> None:
    """Queue the import job (after the preview; or again after a failure)."""
    with transaction.atomic():
        imp = ClientImport.objects.select_for_update().get(pk=imp.pk)
        if imp.status == ImportStatus.FAILED and imp.failed_step == "analyse":
            imp.status = ImportStatus.MAPPED
            imp.error = imp.failed_step = ""
            imp.save(update_fields=["status", "error", "failed_step"])
            task = "analyse_client_import"
        elif imp.status in (ImportStatus.PREVIEWED, ImportStatus.FAILED):
            imp.status = ImportStatus.QUEUED
            imp.error = imp.failed_step = ""
            imp.rows_done = 0
            imp.queued_at = timezone.now()
            imp.job_started_at = None
            imp.save(update_fields=["status", "error", "failed_step", "rows_done", "queued_at",
                                    "job_started_at"])  # fmt: skip
            task = "run_client_import"
        else:
            raise ImportError_("This import is not waiting to be confirmed.")
    _enqueue(task, imp)


def client_import_undo(*, imp: ClientImport, by: User | None) -> None:
    with transaction.atomic():
        imp = ClientImport.objects.select_for_update().get(pk=imp.pk)
        if imp.status != ImportStatus.DONE:
            raise ImportError_("Only a finished import can be undone.")
        imp.status = ImportStatus.UNDOING
        imp.undone_by = by
        imp.error = imp.failed_step = ""
        imp.rows_done = 0
        imp.job_started_at = None
        imp.save(update_fields=["status", "undone_by", "error", "failed_step", "rows_done",
                                "job_started_at"])  # fmt: skip
    _enqueue("undo_client_import", imp)


def client_import_discard(*, imp: ClientImport) -> None:
    """Forget an import that never ran: its stored files and its row."""
    if imp.status not in (ImportStatus.UPLOADED, ImportStatus.MAPPED, ImportStatus.PREVIEWED,
                          ImportStatus.FAILED):  # fmt: skip
        raise ImportError_("This import has run; undo it instead.")
    if job_alive(imp.pk):
        raise ImportError_("The file is being checked right now; try again in a moment.")
    for stored in (imp.file, imp.rejected_file, imp.cells_file):
        if stored:
            stored.delete(save=False)
    imp.delete()


def client_import_recover(imp: ClientImport) -> bool:
    """If the job of `imp` died (its worker was killed), say so on the import. Returns True
    if it changed anything. Nothing of a killed import job remains: its transaction was
    rolled back with its connection."""
    if not imp.job_started_at or imp.status not in (
        ImportStatus.MAPPED, ImportStatus.RUNNING, ImportStatus.UNDOING
    ):  # fmt: skip
        return False
    alive = job_alive(imp.pk)
    if alive is None:
        last = imp.progress_at or imp.job_started_at
        alive = timezone.now() - last < STALE_WITHOUT_LOCKS
    if alive:
        return False
    step = {ImportStatus.MAPPED: "analyse", ImportStatus.RUNNING: "import",
            ImportStatus.UNDOING: "undo"}[imp.status]  # fmt: skip
    _fail(imp, step, ImportError_("The background worker stopped before the job finished."))
    return True
