"""GDPR requests about one client: export everything we hold, erase it, and the retention rule.

- **Export** (`client_data_export`): one ZIP with a JSON file per kind of record (the client,
  notes, appointments, sales with items and payments, tips, feedback, vouchers with their
  ledger, saved cards, consent history, audit entries) and the uploaded files (documents,
  photo). Each section is a small function in EXPORT_SECTIONS; it is written to a temporary
  file, so a client with large documents never sits in memory.
- **Erasure** (`client_erase`): the client's personal data is wiped for good. Their Stripe
  customer is deleted (cards detached first), their documents and photo are deleted from
  storage, notes, tags, consent records and cards go, and the free text about them in other
  rows (appointment notes, feedback comments, a voucher's recipient name) is cleared. What
  the accounts need — sales, payments, tips, the voucher ledger — stays, pointing at the same
  client row, now the anonymous placeholder "Erased client #<id>" (so no foreign key moves).
  Merge and import snapshots lose the personal values they held for the client, so an undo
  cannot bring them back, and clients merged into this one (the same person) are erased too.
  The audit trail keeps who erased whom and when, and forgets every value it held about the
  client (`audit.services.forget_client`). Not rewritten: the files uploaded to imports
  (kept as they were uploaded; the import's own records of the client are scrubbed).
- **Retention** (`retention_plan`): a business may erase clients not seen for N years
  (`Business.retention_years`); clients with an open voucher balance are held back. The
  `erase_lapsed_clients` command applies it.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from audit.context import Event, audit_context
from audit.models import AuditEntry
from audit.services import forget_client
from clients.models import (
    Client,
    ClientDocument,
    ClientImport,
    ClientImportChange,
    ClientImportProblem,
    ClientMerge,
    ClientNote,
    ClientTag,
    ConsentRecord,
)
from glamiti.models import Business, User
from sales import stripe_api
from sales.models import (
    CardCharge,
    CardSetup,
    Feedback,
    Sale,
    SavedCard,
    StripeCustomer,
    TipAllocation,
)
from sales.stripe_api import StripeError
from vouchers.models import Voucher

logger = logging.getLogger("glamiti.privacy")

EXPORT_FORMAT = 1  # bumped when the files of the export change shape
COPY_CHUNK = 1024 * 1024
# Columns that are ours, not about the client: left out of the export.
NOT_EXPORTED = frozenset({"business", "search_text", "phone_digits", "idempotency_key"})


class PrivacyError(Exception):
    """A GDPR request that could not be carried out; the message is written for the owner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Export: turning rows into JSON -------------------------------------------------------------


def _value(value: Any) -> Any:
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, datetime.datetime | datetime.date | Decimal):
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return value


