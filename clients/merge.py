"""Duplicate clients: finding them, merging two into one, and undoing a merge.

A merge keeps one client (`kept`) and archives the other (`merged`). Every row in any app
that points at `merged` moves to `kept` — found through the model graph, so appointments,
sales or vouchers added later move without changes here — and empty fields of `kept` are
filled from `merged`. `ClientMerge` records exactly what changed, so the merge can be undone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.dispatch import Signal
from django.utils import timezone
from django.utils.formats import date_format

from clients.models import Client, ClientMerge
from clients.normalize import format_phone
from glamiti.models import Business, User

# Sent inside the merge's transaction, after rows have moved: apps that keep numbers on the
# client (last visit, total spend) recompute them for `kept` and `merged` here.
client_merged = Signal()  # kwargs: merge
client_merge_undone = Signal()  # kwargs: merge

# Filled one by one when `kept` has no value.
SINGLE_FIELDS = (
    "last_name",
    "email",
    "mobile_phone",
    "other_phone",
    "gender",
    "pronouns",
    "referral_source",
    "referred_by",
    "alert",
    "photo",
    "external_id",
)
# Filled all together, and only when `kept` has none of them: half of one address with half
# of another, or a consent answer with another answer's date, would be worse than nothing.
FIELD_GROUPS = (
    ("birth_day", "birth_month", "birth_year"),
    ("address_line1", "address_line2", "city", "region", "postal_code", "country"),
    ("email_marketing", "email_marketing_at", "email_marketing_source"),
    ("sms_marketing", "sms_marketing_at", "sms_marketing_source"),
)
# Undone together, or not at all if any of them was edited since the merge.
UNDO_GROUPS = (*FIELD_GROUPS, ("is_blocked", "blocked_reason"))
PHONE_FIELDS = ("mobile_phone", "other_phone")
MEMBERS_SHOWN = 10
MAX_PAGE = 100_000  # keeps OFFSET within what the database accepts


class MergeError(ValueError):
    """A merge or undo that must not happen; the message is written for staff."""


# --- Rules -------------------------------------------------------------------------------


def merge_problem(*, kept: Client, merged: Client) -> str | None:
    """Why `merged` cannot be merged into `kept`, or None if it can."""
    if kept.pk == merged.pk:
        return "A client can't be merged into themselves. Choose two different clients."
    if kept.business_id != merged.business_id:
        return "These clients belong to different businesses."
    for client in (kept, merged):
        if client.merged_into_id:
            return f"{client.full_name} was already merged into another client."
        if client.is_archived:
            return f"{client.full_name} is archived. Restore them before merging."
    return None


def undo_problem(*, merge: ClientMerge) -> str | None:
    """Why `merge` cannot be undone, or None if it can."""
    if merge.undone_at:
        when = date_format(timezone.localtime(merge.undone_at), "j M Y")
        return f"This merge was already undone on {when}."
    if merge.kept.erased_at or merge.merged.erased_at:
        return "This client's personal data was erased, so the merge can't be undone."
    if merge.kept.merged_into_id:
        return (
            f"{merge.kept.full_name} has since been merged into another client. "
            "Undo that merge first."
        )
    return None


# --- Fields --------------------------------------------------------------------------------


def _field(name: str) -> models.Field:
    return Client._meta.get_field(name)


def _raw(client: Client, name: str) -> Any:
    """The stored, JSON-serialisable value of a field: ids for keys, ISO text for times."""
    value = getattr(client, _field(name).attname)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _raw_from_json(name: str, value: Any) -> Any:
    """A recorded value in the form `_raw` returns now (a time may have been written with
    another offset)."""
    model_field = _field(name)
    if isinstance(model_field, models.DateTimeField) and value:
        return model_field.to_python(value).isoformat()
    return value


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value is False


def _fill_plan(kept: Client, merged: Client) -> dict[str, Any]:
    """The fields of `kept` to fill from `merged`: {field name: JSON-serialisable value}."""
    plan: dict[str, Any] = {}
    for name in SINGLE_FIELDS:
        if _is_empty(_raw(kept, name)) and not _is_empty(_raw(merged, name)):
            plan[name] = _raw(merged, name)
    if merged.referred_by_id == kept.pk:
        plan.pop("referred_by", None)  # nobody refers themselves
    # A number kept already has is not a new number; one it lacks becomes its other phone.
    kept_phones = {kept.mobile_phone, kept.other_phone} - {""}
    for name in PHONE_FIELDS:
        if plan.get(name) in kept_phones:
            del plan[name]
    spare = merged.mobile_phone or merged.other_phone
    free = not kept.other_phone and "other_phone" not in plan
    if free and spare and spare not in kept_phones and spare != plan.get("mobile_phone"):
        plan["other_phone"] = spare
    for group in FIELD_GROUPS:
        if all(_is_empty(_raw(kept, name)) for name in group):
            plan.update({n: _raw(merged, n) for n in group if not _is_empty(_raw(merged, n))})
    same_day = (kept.birth_day, kept.birth_month) == (merged.birth_day, merged.birth_month)
    if kept.birth_day and same_day and not kept.birth_year and merged.birth_year:
        plan["birth_year"] = merged.birth_year
    if merged.is_blocked:
        if not kept.is_blocked:
            plan["is_blocked"] = True
        if not kept.blocked_reason:
            reason = merged.blocked_reason or f"{merged.full_name} was blocked before the merge."
            plan["blocked_reason"] = reason[: _field("blocked_reason").max_length]
    return plan


def _display(client: Client, name: str, country: str) -> str:
    """A field's value as staff read it."""
    model_field = _field(name)
    value = getattr(client, name)
    if _is_empty(_raw(client, name)):
        return ""
    if name in PHONE_FIELDS:
        return format_phone(value, country)
    if name == "birth_month":
        return datetime.date(2000, value, 1).strftime("%B")
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes"
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "j M Y")
    if isinstance(value, FieldFile):
        return "Photo"
    return str(value)


