"""A client's activity log, worded for people: one page of entries, newest first.

Reads are bounded whatever the history's length: the page of entries (with who made them),
the names of the referral sources and clients the page's changes point at, and — for an
owner, who may revert — the newest entry per client field. Values are shown as they were
recorded; an erased client's entries show that the values were removed.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit.context import Event, Source
from audit.models import AuditEntry
from audit.registry import client_data_models
from audit.services import REVERTIBLE
from clients.merge import LABELS as MERGE_LABELS
from clients.models import (
    Client,
    ClientDocument,
    ClientNote,
    ClientTag,
    ConsentSource,
    DocumentKind,
    Gender,
    NoteKind,
    ReferralSource,
)
from clients.profile_common import ProfilePage, page_of

CLIENT_LABELS = {
    **MERGE_LABELS,
    "archived_at": "Archived",
    "merged_into": "Merged into",
    "created_by": "Added by",
}
NOTE_LABELS = {"kind": "Kind", "text": "Text", "is_pinned": "Pinned"}
DOCUMENT_LABELS = {
    "kind": "Kind",
    "title": "Title",
    "original_name": "File name",
    "content_type": "File type",
    "size": "Size",
}
CHOICES = {
    "gender": dict(Gender.choices),
    "email_marketing_source": dict(ConsentSource.choices),
    "sms_marketing_source": dict(ConsentSource.choices),
}
SOURCE_LABELS = dict(Source.choices)
EMPTY = "—"
ERASED = "removed at erasure"


@dataclass
class Change:
    field: str
    label: str
    old: str
    new: str
    can_revert: bool = False


@dataclass
class ActivityItem:
    entry: AuditEntry
    title: str
    who: str
    when: datetime.datetime
    source: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""


def client_activity(client: Client, number: int, *, can_revert: bool) -> ProfilePage:
    """Page `number` of `client`'s activity (its fields, notes, documents, tags, merges,
    imports, erasure), newest first."""
    kinds = [ContentType.objects.get_for_model(m).pk for m in client_data_models()]
    kinds.append(ContentType.objects.get_for_model(_merge_model()).pk)
    entries = (
        AuditEntry.objects.filter(client_id=client.pk, content_type_id__in=kinds)
        .select_related("actor")
        .order_by("-timestamp", "-id")
    )
    page = page_of(entries, number)
    latest = _latest_per_field(client) if can_revert else {}
    page.object_list = describe_entries(page.object_list, client, latest)
    return page


def _merge_model():
    from clients.models import ClientMerge

    return ClientMerge


def _latest_per_field(client: Client) -> dict[str, int]:
    """{client field: id of the newest entry that changed it} — one query."""
    client_type = ContentType.objects.get_for_model(Client).pk
    rows = AuditEntry.objects.filter(
        client_id=client.pk, content_type_id=client_type, object_id=client.pk
    )
    if connection.vendor == "postgresql":
        table = AuditEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT ON (key) key, id FROM {table}, "  # noqa: S608
                "LATERAL jsonb_object_keys(CASE WHEN jsonb_typeof(changes) = 'object' "
                "THEN changes ELSE '{}'::jsonb END) AS key "
                "WHERE business_id = %s AND client_id = %s AND content_type_id = %s "
                "AND object_id = %s ORDER BY key, timestamp DESC, id DESC",
                [client.business_id, client.pk, client_type, client.pk],
            )
            return dict(cursor.fetchall())
    latest: dict[str, int] = {}
    for pk, changes in rows.order_by("timestamp", "id").values_list("pk", "changes"):
        for name in changes or {}:
            latest[name] = pk
    return latest


def _ids(entries: list[AuditEntry], names: tuple[str, ...]) -> set[int]:
    found = set()
    for entry in entries:
        for name in names:
            for value in (entry.changes or {}).get(name) or ():
                if isinstance(value, int):
                    found.add(value)
                elif isinstance(value, str) and value.isdigit():
                    found.add(int(value))
    return found


def describe_entries(
    entries: list[AuditEntry], client: Client, latest: dict[str, int]
) -> list[ActivityItem]:
    types = {
        ContentType.objects.get_for_model(m).pk: m
        for m in (Client, ClientNote, ClientDocument, ClientTag, _merge_model())
    }
    business = client.business
    source_ids = _ids(entries, ("referral_source",))
    client_ids = _ids(entries, ("referred_by", "merged_into", "merged"))
    sources = (
        dict(
            ReferralSource.objects.filter(business=business, pk__in=source_ids).values_list(
                "pk", "name"
            )
        )
        if source_ids
        else {}
    )
    names = {}
    if client_ids:
        for pk, first, last in Client.objects.filter(
            business=business, pk__in=client_ids
        ).values_list("pk", "first_name", "last_name"):
            names[pk] = f"{first} {last}".strip()
    looked_up = {
        "referral_source": sources,
        "referred_by": names,
        "merged_into": names,
        "merged": names,
    }
    labels = {Client: CLIENT_LABELS, ClientNote: NOTE_LABELS, ClientDocument: DOCUMENT_LABELS}
    items = []
    for entry in entries:
        model = types.get(entry.content_type_id)
        item = ActivityItem(
            entry=entry,
            title=_title(entry, model),
            who=_who(entry),
            when=timezone.localtime(entry.timestamp),
            source=SOURCE_LABELS.get(entry.source, entry.source),
        )
        order = list(labels.get(model, {}))
        for name, values in sorted(
            (entry.changes or {}).items(),
            key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0]),
        ):
            if model is ClientTag or (model is _merge_model()):
                continue  # the title says it all (the tag; who merged with whom)
            old, new = (values + [None, None])[:2] if isinstance(values, list) else (None, None)
            label = labels.get(model, {}).get(name, name.replace("_", " ").capitalize())
            change = Change(
                field=name,
                label=label,
                old=_shown(model, name, old, entry, looked_up),
                new=_shown(model, name, new, entry, looked_up),
            )
            change.can_revert = (
                model is Client
                and entry.action == AuditEntry.Action.UPDATE
                and name in REVERTIBLE
                and not entry.values_erased
                and latest.get(name) == entry.pk
            )
            item.changes.append(change)
        if model is _merge_model():
            item.title, item.note = _merge_words(entry, names)
        items.append(item)
    return items


def _who(entry: AuditEntry) -> str:
    if entry.actor is None:
        return "No one (automatic)" if entry.source != Source.WEB else "Someone since removed"
    return entry.actor.get_full_name() or entry.actor.get_username()


ACTION_WORDS = {
    Client: ("Client added", "Client details changed", "Client deleted"),
    ClientNote: ("Note added", "Note changed", "Note deleted"),
    ClientDocument: ("Document attached", "Document changed", "Document deleted"),
    ClientTag: ("Tag added", "Tag changed", "Tag removed"),
}


def _title(entry: AuditEntry, model: Any) -> str:
    if entry.event == Event.ERASED and model is Client and not entry.changes:
        return "Client erased"
    if model is Client and entry.event == Event.REVERTED:
        return "Change reverted"
    words = ACTION_WORDS.get(model)
    if words is None:
        return "Change"
    title = words[min(entry.action, 2)]
    if model is ClientTag:
        name = entry.object_repr or _tag_from_changes(entry)
        if name and not entry.values_erased:
            title = f"{title}: {name}"
    if entry.event == Event.IMPORTED:
        file = (entry.additional_data or {}).get("file", "")
        title = {
            Client: "Client imported" if entry.action == 0 else "Client updated by an import",
        }.get(model, f"{words[0]} by an import")
        if file:
            title += f" ({file})"
    elif entry.event == Event.IMPORT_UNDONE:
        title = "Import undone" + (" — client removed" if entry.action == 2 else "")
    elif entry.event == Event.ERASED:
        title += " (erasure)"
    return title


def _tag_from_changes(entry: AuditEntry) -> str:
    values = (entry.changes or {}).get("tag") or [None, None]
    value = values[1] if values[1] is not None else values[0]
    return value if isinstance(value, str) else ""


def _merge_words(entry: AuditEntry, names: dict[int, str]) -> tuple[str, str]:
    changes = entry.changes or {}
    moved = (entry.additional_data or {}).get("moved") or {}
    note = ""
    if moved:
        note = "Moved: " + ", ".join(
            f"{count} {label.split('.')[1].replace('_', ' ')}" for label, count in moved.items()
        )
    undone = entry.event == Event.MERGE_UNDONE
    if "merged" in changes:
        other = next((v for v in changes["merged"] if v is not None), None)
        who = names.get(other, "a client") if not entry.values_erased else "a client"
        return (
            f"Merge of {who} into this client undone"
            if undone
            else f"{who} merged into this client"
        ), note
    other = next((v for v in changes.get("merged_into", []) if v is not None), None)
    who = names.get(other, "another client")
    return (f"Merge into {who} undone" if undone else f"Merged into {who}"), ""


def _shown(model: Any, name: str, value: Any, entry: AuditEntry, looked_up: dict) -> str:
    if entry.values_erased and value is None:
        return ERASED
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name in looked_up and model in (Client, _merge_model()):
        key = int(value) if isinstance(value, int | str) and str(value).isdigit() else value
        return looked_up[name].get(key, f"#{value} (since deleted)")
    if model is Client and name in CHOICES:
        return CHOICES[name].get(value, str(value))
    if model is ClientNote and name == "kind":
        return dict(NoteKind.choices).get(value, str(value))
    if model is ClientDocument and name == "kind":
        return dict(DocumentKind.choices).get(value, str(value))
    if model is Client and name == "photo":
        return "a photo"
    if model is Client and name == "birth_month" and isinstance(value, int) and 1 <= value <= 12:
        return datetime.date(2000, value, 1).strftime("%B")
    if isinstance(value, str) and (name.endswith("_at")):
        moment = parse_datetime(value)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, datetime.UTC)
            return f"{timezone.localtime(moment):%-d %b %Y, %H:%M}"
    return str(value)