def row_data(obj: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every stored column of `obj` (keys as ids, times in ISO 8601, money as text), with the
    readable label of each choice next to its value."""
    skip = NOT_EXPORTED | set(exclude)
    data: dict[str, Any] = {}
    for model_field in obj._meta.concrete_fields:
        if model_field.name in skip:
            continue
        value = getattr(obj, model_field.attname)
        data[model_field.attname] = _value(value)
        if model_field.choices and value not in (None, ""):
            data[f"{model_field.name}_label"] = str(dict(model_field.flatchoices).get(value, value))
    return data


def _user_name(user: User | None) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def export_client(client: Client) -> dict[str, Any]:
    data = row_data(client, exclude=("created_by", "merged_into"))
    data["full_name"] = client.full_name
    data["tags"] = [tag.name for tag in client.tags.order_by("name")]
    data["referral_source_name"] = client.referral_source.name if client.referral_source else ""
    data["referred_by_name"] = client.referred_by.full_name if client.referred_by else ""
    data["photo_file"] = "files/photo" + _suffix(client.photo.name) if client.photo else ""
    data.pop("photo", None)
    return data


def export_notes(client: Client) -> list[dict[str, Any]]:
    notes = client.notes.select_related("created_by", "updated_by").order_by("created_at", "id")
    return [
        {
            **row_data(note, exclude=("client", "created_by", "updated_by")),
            "written_by": _user_name(note.created_by),
        }
        for note in notes
    ]


def export_appointments(client: Client) -> list[dict[str, Any]]:
    appointments = (
        Appointment.objects.filter(client=client)
        .select_related("team_member")
        .prefetch_related("services")
        .order_by("start_at", "id")
    )
    return [
        {
            **row_data(a, exclude=("client", "created_by", "canceled_by")),
            "team_member_name": a.team_member.name,
            "services": [row_data(s, exclude=("appointment", "service")) for s in a.services.all()],
        }
        for a in appointments
    ]


def export_sales(client: Client) -> list[dict[str, Any]]:
    sales = (
        Sale.objects.filter(client=client)
        .prefetch_related("items", "payments")
        .order_by("created_at", "id")
    )
    return [
        {
            **row_data(sale, exclude=("client", "created_by", "voided_by")),
            "items": [row_data(item, exclude=("sale",)) for item in sale.items.all()],
            "payments": [row_data(p, exclude=("sale",)) for p in sale.payments.all()],
        }
        for sale in sales
    ]


def export_tips(client: Client) -> list[dict[str, Any]]:
    tips = (
        TipAllocation.objects.filter(sale__client=client)
        .select_related("team_member")
        .order_by("created_at", "id")
    )
    return [
        {**row_data(tip, exclude=("team_member",)), "team_member_name": tip.team_member.name}
        for tip in tips
    ]


def export_feedback(client: Client) -> list[dict[str, Any]]:
    feedback = Feedback.objects.filter(client=client).order_by("created_at", "id")
    return [row_data(f, exclude=("client", "created_by")) for f in feedback]


def export_vouchers(client: Client) -> list[dict[str, Any]]:
    vouchers = (
        Voucher.objects.filter(Q(purchaser=client) | Q(recipient=client))
        .prefetch_related("ledger")
        .order_by("issued_on", "id")
    )
    result = []
    for voucher in vouchers:
        data = row_data(voucher, exclude=("created_by",))
        data["status"] = str(voucher.status.label)
        data["client_is"] = [
            role
            for role, pk in (
                ("purchaser", voucher.purchaser_id),
                ("recipient", voucher.recipient_id),
            )
            if pk == client.pk
        ]
        data["ledger"] = [
            row_data(e, exclude=("voucher", "created_by")) for e in voucher.ledger.all()
        ]
        result.append(data)
    return result


def export_cards(client: Client) -> dict[str, Any]:
    customer = StripeCustomer.objects.filter(client=client).first()
    cards = SavedCard.objects.filter(client=client).order_by("created_at", "id")
    charges = CardCharge.objects.filter(client=client).order_by("created_at", "id")
    return {
        "stripe_customer_id": customer.stripe_customer_id if customer else "",
        "cards": [row_data(card, exclude=("client",)) for card in cards],
        "charges": [row_data(c, exclude=("client", "created_by")) for c in charges],
    }


def export_documents(client: Client) -> list[dict[str, Any]]:
    documents = client.documents.order_by("created_at", "id")
    return [
        {**row_data(d, exclude=("client", "uploaded_by", "file")), "file": _document_path(d)}
        for d in documents
    ]


def export_merges(client: Client) -> list[dict[str, Any]]:
    merges = ClientMerge.objects.filter(Q(kept=client) | Q(merged=client)).order_by("created_at")
    return [
        {
            **row_data(m, exclude=("merged_by", "undone_by", "moved")),
            "this_client_was": "kept" if m.kept_id == client.pk else "merged",
        }
        for m in merges
    ]


def export_consent(client: Client) -> list[dict[str, Any]]:
    records = ConsentRecord.objects.filter(client=client).select_related("recorded_by")
    return [
        {
            **row_data(r, exclude=("client", "recorded_by", "client_import")),
            "recorded_by_name": _user_name(r.recorded_by),
        }
        for r in records.order_by("recorded_at", "id")
    ]


def export_audit(client: Client) -> list[dict[str, Any]]:
    """The audit trail's entries about the client: who changed what, when, from where."""
    entries = (
        AuditEntry.objects.for_client(client.pk)
        .select_related("actor", "content_type")
        .order_by("timestamp", "id")
    )
    return [
        {
            "timestamp": _value(entry.timestamp),
            "action": str(entry.get_action_display()),
            "event": entry.event,
            "source": entry.source,
            "record": entry.content_type.model if entry.content_type_id else "",
            "record_id": entry.object_id,
            "description": entry.object_repr,
            "changes": entry.changes_dict,
            "by": _user_name(entry.actor),
            "values_erased": entry.values_erased,
        }
        for entry in entries
    ]


# The JSON files of the export, in order: (file name, section). A new kind of record about
# clients adds its section here.
EXPORT_SECTIONS: list[tuple[str, Callable[[Client], Any]]] = [
    ("client.json", export_client),
    ("notes.json", export_notes),
    ("appointments.json", export_appointments),
    ("sales.json", export_sales),
    ("tips.json", export_tips),
    ("feedback.json", export_feedback),
    ("vouchers.json", export_vouchers),
    ("cards.json", export_cards),
    ("documents.json", export_documents),
    ("merges.json", export_merges),
    ("consent.json", export_consent),
    ("audit.json", export_audit),
]

README = """Everything {business} holds about client #{pk}, exported on {when}.

Each .json file holds one kind of record (times in UTC, ISO 8601; money as text in {currency}):
  client.json        the client record (contact details, birthday, address, marketing answers)
  notes.json         notes written about the client
  appointments.json  appointments, with their services
  sales.json         sales, with their items and payments
  tips.json          tips given with those sales
  feedback.json      feedback the client gave
  vouchers.json      vouchers the client bought or received, with every balance change
  cards.json         saved cards (brand, last 4 digits, expiry; card numbers are never held)
  documents.json     uploaded documents; the files themselves are in files/documents/
  merges.json        duplicate records merged with this one
  consent.json       the history of the client's marketing consent
  audit.json         the record of changes made to the client's data
"""


def _suffix(name: str) -> str:
    match = re.search(r"\.[A-Za-z0-9]{1,5}$", name or "")
    return match.group().lower() if match else ""


def _safe_name(name: str) -> str:
    """A file name safe inside a ZIP on any system (no folders, no odd characters)."""
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", name.rsplit("/", 1)[-1]).strip(" .")
    return cleaned[:80] or "document"


def _document_path(document: ClientDocument) -> str:
    name = _safe_name(document.original_name)
    if not _suffix(name) and document.extension:
        name += document.extension
    return f"files/documents/{document.pk}-{name}"


def _copy_file(archive: zipfile.ZipFile, stored: FieldFile, arcname: str) -> bool:
    """Copy one stored file into the archive in chunks. False if storage no longer has it."""
    try:
        source = stored.storage.open(stored.name, "rb")
    except FileNotFoundError:
        return False
    except Exception as error:  # each storage backend has its own errors (botocore's for S3)
        logger.warning("Could not read %s for a data export", stored.name, exc_info=True)
        raise PrivacyError(
            "The file store could not be reached, so the export would be incomplete. "
            "Please try again in a few minutes."
        ) from error
    with source, archive.open(arcname, "w", force_zip64=True) as target:
        shutil.copyfileobj(source, target, COPY_CHUNK)
    return True


def _write_json(archive: zipfile.ZipFile, name: str, data: Any) -> None:
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    archive.writestr(name, text + "\n")


def client_data_export(client: Client) -> IO[bytes]:
    """Everything the business holds about `client`, as a ZIP in a temporary file (rewound,
    deleted when closed). Raises PrivacyError if the file store cannot be read."""
    business = client.business
    now = timezone.now()
    sink = tempfile.TemporaryFile(prefix="glamiti-export-")  # noqa: SIM115 (returned open)
    try:
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "README.txt",
                README.format(
                    business=business.name,
                    pk=client.pk,
                    when=now.isoformat(),
                    currency=business.currency,
                ),
            )
            _write_json(
                archive,
                "manifest.json",
                {
                    "format": EXPORT_FORMAT,
                    "business": business.name,
                    "client_id": client.pk,
                    "exported_at": now.isoformat(),
                    "files": [name for name, _ in EXPORT_SECTIONS],
                },
            )
            for name, section in EXPORT_SECTIONS:
                _write_json(archive, name, section(client))
            missing = []
            for document in client.documents.order_by("created_at", "id"):
                if not _copy_file(archive, document.file, _document_path(document)):
                    missing.append(_document_path(document))
            if client.photo and not _copy_file(
                archive, client.photo, "files/photo" + _suffix(client.photo.name)
            ):
                missing.append("files/photo")
            if missing:
                _write_json(archive, "missing_files.json", missing)
    except BaseException:
        sink.close()
        raise
    sink.seek(0)
    return sink


