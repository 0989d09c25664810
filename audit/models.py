"""The audit trail: one row per change to a client or to money.

Built on django-auditlog (its signal receivers, its field diff, its registry), with our own
entry model (`AUDITLOG_LOGENTRY_MODEL = "audit.AuditEntry"`) so that every entry is a tenant
row: it carries the business (row-level security, like every tenant table), the client it
is about (so one client's activity is one index range, and erasure can find it), where the
change came from and what kind of event it was. See audit/__init__.py for why this library.
"""

from __future__ import annotations

from typing import Any

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from audit.context import Event, Source
from glamiti.models import business_key


class AuditEntryQuerySet(models.QuerySet):
    def for_client(self, client_id: int) -> AuditEntryQuerySet:
        return self.filter(client_id=client_id)

    def newest_first(self) -> AuditEntryQuerySet:
        return self.order_by("-timestamp", "-id")


class AuditEntryManager(LogEntryManager.from_queryset(AuditEntryQuerySet)):
    """auditlog's manager, filling in what our entries add from the instance and the
    context (see audit.context)."""

    def log_create(self, instance: models.Model, force_log: bool = False, **kwargs: Any):
        from audit.registry import entry_fields

        changes = kwargs.get("changes")
        action = kwargs.get("action")
        if changes and action in (self.model.Action.CREATE, self.model.Action.DELETE):
            changes = kwargs["changes"] = trim_created_or_deleted(instance, changes, action)
            if not changes and not force_log:
                return None
        for name, value in entry_fields(instance).items():
            kwargs.setdefault(name, value)
        return super().log_create(instance, force_log=force_log, **kwargs)

    def log_m2m_changes(self, *args: Any, **kwargs: Any):  # pragma: no cover - not used
        raise NotImplementedError("Tags are recorded through ClientTag rows.")


def trim_created_or_deleted(instance: models.Model, changes: dict, action: int) -> dict:
    """A created or deleted row's "changes" are all its fields from or to nothing: keep the
    ones that hold something (an empty note's `is_pinned: False` says nothing)."""
    side = 1 if action == AbstractLogEntry.Action.CREATE else 0
    kept = {}
    for name, values in changes.items():
        value = values[side]
        if value in (None, "", [], {}):
            continue
        try:
            default = instance._meta.get_field(name).get_default()
        except Exception:  # noqa: BLE001 - no such field: keep the value
            default = object()
        if value == default or (isinstance(value, str) and value == str(default)):
            continue
        kept[name] = values
    return kept


class AuditEntry(AbstractLogEntry):
    """One change: who (`actor`, None for no one), when (`timestamp`), what (`content_type`,
    `object_id`, and `changes`: {field: [old, new]}), from where (`source`)."""

    business = business_key()
    client_id = models.BigIntegerField(
        null=True, blank=True, help_text="The client the change is about (kept after deletion)."
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.COMMAND)
    event = models.CharField(max_length=16, choices=Event.choices, blank=True, default="")
    values_erased = models.BooleanField(
        default=False, help_text="The client was erased: the values were removed."
    )

    # auditlog indexes five of these columns on their own; the indexes below serve every
    # query we make, and each index less is less work for an import's million entries.
    # For the same reason the database does not check these two keys: an import writes an
    # entry per client, and checking each one's content type and author (the same two rows
    # every time) took ~0.6 s per 100,000 clients. The values come from get_for_model and the
    # signed-in user; Django still applies on_delete when a user or content type is deleted.
    # The business key stays checked, like every tenant row's.
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        blank=True,
        null=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    object_pk = models.CharField(max_length=255)
    object_id = models.BigIntegerField(blank=True, null=True)
    action = models.PositiveSmallIntegerField(choices=AbstractLogEntry.Action.choices)
    cid = models.CharField(max_length=255, blank=True, null=True)  # noqa: DJ001 - as auditlog's
    timestamp = models.DateTimeField(default=timezone.now)
    changes_text = models.TextField(blank=True, default="")

    # Scoped like every tenant manager; auditlog writes through its `log_create`, and
    # django-scopes lets `create` through without a scope (row-level security still checks).
    objects = ScopedManager(business="business", _manager_class=AuditEntryManager)

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["business", "client_id", "timestamp"], name="audit_client_idx"),
            models.Index(fields=["business", "content_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["business", "timestamp"], name="audit_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.content_type_id}:{self.object_pk}"
