"""What the audit trail records: the models, the fields left out, and how an entry finds
its client.

Every concrete field of a tracked model is recorded except those listed: fields added later
are recorded without a change here. Left out are the business (never changes), derived and
bookkeeping columns, and secrets: a voucher's code is a bearer credential (whoever has it
can spend it), so it is never written into the trail; card numbers and expiry dates stay at
Stripe and out of here. Feedback links (their token is a secret) and users (password
hashes) are not tracked at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from auditlog.registry import auditlog
from django.apps import apps
from django.db import models

from audit.context import current

COMMON = ("business", "created_at", "updated_at")


@dataclass(frozen=True)
class Tracked:
    label: str
    # Paths (dotted, through foreign keys) to the client the row is about; first non-null wins.
    client: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    # Client data: every value is personal, and is removed when the client is erased. For
    # money rows only the fields named in `personal` are (amounts stay, for the accounts).
    client_data: bool = False
    personal: tuple[str, ...] = ()
    describe: Callable[[Any], str] | None = None
    include: tuple[str, ...] = field(default=(), compare=False)


TRACKED: tuple[Tracked, ...] = (
    # --- Client data (shown in the client's activity log) ---------------------------------
    Tracked(
        "clients.Client",
        client=("pk",),
        exclude=(
            "search_text",  # derived from the names and e-mail
            "phone_digits",
            "last_visit_at",  # kept up to date from appointments and sales
            "next_appointment_at",
            "total_spend",
            "created_by",  # the entry's actor says who
        ),
        client_data=True,
    ),
    Tracked(
        "clients.ClientNote",
        client=("client_id",),
        exclude=("created_by", "updated_by"),
        client_data=True,
        describe=lambda note: note.get_kind_display(),
    ),
    Tracked(
        "clients.ClientDocument",
        client=("client_id",),
        exclude=("file", "uploaded_by"),  # the storage path: the entry keeps the names
        client_data=True,
    ),
    Tracked(
        "clients.ClientTag",
        client=("client_id",),
        client_data=True,
        describe=lambda client_tag: client_tag.tag.name,
    ),
    # --- Money ----------------------------------------------------------------------------
    Tracked(
        "sales.Sale",
        client=("client_id",),
        exclude=("idempotency_key",),
        personal=("note", "void_reason"),
    ),
    Tracked("sales.SaleItem", client=("sale.client_id",)),
    Tracked("sales.Payment", client=("sale.client_id",)),
    Tracked("sales.TipAllocation", client=("sale.client_id",)),
    Tracked(
        "sales.SavedCard",
        client=("client_id",),
        # Which card (brand, Stripe's id) and its state; not its number, expiry or holder.
        exclude=("last4", "exp_month", "exp_year", "cardholder_name"),
        describe=lambda card: f"{card.brand} card",
    ),
    Tracked("sales.CardCharge", client=("client_id",), exclude=("idempotency_key",)),
    Tracked("sales.StripeCustomer", client=("client_id",)),
    Tracked(
        "vouchers.Voucher",
        client=("recipient_id", "purchaser_id"),
        exclude=("code", "created_by"),
        personal=("recipient_name",),
        describe=lambda voucher: f"Voucher #{voucher.pk}",
    ),
    Tracked(
        "vouchers.VoucherLedgerEntry",
        client=("voucher.recipient_id", "voucher.purchaser_id"),
        exclude=("created_by",),
        personal=("note",),
        describe=lambda entry: f"Voucher #{entry.voucher_id}: {entry.get_kind_display()}",
    ),
)

_by_model: dict[type[models.Model], Tracked] = {}


def register_all() -> None:
    """Connect every tracked model to auditlog (called once, from AuditConfig.ready)."""
    for tracked in TRACKED:
        model = apps.get_model(tracked.label)
        if model in _by_model:
            continue
        left_out = {*COMMON, *tracked.exclude}
        include = [
            f.name
            for f in model._meta.concrete_fields
            if not f.primary_key and f.name not in left_out
        ]
        auditlog.register(model, include_fields=include)
        _by_model[model] = replace(tracked, include=tuple(include))


def tracked(model: type[models.Model]) -> Tracked | None:
    return _by_model.get(model)


def client_data_models() -> list[type[models.Model]]:
    return [model for model, t in _by_model.items() if t.client_data]


def _follow(instance: Any, path: str) -> Any:
    value = instance
    for step in path.split("."):
        if value is None:
            return None
        value = value.pk if step == "pk" else getattr(value, step, None)
    return value


def client_id_of(instance: models.Model, spec: Tracked | None = None) -> int | None:
    spec = spec or tracked(type(instance))
    if spec is None:
        return None
    for path in spec.client:
        value = _follow(instance, path)
        if value is not None:
            return value
    return None


def client_lookups(spec: Tracked) -> list[str]:
    """The client paths as ORM lookups, for reading them with `values()`."""
    return [path.replace(".", "__") for path in spec.client if path != "pk"]


def describe(instance: models.Model, spec: Tracked | None = None) -> str:
    spec = spec or tracked(type(instance))
    if spec is not None and spec.describe is not None:
        try:
            return spec.describe(instance)
        except Exception:  # noqa: BLE001 - a description must never stop a write
            return ""
    return str(instance)


def entry_fields(instance: models.Model, skip: set[str] | None = None) -> dict[str, Any]:
    """What an entry about `instance` carries beyond auditlog's own fields (but `skip`)."""
    spec = tracked(type(instance))
    context = current()
    skip = skip or set()
    fields = {
        "business_id": instance.business_id,
        "source": context.source,
        "actor_id": context.actor_id,
        "event": context.event,
    }
    if "client_id" not in skip:
        fields["client_id"] = client_id_of(instance, spec)
    if "object_repr" not in skip:
        fields["object_repr"] = describe(instance, spec)
    return {k: v for k, v in fields.items() if k not in skip}