def export_file_name(client: Client) -> str:
    return f"client-{client.pk}-data-{timezone.localdate():%Y-%m-%d}.zip"


# --- Erasure -------------------------------------------------------------------------------------


ERASED_CANCEL_REASON = "The client's data was erased."


def placeholder_name(client: Client) -> str:
    return f"Erased client #{client.pk}"


# Every personal column of a client, and what it becomes. The name becomes the placeholder.
WIPED_VALUES: dict[str, Any] = {
    "last_name": "",
    "email": "",
    "mobile_phone": "",
    "other_phone": "",
    "birth_day": None,
    "birth_month": None,
    "birth_year": None,
    "gender": "",
    "pronouns": "",
    "address_line1": "",
    "address_line2": "",
    "city": "",
    "region": "",
    "postal_code": "",
    "country": "",
    "referral_source_id": None,
    "referred_by_id": None,
    "email_marketing": False,
    "email_marketing_at": None,
    "email_marketing_source": "",
    "sms_marketing": False,
    "sms_marketing_at": None,
    "sms_marketing_source": "",
    "is_blocked": False,
    "blocked_reason": "",
    "alert": "",
    "photo": "",
    "external_id": "",
}


@dataclass
class ErasurePlan:
    """What erasing a client will do, for the confirmation page."""

    client: Client
    also_erased: list[Client]  # clients merged into this one: the same person
    removed: list[str]  # "2 notes", ...
    kept: list[str]
    upcoming: int  # booked appointments from now on, which are canceled