# --- Related rows ----------------------------------------------------------------------------


def _client_foreign_keys() -> list[models.ForeignKey]:
    """Every foreign key, in any installed app, that points at Client.

    Hidden relations (related_name="+") count too, which `_meta.related_objects` leaves out.
    Many-to-many fields show up as their through table's foreign keys.
    """
    keys = []
    for relation in Client._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete or relation.many_to_many:
            continue
        key = relation.field
        if key.model is ClientMerge or key is _field("merged_into"):
            continue  # the merge's own bookkeeping stays where it is
        keys.append(key)
    return keys


def _relation_key(key: models.ForeignKey) -> str:
    # Per field, not only per model: a model may point at Client twice (e.g. buyer and
    # recipient), and undo must move back only the column that was moved.
    return f"{key.model._meta.label}.{key.name}"


def _unique_sets(key: models.ForeignKey) -> list[tuple[list[str], Q | None]]:
    """Unique constraints of `key.model` that include `key`: (other fields, condition)."""
    meta = key.model._meta
    sets: list[tuple[list[str], Q | None]] = []
    if key.unique:
        sets.append(([], None))
    for names in meta.unique_together:
        sets.append((list(names), None))
    for constraint in meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            sets.append((list(constraint.fields), constraint.condition))
    result = []
    for names, condition in sets:
        names = [meta.get_field(n).name for n in names]
        if not names or key.name in names:
            result.append(([n for n in names if n != key.name], condition))
    return result


def _movable(key: models.ForeignKey, source: Client, target: Client) -> QuerySet:
    """Rows whose `key` points at `source` and can point at `target` without a clash."""
    # The base manager: a default manager that hides rows (e.g. soft-deleted ones) must not
    # leave them behind. Rows are found through the client, so they are this tenant's.
    manager = key.model._base_manager
    rows = manager.filter(**{key.name: source})
    if key.model is Client:
        rows = rows.exclude(pk__in=[source.pk, target.pk])
    for others, condition in _unique_sets(key):
        # e.g. a tag the target already has stays with the source.
        clash = manager.filter(**{key.name: target}, **{n: OuterRef(n) for n in others})
        if condition is not None:
            clash = clash.filter(condition)
            rows = rows.exclude(condition & Exists(clash))
        else:
            rows = rows.exclude(Exists(clash))
    return rows


def _move(key: models.ForeignKey, rows: QuerySet, target: Client) -> list:
    ids = list(rows.values_list("pk", flat=True))
    if ids:
        key.model._base_manager.filter(pk__in=ids).update(**{key.name: target})
    return [pk if isinstance(pk, int) else str(pk) for pk in ids]


