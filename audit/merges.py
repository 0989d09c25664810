"""Merges in the audit trail.

The fields a merge fills on the kept client and the archiving of the merged one are saves,
recorded like any other. What a save does not say — that a merge happened, with whom, and
what moved — is one entry on each client, written when the merge's own signal is sent
(inside its transaction). Values are ids and counts only: names are looked up when shown,
so an erased client's name never sits in another client's trail.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from audit.context import Event, current


def _entries(merge: Any, *, undone: bool) -> list:
    from audit.models import AuditEntry

    context = current()
    kind = ContentType.objects.get_for_model(type(merge))
    moved = {label: len(ids) for label, ids in (merge.moved or {}).items()}
    common = {
        "business_id": merge.business_id,
        "content_type": kind,
        "object_pk": str(merge.pk),
        "object_id": merge.pk,
        "object_repr": f"Merge #{merge.pk}",
        "action": AuditEntry.Action.UPDATE if undone else AuditEntry.Action.CREATE,
        "source": context.source,
        "actor_id": context.actor_id,
        "event": Event.MERGE_UNDONE if undone else Event.MERGED,
        "timestamp": timezone.now(),
        "additional_data": {"moved": moved, "filled": sorted(merge.filled_fields or {})},
    }
    kept, merged = merge.kept_id, merge.merged_id
    return [
        AuditEntry(
            client_id=kept,
            changes={"merged": [merged, None] if undone else [None, merged]},
            **common,
        ),
        AuditEntry(
            client_id=merged,
            changes={"merged_into": [kept, None] if undone else [None, kept]},
            **common,
        ),
    ]


def on_merge(sender: Any, merge: Any, **kwargs: Any) -> None:
    from audit.models import AuditEntry
    from audit.recording import enabled

    if enabled():
        AuditEntry.objects.bulk_create(_entries(merge, undone=False))


def on_merge_undone(sender: Any, merge: Any, **kwargs: Any) -> None:
    from audit.models import AuditEntry
    from audit.recording import enabled

    if enabled():
        AuditEntry.objects.bulk_create(_entries(merge, undone=True))


def connect() -> None:
    from clients.merge import client_merge_undone, client_merged

    client_merged.connect(on_merge, dispatch_uid="audit_merge")
    client_merge_undone.connect(on_merge_undone, dispatch_uid="audit_merge_undone")
