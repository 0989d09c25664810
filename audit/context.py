"""Who is changing things, and from where: set once by whatever started the work.

The request middleware (`glamiti.tenancy.TenantMiddleware`) says "web" and the user, the
platform admin "admin", the Stripe webhook "webhook", the import job "import"; anything
else (management commands, scheduled jobs, a shell) is "command". The audit trail reads it
when it writes an entry, so no service has to pass it along.

Kept free of model imports: the tenancy middleware imports it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from django.db import models


class Source(models.TextChoices):
    WEB = "web", "Web"
    IMPORT = "import", "Import"
    ADMIN = "admin", "Platform admin"
    WEBHOOK = "webhook", "Stripe webhook"
    COMMAND = "command", "Command or scheduled job"


class Event(models.TextChoices):
    """What an entry records, beyond "a row was created, changed or deleted"."""

    CHANGE = "", "Change"
    IMPORTED = "imported", "Imported"
    IMPORT_UNDONE = "import_undone", "Import undone"
    MERGED = "merged", "Merged"
    MERGE_UNDONE = "merge_undone", "Merge undone"
    REVERTED = "reverted", "Reverted"
    ERASED = "erased", "Erased"


@dataclass(frozen=True)
class AuditContext:
    source: str = Source.COMMAND
    actor_id: int | None = None
    event: str = Event.CHANGE


NOBODY = AuditContext()
_current: ContextVar[AuditContext | None] = ContextVar("glamiti_audit_context", default=None)


def current() -> AuditContext:
    return _current.get() or NOBODY


@contextmanager
def audit_context(
    source: str | None = None, *, actor: Any = None, event: str | None = None
) -> Iterator[AuditContext]:
    """Entries written inside the block name this source, actor (a user, or None for no one)
    and event; what is not given is kept from the enclosing block."""
    now = current()
    changes: dict[str, Any] = {}
    if source is not None:
        changes["source"] = source
    if actor is not None:
        changes["actor_id"] = actor.pk if getattr(actor, "is_authenticated", False) else None
    if event is not None:
        changes["event"] = event
    token = _current.set(replace(now, **changes))
    try:
        yield current()
    finally:
        _current.reset(token)