def _targets(client: Client) -> list[Client]:
    """The client and every client merged into them (directly or through another merge)."""
    found = [client]
    seen = {client.pk}
    frontier = [client.pk]
    while frontier:
        merged = list(Client.objects.filter(merged_into_id__in=frontier).exclude(pk__in=seen))
        found += merged
        seen.update(c.pk for c in merged)
        frontier = [c.pk for c in merged]
    return found


def _count(one: str, many: str, queryset: models.QuerySet) -> tuple[str, int]:
    """("3 notes", 3), or ("1 note", 1)."""
    count = queryset.count()
    return f"{count} {one if count == 1 else many}", count


def erasure_plan(client: Client) -> ErasurePlan:
    targets = _targets(client)
    ids = [c.pk for c in targets]
    removed = [
        _count(
            "document, deleted from storage",
            "documents, deleted from storage",
            ClientDocument.objects.filter(client_id__in=ids),
        ),
        _count("note", "notes", ClientNote.objects.filter(client_id__in=ids)),
        _count("tag", "tags", ClientTag.objects.filter(client_id__in=ids)),
        _count(
            "consent record", "consent records", ConsentRecord.objects.filter(client_id__in=ids)
        ),
        _count(
            "saved card, with the client's Stripe customer",
            "saved cards, with the client's Stripe customer",
            SavedCard.objects.filter(client_id__in=ids, removed_at__isnull=True),
        ),
    ]
    kept = [
        _count("sale", "sales", Sale.objects.filter(client_id__in=ids)),
        _count("tip", "tips", TipAllocation.objects.filter(sale__client_id__in=ids)),
        _count(
            "voucher",
            "vouchers",
            Voucher.objects.filter(Q(purchaser_id__in=ids) | Q(recipient_id__in=ids)),
        ),
        _count("appointment", "appointments", Appointment.objects.filter(client_id__in=ids)),
    ]
    upcoming = Appointment.objects.filter(
        client_id__in=ids, status=AppointmentStatus.BOOKED, start_at__gte=timezone.now()
    ).count()
    return ErasurePlan(
        client=client,
        also_erased=targets[1:],
        removed=[text for text, n in removed if n],
        kept=[text for text, n in kept if n],
        upcoming=upcoming,
    )


