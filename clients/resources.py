"""django-import-export resource for clients (the platform admin's import and export).

It takes the business explicitly and stamps it on every row: a business column in a file is
never read. Fields and normalisation are the fast import's (clients/imports_fields.py,
clients/imports.py `Plan`), and the export's columns are clients/export.py's, so a file moves
between the admin and the app unchanged.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.utils import timezone
from import_export import fields, resources, widgets

from clients import export
from clients.consent import changed_channels, consent_record
from clients.imports import Plan, Row, apply_row, decide_date_orders
from clients.imports_fields import detect_vendor, propose_mapping
from clients.models import Client, ClientNote, ClientTag, NoteKind, ReferralSource, Tag
from clients.normalize import fold
from glamiti.models import Business

GLAMITI_ID = "Glamiti ID"


class SharedField(fields.Field):
    """An export column of clients/export.py; importing goes through the `Plan` instead."""

    def __init__(self, index: int, label: str) -> None:
        super().__init__(attribute=None, column_name=label, readonly=True,
                         widget=widgets.Widget())  # fmt: skip
        self.index = index

    def export(self, instance: Client, **kwargs: Any) -> str:
        return export.row_values(instance)[self.index]


class ClientResource(resources.ModelResource):
    def __init__(self, business: Business | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.business = business
        self.plan: Plan | None = None
        self.headers: list[str] = []
        self._rows: dict[int, Row] = {}
        self._sources: dict[str, int] = {}
        self._consent: dict[int, list[str]] = {}
        for index, label in enumerate(export.HEADERS):
            self.fields[f"col_{index}"] = SharedField(index, label)

    class Meta:
        model = Client
        fields: tuple[str, ...] = ()
        import_id_fields: tuple[str, ...] = ()
        skip_unchanged = False
        use_transactions = True

    # --- export -------------------------------------------------------------------------------

    def get_export_headers(self, selected_fields: Any = None) -> list[str]:
        return list(export.HEADERS)

    def filter_export(self, queryset: Any, **kwargs: Any) -> Any:
        if self.business is not None:
            queryset = queryset.filter(business=self.business)
        return queryset.select_related("referral_source").prefetch_related("tags")

    # --- import -------------------------------------------------------------------------------

    def _business(self) -> Business:
        if self.business is None:
            raise ValidationError("Choose the business to import the clients into.")
        return self.business

    def get_queryset(self) -> Any:
        return Client._base_manager.filter(business=self._business())

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        business = self._business()
        # A "Business" column, if any, is never read: the mapping has no field for it.
        self.headers = [str(h or "") for h in dataset.headers]
        vendor = detect_vendor(self.headers)
        mapping = propose_mapping(self.headers, vendor)
        plan = Plan(business, self.headers, mapping, {}, vendor)
        if plan.date_columns():
            rows = ((number, list(row)) for number, row in enumerate(dataset, start=2))
            orders = decide_date_orders(plan, rows, plan.date_columns())
            plan = Plan(business, self.headers, mapping, {"date_orders": orders}, vendor)
        self.plan = plan
        sources = ReferralSource._base_manager.filter(business=business)
        self._sources = {fold(source.name): source.pk for source in sources}

    def _row(self, row: Any, number: int) -> Row:
        cells = [row.get(header, "") for header in self.headers]
        prepared = self.plan.prepare(number, cells)
        if prepared.error:
            raise ValidationError(prepared.error)
        return prepared

    def get_instance(self, instance_loader: Any, row: Any) -> Client | None:
        text = str(row.get(GLAMITI_ID) or "").strip()
        if text.isdigit():
            return self.get_queryset().filter(pk=int(text)).first()
        return None

    def import_instance(self, instance: Client, row: Any, **kwargs: Any) -> None:
        prepared = self._row(row, kwargs.get("row_number") or 0)
        new = instance.pk is None
        instance.business = self._business()
        before = apply_row(instance, prepared, now=timezone.now(), source=self._source, new=new)
        self._rows[id(instance)] = prepared
        self._consent[id(instance)] = changed_channels(before)

    def _source(self, name: str) -> int:
        key = fold(name)
        if key not in self._sources:
            source = ReferralSource.objects.create(business=self._business(), name=name)
            self._sources[key] = source.pk
        return self._sources[key]

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        # ModelResource resets the id sequence here, for files that carry ids. Ours never
        # set an id (the database assigns them), and only the sequence's owner may reset it.
        return

    def validate_instance(self, instance: Client, import_validation_errors: Any = None,
                          validate_unique: bool = True) -> None:  # fmt: skip
        if import_validation_errors:
            raise ValidationError(import_validation_errors)

    def save_instance(self, instance: Client, is_create: bool, row: Any, **kwargs: Any) -> None:
        prepared = self._rows.pop(id(instance), None)
        # The platform admin writes through the platform connection: stay on it.
        with transaction.atomic(using=router.db_for_write(Client)):
            instance.save()  # refreshes the derived search columns
            # Unverified records of the answers the file gave (clients/consent.py).
            consent_record(instance, self._consent.pop(id(instance), []), by=None)
            if prepared is None:
                return
            values = prepared.values
            if is_create and values.get("client_since"):
                Client._base_manager.filter(pk=instance.pk).update(
                    created_at=values["client_since"]
                )
            business = instance.business
            for name in values.get("tags", ()):
                tag = Tag._base_manager.filter(business=business, name__iexact=name).first()
                tag = tag or Tag._base_manager.create(business=business, name=name)
                ClientTag._base_manager.get_or_create(business=business, client=instance, tag=tag)
            if values.get("note"):
                ClientNote._base_manager.create(
                    business=business, client=instance, kind=NoteKind.INTERNAL, text=values["note"]
                )
