"""Writing entries for the paths auditlog's signals do not see: `bulk_create` and
`QuerySet.update` on tracked models (checkout's tips and payments, a voucher's balance, a
charge's status), through `AuditedQuerySet`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from auditlog.context import auditlog_disabled
from auditlog.diff import model_instance_diff
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from audit.registry import client_id_of, client_lookups, tracked


def enabled() -> bool:
    try:
        return not auditlog_disabled.get()
    except LookupError:
        return True


def _entry_model():
    from audit.models import AuditEntry

    return AuditEntry


def log_created(model: type[models.Model], objects: Iterable[models.Model], using: str) -> None:
    """Entries for rows `bulk_create` wrote (one INSERT for all of them)."""
    spec = tracked(model)
    if spec is None or not enabled():
        return
    entry_model = _entry_model()
    manager = entry_model.objects
    create = entry_model.Action.CREATE
    entries = []
    for obj in objects:
        if obj.pk is None:  # a row skipped by ignore_conflicts
            continue
        changes = model_instance_diff(None, obj, use_json_for_changes=True) or {}
        entries.append(_entry(obj, create, _trim(obj, changes, create)))
    if entries:
        manager.db_manager(using).bulk_create(entries)


def _trim(obj: models.Model, changes: dict, action: int) -> dict:
    from audit.models import trim_created_or_deleted

    return trim_created_or_deleted(obj, changes, action)


def _entry(obj: models.Model, action: int, changes: dict | None, **known: Any):
    """An unsaved entry about `obj`; `known` overrides what would otherwise be worked out
    from it (its client, its description), so that a half-read row costs no query."""
    from audit.registry import entry_fields

    entry_model = _entry_model()
    fields = {**entry_fields(obj, skip=set(known)), **known}
    return entry_model(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_pk=str(obj.pk),
        object_id=obj.pk if isinstance(obj.pk, int) else None,
        action=action,
        changes=changes or None,
        timestamp=timezone.now(),
        **fields,
    )


def log_update(
    queryset: models.QuerySet, values: dict[str, Any], update: Callable[..., int]
) -> int:
    """Run `update(**values)` on `queryset`, writing an entry per row whose tracked fields
    changed: their values are read before and after (two queries, in one transaction)."""
    model = queryset.model
    spec = tracked(model)
    if spec is None or not enabled():
        return update(**values)
    fields = [model._meta.get_field(name) for name in values]
    names = [f.name for f in fields if f.name in spec.include]
    if not names:
        return update(**values)
    attnames = [model._meta.get_field(n).attname for n in names]
    extra = [n for n in ("business_id", *client_lookups(spec)) if n not in attnames]
    with transaction.atomic(using=queryset.db):
        before = {row["pk"]: row for row in queryset.values("pk", *attnames, *extra)}
        count = update(**values)
        if not before:
            return count
        after = model._base_manager.using(queryset.db).filter(pk__in=list(before))
        entries = []
        for row in after.values("pk", *attnames):
            old = before[row["pk"]]
            old_obj = model(pk=row["pk"], **{a: old[a] for a in attnames})
            new_obj = model(pk=row["pk"], **{a: row[a] for a in attnames})
            changes = model_instance_diff(
                old_obj, new_obj, fields_to_check=names, use_json_for_changes=True
            )
            if not changes:
                continue
            new_obj.business_id = old["business_id"]
            client_id = next((old[k] for k in client_lookups(spec) if old.get(k) is not None), None)
            if "pk" in spec.client:
                client_id = row["pk"]
            entries.append(
                _entry(
                    new_obj,
                    _entry_model().Action.UPDATE,
                    changes,
                    client_id=client_id,
                    object_repr=f"{model._meta.verbose_name} #{row['pk']}",
                )
            )
        if entries:
            _entry_model().objects.db_manager(queryset.db).bulk_create(entries)
    return count


class AuditedQuerySet(models.QuerySet):
    """For tracked models written in bulk: `bulk_create` and `update` leave entries too
    (Django sends no signal for either). `_base_manager` stays a plain manager: paths that
    record themselves in bulk (the import, a merge's moves) use it."""

    def bulk_create(self, objs, *args: Any, **kwargs: Any):
        objs = super().bulk_create(objs, *args, **kwargs)
        log_created(self.model, objs, using=self.db)
        return objs

    def update(self, **kwargs: Any) -> int:
        return log_update(self, kwargs, super().update)


__all__ = ["AuditedQuerySet", "client_id_of", "log_created", "log_update"]
