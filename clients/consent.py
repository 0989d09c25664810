"""Marketing consent: each client's current answer per channel, and its history.

The client's `<channel>_marketing`, `_at` and `_source` columns hold the latest answer, so
that the list can filter a million clients on it with an index. Every change of that answer
also adds a `ConsentRecord` — when, how (form, import, admin…), who recorded it and the
wording that was put to the client — and records are only ever added: a client who changes
their mind gets a new record, never an edited one.

Answers that came from a file are kept as *unverified*: nobody here saw the client agree.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone

from clients.models import Client, ConsentChannel, ConsentRecord, ConsentSource
from glamiti.models import User
from glamiti.pgarray import array_param

CHANNELS = ("email", "sms")

# The words put to the client, by version. A version is never edited once used: records
# keep the text as it was shown. To change the wording, add a version and point
# CURRENT_WORDING at it.
CONSENT_WORDING: dict[str, dict[str, str]] = {
    "2026-12": {
        "email": "May we send you offers and news by e-mail? You can change your mind at any time.",
        "sms": "May we send you offers and news by text message? "
        "You can change your mind at any time.",
    },
}
CURRENT_WORDING = "2026-12"

BULK_CHUNK = 50_000  # answers per statement

# How many records the profile shows; a client rarely has more.
HISTORY_SHOWN = 50


def wording(channel: str, version: str = CURRENT_WORDING) -> str:
    return CONSENT_WORDING[version][channel]


def _field(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"Unknown consent channel {channel!r}")
    return f"{channel}_marketing"


def consent_set(
    client: Client,
    channel: str,
    given: bool,
    *,
    was: bool | None,
    source: str,
    at: datetime.datetime | None = None,
) -> bool:
    """Put a new answer on `client` (not saved): the answer, its time and its source.

    `was` is the answer stored before (None for a new client). An unchanged answer changes
    nothing and keeps its original time. Returns True if the answer changed, in which case
    the caller saves the client and then calls `consent_record` for the channel.
    """
    field = _field(channel)
    if was is not None and bool(was) == bool(given):
        return False
    if was is None and not given:
        return False  # a new client who said no has nothing to record yet
    setattr(client, field, bool(given))
    setattr(client, f"{field}_at", at or timezone.now())
    setattr(client, f"{field}_source", source)
    return True


def consent_record(
    client: Client,
    channels: list[str] | tuple[str, ...],
    *,
    by: User | None,
    wording_version: str = CURRENT_WORDING,
) -> list[ConsentRecord]:
    """Add a record of the client's current answer (as saved) on each of `channels`."""
    records = []
    for channel in channels:
        field = _field(channel)
        source = getattr(client, f"{field}_source") or ConsentSource.FORM
        shown = source in (ConsentSource.FORM, ConsentSource.CLIENT_LINK) and wording_version
        records.append(
            ConsentRecord(
                business_id=client.business_id,
                client=client,
                channel=channel,
                given=getattr(client, field),
                recorded_at=getattr(client, f"{field}_at") or timezone.now(),
                source=source,
                wording_version=wording_version if shown else "",
                wording=wording(channel, wording_version) if shown else "",
                verified=source != ConsentSource.IMPORT,
                recorded_by=by,
            )
        )
    # The base manager: the admin writes outside any scope (the rows name their business).
    return ConsentRecord._base_manager.bulk_create(records)


def changed_channels(before: dict[str, Any]) -> list[str]:
    """The channels whose answer a set of changes {attname: …} touched."""
    return [c for c in CHANNELS if _field(c) in before or f"{_field(c)}_at" in before]


# --- Bulk: imports ----------------------------------------------------------------------------

# One INSERT … SELECT FROM unnest(arrays) for a whole batch: no row passes through the ORM, and
# no read of the clients (whose planner statistics are stale while an import fills them).
_BULK_SQL = """
INSERT INTO {table}
    (business_id, client_id, channel, given, verified, recorded_at, source, wording_version,
     wording, client_import_id, recorded_by_id)
SELECT %(business)s, answer.client_id, answer.channel, answer.given, answer.verified,
       %(now)s, %(source)s, '', '', %(import)s, %(by)s
FROM {answers}
"""
_ARRAY_ANSWERS = """unnest(%(clients)s::bigint[], %(channels)s::varchar[], %(given)s::boolean[],
            %(verified)s::boolean[]) AS answer (client_id, channel, given, verified)"""


