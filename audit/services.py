"""Writes to the audit trail beyond recording changes: forgetting an erased client's values,
and reverting a field change."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.context import Event, audit_context, current
from audit.models import AuditEntry
from audit.registry import client_data_models, tracked
from clients.models import Client
from glamiti.models import User

# Fields of the client form an owner may put back from the activity log. Not the photo (the
# old file is gone), the tags (their own entries), nor marketing consent: consent is the
# client's to give, and putting an old answer back would record one they did not give now.
REVERTIBLE = (
    "first_name",
    "last_name",
    "email",
    "mobile_phone",
    "other_phone",
    "birth_day",
    "birth_month",
    "birth_year",
    "gender",
    "pronouns",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "referral_source",
    "referred_by",
    "is_blocked",
    "blocked_reason",
    "alert",
)


class RevertError(ValueError):
    """A revert that cannot be done; the message is written for the owner."""


# --- Erasure -------------------------------------------------------------------------------


@transaction.atomic
def forget_client(client: Client, *, by: User | None = None) -> int:
    """Remove `client`'s personal values from the audit trail, keeping each entry's who,
    when, source and which fields changed; then record the erasure itself (no values).

    The erasure calls this last, inside its own transaction, so that the entries its own
    changes wrote (the wiped fields, the deleted notes) lose their values too. Money entries
    keep their amounts (the accounts need them) and lose only their personal fields.
    Returns how many entries were changed.
    """
    data_types = {ContentType.objects.get_for_model(model).pk for model in client_data_models()}
    entries = AuditEntry.objects.filter(business_id=client.business_id, client_id=client.pk)
    changed = []
    for entry in entries.select_related("content_type").iterator(chunk_size=500):
        if entry.content_type_id in data_types or entry.event:
            personal = None  # every value
        else:
            model = entry.content_type.model_class()
            spec = tracked(model) if model else None
            personal = set(spec.personal) if spec else None
        entry.changes = _without_values(entry.changes, personal)
        entry.object_repr = "" if personal is None else entry.object_repr
        entry.serialized_data = None
        entry.changes_text = ""
        entry.values_erased = True
        changed.append(entry)
        if len(changed) >= 500:
            _save(changed)
            changed = []
    _save(changed)
    count = entries.count()
    context = current()
    AuditEntry.objects.create(
        business_id=client.business_id,
        client_id=client.pk,
        content_type=ContentType.objects.get_for_model(Client),
        object_pk=str(client.pk),
        object_id=client.pk,
        object_repr="",
        action=AuditEntry.Action.UPDATE,
        changes=None,
        actor_id=by.pk if by is not None else context.actor_id,
        source=context.source,
        event=Event.ERASED,
        values_erased=True,
        timestamp=timezone.now(),
    )
    return count


def _without_values(changes: Any, personal: set[str] | None) -> Any:
    if not isinstance(changes, dict):
        return changes
    return {
        name: [None, None] if personal is None or name in personal else values
        for name, values in changes.items()
    }


def _save(entries: list[AuditEntry]) -> None:
    if entries:
        AuditEntry.objects.bulk_update(
            entries,
            ["changes", "object_repr", "serialized_data", "changes_text", "values_erased"],
        )


# --- Revert --------------------------------------------------------------------------------


def revert_problem(entry: AuditEntry, field: str, client: Client) -> str | None:
    """Why `field`'s change in `entry` cannot be put back now, or None if it can."""
    if entry.values_erased:
        return "This client's values were erased: there is nothing to put back."
    if entry.action != AuditEntry.Action.UPDATE or entry.event in (Event.ERASED,):
        return "Only a change to a field can be reverted."
    if field not in REVERTIBLE or field not in (entry.changes or {}):
        return "This change can't be reverted from here."
    later = (
        AuditEntry.objects.filter(
            business_id=client.business_id,
            client_id=client.pk,
            content_type=entry.content_type_id,
            object_id=client.pk,
            changes__has_key=field,
        )
        .filter(timestamp__gte=entry.timestamp)
        .exclude(pk=entry.pk)
    )
    later = [e for e in later if (e.timestamp, e.pk) > (entry.timestamp, entry.pk)]
    label = field_label(field)
    if later:
        return f"{label} was changed again since. Revert the newer change, or edit the client."
    if json_value(client, field) != entry.changes[field][1]:
        return f"{label} is no longer the value this change set. Edit the client instead."
    return None


def json_value(client: Client, field: str) -> Any:
    """The client's current value as auditlog records it (ids for links)."""
    model_field = Client._meta.get_field(field)
    return getattr(client, model_field.attname)


def field_label(field: str) -> str:
    from audit.display import CLIENT_LABELS

    return CLIENT_LABELS.get(field, field.replace("_", " ").capitalize())


def _form_data(client: Client, form: Any) -> dict[str, Any]:
    """The client as the edit form would post it unchanged."""
    data: dict[str, Any] = {}
    for name, form_field in form.fields.items():
        if name in ("photo", "new_tags"):
            continue
        if name == "tags":
            data[name] = [str(pk) for pk in client.client_tags.values_list("tag_id", flat=True)]
            continue
        try:
            value = getattr(client, Client._meta.get_field(name).attname)
        except FieldDoesNotExist:  # a form-only field: as the form would show it
            value = form.initial.get(name, form_field.initial)
        data[name] = "" if value is None else value
    return data


@transaction.atomic
def client_field_revert(*, entry: AuditEntry, field: str, client: Client, by: User) -> Client:
    """Put `field` back to the value it had before `entry`, validated as the edit form
    validates it, and saved as an edit would be (so the revert is itself recorded)."""
    from clients.forms import ClientForm
    from clients.services import client_save

    client = Client.objects.select_for_update().get(pk=client.pk)
    problem = revert_problem(entry, field, client)
    if problem:
        raise RevertError(problem)
    business = client.business
    form = ClientForm(instance=client, business=business)
    data = _form_data(client, form)
    old = entry.changes[field][0]
    data[field] = "" if old is None else old
    form = ClientForm(data, instance=client, business=business)
    if not form.is_valid():
        errors = [str(e) for error_list in form.errors.values() for e in error_list]
        raise RevertError(
            f"{field_label(field)} can't be put back: the old value is no longer valid "
            f"({' '.join(errors)})"
        )
    with audit_context(actor=by, event=Event.REVERTED):
        try:
            return client_save(
                business=business, client=form.instance, data=form.cleaned_data, by=by, is_new=False
            )
        except ValidationError as error:
            raise RevertError(" ".join(error.messages)) from error