def _lock(*clients: Client) -> None:
    """Lock the clients' rows (in id order, so two merges cannot deadlock) and reload them."""
    pks = sorted(client.pk for client in clients)
    list(Client.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
    for client in clients:
        client.refresh_from_db()


# --- Services --------------------------------------------------------------------------------


@transaction.atomic
def client_merge(*, kept: Client, merged: Client, by: User | None) -> ClientMerge:
    """Merge `merged` into `kept`: fill kept's empty fields, move every related row, archive
    `merged`. Returns the `ClientMerge` that records it; raises MergeError if not allowed."""
    if kept.business_id != merged.business_id:
        raise MergeError("These clients belong to different businesses.")
    if kept.pk != merged.pk:
        _lock(kept, merged)
    problem = merge_problem(kept=kept, merged=merged)
    if problem:
        raise MergeError(problem)
    filled = _fill_plan(kept, merged)
    moved = {}
    for key in _client_foreign_keys():
        ids = _move(key, _movable(key, merged, kept), kept)
        if ids:
            moved[_relation_key(key)] = ids
    for name, value in filled.items():
        setattr(kept, _field(name).attname, _field(name).to_python(value))
    kept.save()  # a full save, so the search columns pick up a filled e-mail or phone
    merged.archived_at = timezone.now()
    merged.merged_into = kept
    merged.save(update_fields=["archived_at", "merged_into", "updated_at"])
    merge = ClientMerge.objects.create(
        business_id=kept.business_id,
        kept=kept,
        merged=merged,
        filled_fields=filled,
        moved=moved,
        merged_by=by,
    )
    client_merged.send(sender=ClientMerge, merge=merge)
    return merge


@transaction.atomic
def client_merge_undo(*, merge: ClientMerge, by: User | None) -> None:
    """Undo `merge`: move back the rows it moved (those still on the kept client), empty the
    fields it filled unless edited since, and restore the merged client."""
    # Only the merge row here (of=self); the clients are locked in id order by _lock.
    merge = (
        ClientMerge.objects.select_for_update(of=("self",))
        .select_related("kept", "merged")
        .get(pk=merge.pk)
    )
    kept, merged = merge.kept, merge.merged
    _lock(kept, merged)
    problem = undo_problem(merge=merge)
    if problem:
        raise MergeError(problem)
    for relation, ids in merge.moved.items():
        label, name = relation.rsplit(".", 1)
        try:
            key = apps.get_model(label)._meta.get_field(name)
        except LookupError:
            continue  # the model or field is gone; nothing left to move back
        _move(key, _movable(key, kept, merged).filter(pk__in=ids), merged)
    filled = merge.filled_fields
    unchanged = {n for n, value in filled.items() if _raw(kept, n) == _raw_from_json(n, value)}
    for name in filled:
        # A group edited since (a new consent answer, a new address) is kept whole.
        group = next((g for g in UNDO_GROUPS if name in g), (name,))
        if all(n in unchanged for n in group if n in filled):
            setattr(kept, _field(name).attname, _field(name).get_default())
    kept.save()
    merged.archived_at = None
    merged.merged_into = None
    merged.save(update_fields=["archived_at", "merged_into", "updated_at"])
    merge.undone_at = timezone.now()
    merge.undone_by = by
    merge.save(update_fields=["undone_at", "undone_by"])
    client_merge_undone.send(sender=ClientMerge, merge=merge)


# --- Selectors -------------------------------------------------------------------------------


@dataclass
class MergePreview:
    """What a merge would do, for the confirmation page."""

    problem: str | None
    rows: list[tuple[str, str, str, bool]]  # label, kept's value, merged's value, will fill
    moves: list[tuple[str, int]]  # what moves, how many

    @property
    def filled(self) -> list[str]:
        return [label for label, _, _, fills in self.rows if fills]


# Every field a merge may fill, in the order and words of the client form.
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "mobile_phone": "Mobile phone",
    "other_phone": "Other phone",
    "birth_day": "Birthday: day",
    "birth_month": "Birthday: month",
    "birth_year": "Birthday: year",
    "gender": "Gender",
    "pronouns": "Pronouns",
    "address_line1": "Address line 1",
    "address_line2": "Address line 2",
    "city": "City",
    "region": "County / state",
    "postal_code": "Postal code",
    "country": "Country code",
    "referral_source": "Referral source",
    "referred_by": "Referred by",
    "email_marketing": "Agrees to marketing e-mails",
    "email_marketing_at": "E-mail consent recorded",
    "email_marketing_source": "E-mail consent source",
    "sms_marketing": "Agrees to marketing text messages",
    "sms_marketing_at": "SMS consent recorded",
    "sms_marketing_source": "SMS consent source",
    "is_blocked": "Blocked from booking",
    "blocked_reason": "Blocked reason",
    "alert": "Alert",
    "photo": "Photo",
    "external_id": "Imported ID",
}


