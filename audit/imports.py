"""Imports in the audit trail, written in bulk.

The import writes up to a million clients with COPY and INSERT … SELECT: no model is saved,
so no signal fires. Each batch instead adds its entries with one INSERT … SELECT per kind
(PostgreSQL: from unnest(…) of arrays, or for the new clients from the import's stage table;
`bulk_create` elsewhere), source "import", event "imported", and the import's id and file
name in `additional_data`:
- a created client: one entry, no values (the client row holds them, and every later change
  is recorded old → new, so the import's values can always be told);
- an updated client: its changes, old → new, as the import recorded them for undo;
- a note added: one entry on its client;
- a tag put on an updated client: one entry on that client.
Undoing an import records, in bulk too, the clients it deleted and the fields it put back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from audit.context import Event, Source
from audit.recording import enabled
from glamiti.pgarray import array_param


def _field_name(model: Any, attname: str) -> str:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field.name
    return attname


def _insert(
    *,
    business_id: int,
    model: Any,
    rows: Iterable[tuple[int, int, dict | None]],
    action: int,
    event: str,
    actor_id: int | None,
    extra: dict,
    repr_sql: str = "''",
    rows_sql: str | None = None,
) -> None:
    """One entry per (object id, client id, changes) row; PostgreSQL can instead take the
    rows from `rows_sql`, a query giving those three columns."""
    from audit.models import AuditEntry

    rows = list(rows)
    if not rows and rows_sql is None:
        return
    content_type = ContentType.objects.get_for_model(model)
    now = timezone.now()
    if connection.vendor != "postgresql":
        AuditEntry.objects.bulk_create(
            AuditEntry(
                business_id=business_id,
                client_id=client_id,
                content_type=content_type,
                object_pk=str(object_id),
                object_id=object_id,
                object_repr="",
                action=action,
                changes=changes,
                actor_id=actor_id,
                source=Source.IMPORT,
                event=event,
                timestamp=now,
                additional_data=extra,
            )
            for object_id, client_id, changes in rows
        )
        return
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    sql = (
        f"INSERT INTO {table} (business_id, client_id, content_type_id, object_pk, object_id, "  # noqa: S608
        "object_repr, action, changes, changes_text, actor_id, source, event, values_erased, "
        "timestamp, additional_data) "
        f"SELECT %s, r.client_id, %s, r.object_id::text, r.object_id, {repr_sql}, %s, "
        "r.changes, '', %s, %s, %s, false, %s, %s::jsonb "
    )
    common = [business_id, content_type.pk, action, actor_id, Source.IMPORT, event, now,
              json.dumps(extra)]  # fmt: skip
    if rows_sql is not None:
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} FROM ({rows_sql}) AS r(object_id, client_id, changes)", common)
        return
    sql += (
        "FROM unnest(%s::bigint[], %s::bigint[], %s::jsonb[]) AS r(object_id, client_id, changes)"
    )
    object_ids, client_ids, changes = [], [], []
    for object_id, client_id, change in rows:
        object_ids.append(object_id)
        client_ids.append(client_id)
        changes.append(None if change is None else json.dumps(change, default=str))
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [*common, array_param(object_ids), array_param(client_ids), array_param(changes)],
        )


def batch_written(
    writer: Any,
    *,
    created: list[int],
    created_sql: str | None = None,
    updated: list[Any],
    notes: list[tuple[int, int]],
    added_tags: list[int],
) -> None:
    """Record one batch the import's Writer has just written (inside its transaction): the
    clients it created (`created`, or on PostgreSQL `created_sql`, a query of their ids), the
    updated rows, the (note id, client id) of the notes it added, and the client tags it put
    on updated clients."""
    from audit.models import AuditEntry
    from clients.models import Client, ClientNote, ClientTag

    if not enabled():
        return
    imp = writer.imp
    common = {
        "business_id": writer.business.pk,
        "event": Event.IMPORTED,
        "actor_id": writer.by_id,
        "extra": {"import": imp.pk, "file": imp.file_name},
    }
    create, update = AuditEntry.Action.CREATE, AuditEntry.Action.UPDATE
    _insert(
        model=Client,
        rows=((pk, pk, None) for pk in created),
        rows_sql=(
            f"SELECT id, id, NULL::jsonb FROM ({created_sql}) AS c(id)"  # noqa: S608
            if created_sql and connection.vendor == "postgresql"
            else None
        ),
        action=create,
        **common,
    )
    _insert(
        model=Client,
        rows=(
            (row.client, row.client, {_field_name(Client, a): v for a, v in row.previous.items()})
            for row in updated
        ),
        action=update,
        **common,
    )
    _insert(
        model=ClientNote,
        rows=((pk, client_id, None) for pk, client_id in notes),
        action=create,
        **common,
    )
    if added_tags:
        pairs = ClientTag._base_manager.filter(pk__in=added_tags).values_list(
            "pk", "client_id", "tag__name"
        )
        _insert(
            model=ClientTag,
            rows=((pk, client_id, {"tag": [None, name]}) for pk, client_id, name in pairs),
            action=create,
            **common,
        )


def undone(imp: Any, *, removed: list[int], previous: dict[str, dict], by_id: int | None) -> None:
    """Record an undo: the clients it deleted, and the fields it put back (those whose value
    is now the one from before the import)."""
    from audit.models import AuditEntry
    from clients.models import Client

    common = {
        "business_id": imp.business_id,
        "event": Event.IMPORT_UNDONE,
        "actor_id": by_id,
        "extra": {"import": imp.pk, "file": imp.file_name},
    }
    _insert(
        model=Client,
        rows=((pk, pk, None) for pk in removed),
        action=AuditEntry.Action.DELETE,
        **common,
    )
    if not previous:
        return
    put_back = []
    pks = [int(pk) for pk in previous]
    for start in range(0, len(pks), 5000):
        chunk = Client._base_manager.filter(pk__in=pks[start : start + 5000])
        for client in chunk:
            back = {}
            for attname, (before, after) in previous[str(client.pk)].items():
                now = getattr(client, attname)
                now = now.isoformat() if hasattr(now, "isoformat") else now
                if now == before and before != after:
                    back[_field_name(Client, attname)] = [after, before]
            if back:
                put_back.append((client.pk, client.pk, back))
    _insert(model=Client, rows=put_back, action=AuditEntry.Action.UPDATE, **common)