def name_matches(client: Client, typed: str) -> bool:
    """Whether `typed` is the client's name (spaces and case aside): the erase confirmation."""

    def fold(text: str) -> str:
        return " ".join(text.split()).casefold()

    return bool(typed.strip()) and fold(typed) == fold(client.full_name)


def _erase_at_stripe(clients: list[Client]) -> int:
    """Detach the clients' cards and delete their Stripe customers. Returns how many
    customers were deleted. Raises PrivacyError (nothing erased yet) if Stripe can't."""
    customers = list(StripeCustomer.objects.filter(client__in=clients))
    if not customers:
        return 0
    try:
        for customer in customers:
            cards = SavedCard.objects.filter(client_id=customer.client_id, removed_at__isnull=True)
            for card in cards:
                stripe_api.payment_method_detach(card.stripe_payment_method_id)
            stripe_api.customer_delete(customer.stripe_customer_id)
    except StripeError as error:
        raise PrivacyError(
            f"Nothing was erased: the client's saved cards could not be removed at Stripe. "
            f"{error.message}"
        ) from error
    return len(customers)


def _delete_stored_files(clients: list[Client]) -> int:
    """Delete the clients' documents and photos from storage (before their rows, so that a
    store that fails leaves the rows to try again). Returns how many files were deleted."""
    files = [d.file for d in ClientDocument.objects.filter(client__in=clients) if d.file]
    files += [c.photo for c in clients if c.photo]
    try:
        for stored in files:
            stored.storage.delete(stored.name)
    except Exception as error:  # each storage backend has its own errors (botocore's for S3)
        logger.warning("Could not delete a file during an erasure", exc_info=True)
        raise PrivacyError(
            "The file store could not be reached, so the client's documents could not be "
            "deleted. Nothing else was erased; please try again in a few minutes."
        ) from error
    return len(files)


def _scrub_merges(clients: list[Client]) -> None:
    # The values a merge filled (and so would empty on undo) are the erased person's data.
    ClientMerge.objects.filter(Q(kept__in=clients) | Q(merged__in=clients)).update(filled_fields={})


def _scrub_imports(business: Business, old: dict[int, dict[str, str]]) -> None:
    """Take the erased clients' values out of what imports recorded: the before/after values
    an undo would write back, the names in problem messages and undo summaries, and preview
    rows carrying their e-mail or name. (The uploaded files themselves are not rewritten.)"""
    keys = [str(pk) for pk in old]
    updated = ClientImportChange.objects.filter(kind=ClientImportChange.Kind.UPDATED)
    condition = Q()
    for key in keys:
        condition |= Q(previous__has_key=key)
    for change in updated.filter(condition):
        change.previous = {k: v for k, v in change.previous.items() if k not in keys}
        change.save(update_fields=["previous"])
    names = {v["name"]: f"Erased client #{pk}" for pk, v in old.items() if v["name"]}
    emails = {v["email"] for v in old.values() if v["email"]}
    for name, placeholder in names.items():
        for problem in ClientImportProblem.objects.filter(message__contains=name):
            problem.message = problem.message.replace(name, placeholder)
            problem.save(update_fields=["message"])
    for imp in ClientImport.objects.filter(business=business).only(
        "pk", "undo_summary", "preview_rows"
    ):
        changed = False
        for entry in (imp.undo_summary or {}).get("kept", []):
            if isinstance(entry, dict) and entry.get("id") in old:
                entry["name"] = f"Erased client #{entry['id']}"
                changed = True
        for row in imp.preview_rows or []:
            values = row.get("values") if isinstance(row, dict) else None
            if not values:
                continue
            full = " ".join(filter(None, [values.get("first_name"), values.get("last_name")]))
            if values.get("email") in emails or full in names or values.get("full_name") in names:
                row["values"] = {}
                changed = True
        if changed:
            imp.save(update_fields=["undo_summary", "preview_rows"])