def merge_preview(*, kept: Client, merged: Client) -> MergePreview:
    """Both clients side by side, the fields that would be filled and the rows that would move."""
    problem = merge_problem(kept=kept, merged=merged)
    plan = {} if problem else _fill_plan(kept, merged)
    country = kept.business.country
    rows = []
    for name, label in LABELS.items():
        mine, theirs = _display(kept, name, country), _display(merged, name, country)
        if mine or theirs:
            rows.append((label, mine, theirs, name in plan))
    moves = []
    if not problem:
        keys = _client_foreign_keys()
        for key in keys:
            count = _movable(key, merged, kept).count()
            if count:
                moves.append((_relation_label(key, keys), count))
    return MergePreview(problem=problem, rows=rows, moves=moves)


def _relation_label(key: models.ForeignKey, keys: list[models.ForeignKey]) -> str:
    label = str(key.model._meta.verbose_name_plural)
    if key.model is Client or sum(k.model is key.model for k in keys) > 1:
        label += f" ({key.verbose_name})"
    return label


def merges_for_client(client: Client) -> list[ClientMerge]:
    """Merges into `client`, newest first, for the profile's merge history."""
    return list(
        client.merges_kept.select_related("merged", "merged_by", "undone_by").order_by(
            "-created_at", "-pk"
        )
    )


@dataclass
class DuplicateGroup:
    """Active clients who share an e-mail, a phone, or a name and a phone."""

    kind: str  # "name_phone", "email" or "phone"
    value: str  # the shared e-mail or E.164 phone
    size: int
    members: list[Client] = field(default_factory=list)  # oldest first, at most MEMBERS_SHOWN

    REASONS = {"name_phone": "Same name and phone", "email": "Same e-mail", "phone": "Same phone"}

    @property
    def reason(self) -> str:
        return self.REASONS[self.kind]

    @property
    def is_phone(self) -> bool:
        return self.kind != "email"

    @property
    def more(self) -> int:
        return self.size - len(self.members)


@dataclass
class DuplicatePage:
    groups: list[DuplicateGroup]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


# Grouped in the database, in two steps so that a million clients stay usable (measured:
# about 1 s, against 5 s for grouping every active client by every key in one go).
# 1. Candidate values, archived clients included, so that the (business, email) and
#    (business, mobile_phone) indexes answer without reading the table. Other phones have no
#    index and are rare: one pass collects them.
# 2. The active clients holding a candidate value, grouped exactly. A phone group whose
#    members all share one name is already listed as a "name and phone" group.
_GROUPS_SQL = """
WITH
email_candidates AS (
    SELECT email AS value FROM {table} WHERE business_id = %(business)s AND email <> ''
    GROUP BY email HAVING COUNT(*) > 1
),
others AS (
    SELECT id, other_phone AS phone, first_name, last_name, archived_at FROM {table}
    WHERE business_id = %(business)s AND other_phone NOT IN ('', mobile_phone)
),
phone_candidates AS (
    SELECT mobile_phone AS value FROM {table}
    WHERE business_id = %(business)s AND mobile_phone <> ''
    GROUP BY mobile_phone HAVING COUNT(*) > 1
    UNION
    SELECT phone FROM others GROUP BY phone HAVING COUNT(*) > 1
    UNION
    SELECT phone FROM others o WHERE EXISTS (
        SELECT 1 FROM {table} c WHERE c.business_id = %(business)s AND c.mobile_phone = o.phone
    )
),
phone_rows AS (
    SELECT id, mobile_phone AS phone, LOWER(first_name) AS fn, LOWER(last_name) AS ln
    FROM {table} WHERE business_id = %(business)s AND archived_at IS NULL
      AND mobile_phone IN (SELECT value FROM phone_candidates)
    UNION
    SELECT id, phone, LOWER(first_name), LOWER(last_name) FROM others
    WHERE archived_at IS NULL AND phone IN (SELECT value FROM phone_candidates)
),
groups AS (
    SELECT 1 AS rank, 'name_phone' AS kind, phone AS value, fn, ln,
           COUNT(*) AS size, MAX(id) AS newest
    FROM phone_rows GROUP BY phone, fn, ln HAVING COUNT(*) > 1
    UNION ALL
    SELECT 2, 'email', email, '', '', COUNT(*), MAX(id)
    FROM {table} WHERE business_id = %(business)s AND archived_at IS NULL
      AND email IN (SELECT value FROM email_candidates)
    GROUP BY email HAVING COUNT(*) > 1
    UNION ALL
    SELECT 3, 'phone', phone, '', '', COUNT(*), MAX(id)
    FROM phone_rows GROUP BY phone
    HAVING COUNT(*) > 1 AND (COUNT(DISTINCT fn) > 1 OR COUNT(DISTINCT ln) > 1)
)
SELECT kind, value, fn, ln, size FROM groups
ORDER BY rank, newest DESC, value, fn, ln
LIMIT %(limit)s OFFSET %(offset)s
"""