class Answer(NamedTuple):
    """One client's new answer on one channel, as a bulk writer just stored it (a tuple: an
    import makes one for every answer in the file)."""

    client_id: int
    channel: str
    given: bool
    verified: bool = False


def consent_record_bulk(
    *,
    business_id: int,
    answers: list[Answer],
    source: str,
    by_id: int | None,
    client_import_id: int | None = None,
    now: datetime.datetime | None = None,
) -> int:
    """Record many answers at once (imports, import undo), all as of `now`, in one statement
    per BULK_CHUNK answers. Returns how many records were written."""
    now = now or timezone.now()
    for channel in {answer.channel for answer in answers}:
        _field(channel)  # refuse an unknown channel before writing anything
    for start in range(0, len(answers), BULK_CHUNK):
        chunk = answers[start : start + BULK_CHUNK]
        if connection.vendor != "postgresql":
            ConsentRecord._base_manager.bulk_create(
                [
                    ConsentRecord(
                        business_id=business_id,
                        client_id=a.client_id,
                        channel=a.channel,
                        given=a.given,
                        verified=a.verified,
                        recorded_at=now,
                        source=source,
                        client_import_id=client_import_id,
                        recorded_by_id=by_id,
                    )  # fmt: skip
                    for a in chunk
                ],
                batch_size=500,
            )
            continue
        table = connection.ops.quote_name(ConsentRecord._meta.db_table)
        params = {
            "business": business_id,
            "now": now,
            "source": source,
            "import": client_import_id,
            "by": by_id,
            "clients": array_param([a.client_id for a in chunk]),
            "channels": array_param([a.channel for a in chunk]),
            "given": array_param([a.given for a in chunk]),
            "verified": array_param([a.verified for a in chunk]),
        }
        with connection.cursor() as cursor:
            cursor.execute(_BULK_SQL.format(table=table, answers=_ARRAY_ANSWERS), params)
    return len(answers)


def consent_record_given_from(
    *,
    business_id: int,
    clients_sql: str,
    source: str,
    by_id: int | None,
    client_import_id: int | None,
    now: datetime.datetime,
) -> None:
    """PostgreSQL: record a given, unverified answer on every channel that a row of
    `clients_sql` (a table with new clients' `id` and `<channel>_marketing` columns) says yes
    to, in one statement: an import's new clients, whose ids never leave the database."""
    answers = " UNION ALL ".join(
        f"SELECT c.id, '{channel}', true, false FROM {clients_sql} c WHERE c.{_field(channel)}"  # noqa: S608
        for channel in CHANNELS
    )
    table = connection.ops.quote_name(ConsentRecord._meta.db_table)
    sql = _BULK_SQL.format(
        table=table, answers=f"({answers}) AS answer (client_id, channel, given, verified)"
    )
    params = {"business": business_id, "now": now, "source": source,
              "import": client_import_id, "by": by_id}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- Reading: the profile ---------------------------------------------------------------------


@dataclass
class ChannelState:
    channel: str
    label: str
    given: bool
    at: datetime.datetime | None
    source: str
    source_label: str

    @property
    def unverified(self) -> bool:
        return self.source == ConsentSource.IMPORT


@dataclass
class ConsentHistory:
    current: list[ChannelState]
    records: list[ConsentRecord]
    more: bool


def consent_history(client: Client) -> ConsentHistory:
    """The client's current answers and their records, newest first (one query)."""
    labels = dict(ConsentChannel.choices)
    sources = dict(ConsentSource.choices)
    current = []
    for channel in CHANNELS:
        field = _field(channel)
        source = getattr(client, f"{field}_source")
        current.append(
            ChannelState(
                channel=channel,
                label=labels[channel],
                given=getattr(client, field),
                at=getattr(client, f"{field}_at"),
                source=source,
                source_label=sources.get(source, ""),
            )
        )
    records = list(
        client.consent_records.select_related("recorded_by", "client_import").order_by(
            "-recorded_at", "-id"
        )[: HISTORY_SHOWN + 1]
    )
    return ConsentHistory(
        current=current, records=records[:HISTORY_SHOWN], more=len(records) > HISTORY_SHOWN
    )