def _wipe(client: Client, *, now: datetime.datetime) -> None:
    """Wipe one client's personal data, keeping the row as the anonymous placeholder."""
    pk = client.pk
    ClientNote.objects.filter(client_id=pk).delete()
    ClientDocument.objects.filter(client_id=pk).delete()
    ClientTag.objects.filter(client_id=pk).delete()
    ConsentRecord.objects.filter(client_id=pk).delete()
    CardSetup.objects.filter(client_id=pk).delete()
    cards = SavedCard.objects.filter(client_id=pk)
    # A card that was charged stays for the accounts (its charges point at it), without the
    # cardholder's name; Stripe no longer has it.
    charged = cards.filter(Exists(CardCharge.objects.filter(card=OuterRef("pk"))))
    charged.update(cardholder_name="", is_default=False, removed_at=now)
    cards.exclude(Exists(CardCharge.objects.filter(card=OuterRef("pk")))).delete()
    StripeCustomer.objects.filter(client_id=pk).delete()
    # Appointments stay (the calendar's and the team's history), without the free text.
    Appointment.objects.filter(client_id=pk).update(notes="", cancel_reason="")
    Appointment.objects.filter(
        client_id=pk, status=AppointmentStatus.BOOKED, start_at__gte=now
    ).update(
        status=AppointmentStatus.CANCELED,
        canceled_at=now,
        cancel_reason=ERASED_CANCEL_REASON,
        updated_at=now,
    )
    Feedback.objects.filter(client_id=pk).update(comment="")
    Voucher.objects.filter(recipient_id=pk).update(recipient_name="")
    for name, value in WIPED_VALUES.items():
        setattr(client, name, value)
    client.first_name = placeholder_name(client)
    client.archived_at = client.archived_at or now
    client.erased_at = now
    client.next_appointment_at = None
    client.save()


@dataclass
class ErasureResult:
    erased: list[int] = field(default_factory=list)
    files_deleted: int = 0
    stripe_customers_deleted: int = 0


@transaction.atomic
def client_erase(*, client: Client, by: User | None) -> ErasureResult:
    """Erase `client` (and the clients merged into them) for good. See the module docstring.

    Stripe and the file store are asked first: if either fails, PrivacyError is raised and
    nothing is erased here (what they already deleted stays deleted; trying again finishes).
    Erasing an erased client does nothing.
    """
    list(Client.objects.select_for_update().filter(pk=client.pk))
    client.refresh_from_db()
    if client.is_erased:
        return ErasureResult()
    targets = [c for c in _targets(client) if not c.is_erased]
    list(Client.objects.select_for_update().filter(pk__in=[c.pk for c in targets]).order_by("pk"))
    result = ErasureResult()
    result.stripe_customers_deleted = _erase_at_stripe(targets)
    result.files_deleted = _delete_stored_files(targets)
    old = {c.pk: {"name": c.full_name, "email": c.email} for c in targets}
    now = timezone.now()
    with audit_context(event=Event.ERASED):
        for target in targets:
            _wipe(target, now=now)
            result.erased.append(target.pk)
    _scrub_merges(targets)
    _scrub_imports(client.business, old)
    # Last, so that the entries the wiping itself wrote lose their values too.
    for target in targets:
        forget_client(target, by=by)
    logger.info("Erased client(s) %s of business %s", result.erased, client.business_id)
    return result


# --- Retention -----------------------------------------------------------------------------------


@dataclass
class HeldBack:
    client: Client
    reason: str


@dataclass
class RetentionPlan:
    """Who the retention rule would erase now, and who it holds back and why. The lists
    hold at most the `limit` asked for; the counts are complete."""

    years: int | None
    cutoff: datetime.datetime | None = None
    erasable: list[Client] = field(default_factory=list)
    held_back: list[HeldBack] = field(default_factory=list)
    erasable_count: int = 0
    held_back_count: int = 0

    @property
    def enabled(self) -> bool:
        return self.years is not None