# The first few members of each group on the page. Each branch is a plain equality join, so
# the e-mail and mobile indexes serve the first two.
_MEMBERS_SQL = """
WITH page (pos, kind, value, fn, ln) AS (VALUES {values}),
matches AS (
    SELECT page.pos, c.id, c.created_at FROM page JOIN {table} c
      ON page.kind = 'email' AND c.email = page.value
    WHERE c.business_id = %(business)s AND c.archived_at IS NULL
    UNION
    SELECT page.pos, c.id, c.created_at FROM page JOIN {table} c
      ON page.kind <> 'email' AND c.mobile_phone = page.value
    WHERE c.business_id = %(business)s AND c.archived_at IS NULL
      AND (page.kind = 'phone' OR (LOWER(c.first_name) = page.fn AND LOWER(c.last_name) = page.ln))
    UNION
    SELECT page.pos, c.id, c.created_at FROM page JOIN {table} c
      ON page.kind <> 'email' AND c.other_phone = page.value
    WHERE c.business_id = %(business)s AND c.archived_at IS NULL
      AND (page.kind = 'phone' OR (LOWER(c.first_name) = page.fn AND LOWER(c.last_name) = page.ln))
),
ranked AS (
    SELECT pos, id, ROW_NUMBER() OVER (PARTITION BY pos ORDER BY created_at, id) AS n
    FROM matches
)
SELECT pos, id FROM ranked WHERE n <= %(shown)s ORDER BY pos, n
"""


def _fetch_groups(table: str, params: dict[str, Any]) -> list[tuple]:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The planner cannot know how few values are duplicated, so it costs this query
            # high enough to JIT-compile it: about 1 s of compiling for 1 s of work (measured).
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(_GROUPS_SQL.format(table=table), params)
        return cursor.fetchall()


def likely_duplicates(business: Business, *, page: int, per_page: int) -> DuplicatePage:
    """One page of groups of likely duplicate clients, in a fixed number of queries whatever
    the size of the business: the groups (grouped in SQL), their first members, the clients."""
    page = min(max(page, 1), MAX_PAGE)
    table = connection.ops.quote_name(Client._meta.db_table)
    params = {"business": business.pk, "limit": per_page + 1, "offset": (page - 1) * per_page}
    found = _fetch_groups(table, params)
    rows = found[:per_page]
    groups = [DuplicateGroup(kind=r[0], value=r[1], size=r[4]) for r in rows]
    if not groups:
        return DuplicatePage(groups=[], number=page, has_next=False)
    values = ", ".join(
        f"(%(p{i})s, %(k{i})s, %(v{i})s, %(f{i})s, %(l{i})s)" for i in range(len(rows))
    )
    params = {"business": business.pk, "shown": MEMBERS_SHOWN}
    for i, (kind, value, fn, ln, _) in enumerate(rows):
        params.update({f"p{i}": i, f"k{i}": kind, f"v{i}": value, f"f{i}": fn, f"l{i}": ln})
    with connection.cursor() as cursor:
        cursor.execute(_MEMBERS_SQL.format(values=values, table=table), params)
        member_ids = cursor.fetchall()
    clients = business.clients.in_bulk([pk for _, pk in member_ids])
    for pos, pk in member_ids:
        groups[pos].members.append(clients[pk])
    return DuplicatePage(groups=groups, number=page, has_next=len(found) > per_page)