def retention_cutoff(years: int, now: datetime.datetime | None = None) -> datetime.datetime:
    now = now or timezone.now()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def lapsed_clients(business: Business, cutoff: datetime.datetime) -> models.QuerySet:
    """Clients of `business` not seen since `cutoff`: on the books before it, with no visit,
    sale or appointment (past or booked) after it. Erased clients and clients merged into
    another (they follow the client they were merged into) are left out."""
    recent_sales = Sale.objects.filter(client=OuterRef("pk"), created_at__gte=cutoff)
    recent_appointments = Appointment.objects.filter(client=OuterRef("pk"), start_at__gte=cutoff)
    return (
        business.clients.filter(
            erased_at__isnull=True, merged_into__isnull=True, created_at__lt=cutoff
        )
        .exclude(last_visit_at__gte=cutoff)
        .exclude(Exists(recent_sales))
        .exclude(Exists(recent_appointments))
    )


def _open_vouchers(today: datetime.date) -> models.QuerySet:
    return Voucher.objects.redeemable(on=today).filter(
        Q(purchaser=OuterRef("pk")) | Q(recipient=OuterRef("pk"))
    )


def _retention_candidates(business: Business, now: datetime.datetime) -> models.QuerySet:
    cutoff = retention_cutoff(business.retention_years, now)
    return lapsed_clients(business, cutoff).annotate(
        last_sale_at=Max("sales__created_at"),
        holds_voucher=Exists(_open_vouchers(timezone.localdate(now))),
    )


def retention_erasable(business: Business, pk: int) -> Client | None:
    """Client `pk` if the retention rule of `business` would erase them now, else None
    (checked again just before each erasure: they may have come back since the plan)."""
    if not business.retention_years:
        return None
    candidates = _retention_candidates(business, timezone.now())
    return candidates.filter(pk=pk, holds_voucher=False).first()


def retention_plan(
    business: Business, *, now: datetime.datetime | None = None, limit: int | None = None
) -> RetentionPlan:
    """The retention rule of `business` applied now: clients it would erase, and clients it
    holds back because a voucher they bought or received still has a balance to spend."""
    years = business.retention_years
    if not years:
        return RetentionPlan(years=None)
    now = now or timezone.now()
    cutoff = retention_cutoff(years, now)
    today = timezone.localdate(now)
    lapsed = _retention_candidates(business, now)
    erasable = lapsed.filter(holds_voucher=False).order_by("created_at", "id")
    held = lapsed.filter(holds_voucher=True).order_by("created_at", "id")
    plan = RetentionPlan(
        years=years,
        cutoff=cutoff,
        erasable=list(erasable[:limit] if limit is not None else erasable),
        erasable_count=erasable.count(),
        held_back_count=held.count(),
    )
    held_clients = list(held[:limit] if limit is not None else held)
    ids = [c.pk for c in held_clients]
    vouchers: dict[int, list[Voucher]] = {}
    open_vouchers = Voucher.objects.redeemable(on=today).filter(
        Q(purchaser_id__in=ids) | Q(recipient_id__in=ids)
    )
    for voucher in open_vouchers.order_by("expires_on", "id"):
        for pk in {voucher.purchaser_id, voucher.recipient_id} & set(ids):
            vouchers.setdefault(pk, []).append(voucher)
    for client in held_clients:
        listed = ", ".join(
            f"{v.code} ({v.balance} {business.currency} until {v.expires_on:%d %b %Y})"
            for v in vouchers.get(client.pk, [])
        )
        plan.held_back.append(HeldBack(client, f"Open voucher balance: {listed}"))
    return plan


def last_seen(client: Client) -> datetime.datetime:
    """When the business last saw `client` (the latest visit, sale or sign-up)."""
    moments = [client.created_at, client.last_visit_at, getattr(client, "last_sale_at", None)]
    return max(m for m in moments if m is not None)
