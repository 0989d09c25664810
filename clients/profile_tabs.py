"""The profile tabs the clients app serves: History (every interaction, one timeline) and
Notes (notes and documents), with the note and document actions."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, Value
from django.db.models.functions import Concat
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from appointments.models import AppointmentStatus
from appointments.profile_selectors import (
    client_appointment_timeline,
    client_visits_per_month,
    service_names,
)
from clients.consent import consent_history
from clients.models import Client, ClientDocument, ClientNote, NoteKind
from clients.notes import (
    MAX_DOCUMENT_BYTES,
    MAX_UPLOAD_BODY_BYTES,
    DocumentNotStored,
    DocumentSizeLimitHandler,
    document_delete,
    document_upload,
    download_name,
    note_create,
    note_delete,
    note_pin,
    note_update,
)
from clients.notes_forms import DocumentForm, NoteForm
from clients.privacy_views import ERASED_MESSAGE
from clients.profile import profile_client, render_tab, tab_url
from clients.profile_chart import MonthlyChart, monthly_chart
from clients.profile_common import (
    TimelineEntry,
    last_months,
    month_key,
    month_start,
    page_number,
    page_of,
    query_string,
    timeline_page,
    timeline_rows,
    url_maker,
)
from glamiti.models import Role
from glamiti.templatetags.glamiti_tags import money
from glamiti.tenancy import BusinessRequest, role_required
from sales.models import FeedbackSource, SaleStatus
from sales.profile_selectors import (
    client_feedback_timeline,
    client_sale_timeline,
    client_spend_per_month,
)
from vouchers.models import LedgerKind
from vouchers.profile_selectors import client_voucher_timeline

logger = logging.getLogger(__name__)

HISTORY_KINDS = [
    ("", "Everything"),
    ("appointment", "Appointments"),
    ("sale", "Sales"),
    ("note", "Notes"),
    ("feedback", "Feedback"),
    ("voucher", "Vouchers"),
]
DOCUMENTS_SHOWN = 50
TOO_LARGE = (
    f"This file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; upload a smaller one."
)

# --- History -----------------------------------------------------------------------------


def client_note_timeline(client: Client) -> QuerySet:
    return timeline_rows(
        client.notes.all(),
        kind="note",
        at="created_at",
        status="kind",
        text="text",
        person=Concat("created_by__first_name", Value(" "), "created_by__last_name"),
    )


def spending_and_visits_chart(client: Client) -> MonthlyChart:
    """Spending and visits per month for the last 12 months: one UNION query."""
    months = last_months(12)
    since = month_start(months[0])
    rows = client_visits_per_month(client, since=since).union(
        client_spend_per_month(client, since=since), all=True
    )
    visits: dict[Any, int] = defaultdict(int)
    spend: dict[Any, Decimal] = defaultdict(Decimal)
    for row in rows:
        key = month_key(row["month"])
        visits[key] += row["visits"] or 0
        spend[key] += Decimal(str(row["spend"] or 0))  # SQLite may give a float
    return monthly_chart(
        chart_id="history-chart",
        title="Spending and visits per month, last 12 months",
        months=months,
        amounts=spend,
        amount_label="Spending",
        currency=client.business.currency,
        counts=visits,
        count_label="Visits",
    )


STATUS_LABELS = {
    "appointment": dict(AppointmentStatus.choices),
    "sale": dict(SaleStatus.choices),
    "note": dict(NoteKind.choices),
    "feedback": dict(FeedbackSource.choices),
    "voucher": dict(LedgerKind.choices),
}


def _describe_entries(request: BusinessRequest, client: Client, entries: list) -> None:
    """Word each timeline row for the page: services, labels, links, local date and time.

    Done here rather than in the template: a page of 25 entries with a branch per kind is
    the costliest part of the profile to render. One query at most (the services).
    """
    slug, currency = request.business.slug, request.business.currency
    names = service_names([e.obj_id for e in entries if e.kind == "appointment"])
    tabs = {name: tab_url(request, client, name) for name in ("appointments", "notes", "feedback")}
    appointment_url = url_maker("appointments:detail", business=slug)
    sale_url = url_maker("sales:detail", business=slug)
    voucher_url = url_maker("vouchers:detail", business=slug)
    for entry in entries:
        local = timezone.localtime(entry.at)
        entry.iso, entry.day = local.isoformat(), f"{local.day} {local:%b %Y}"
        entry.time = f"{local:%H:%M}"
        person = (entry.person or "").strip()
        label = STATUS_LABELS[entry.kind].get(entry.status, entry.status or "")
        text = entry.text or ""
        if entry.kind == "appointment":
            entry.title = ", ".join(names.get(entry.obj_id, [])) or "Appointment"
            entry.url = (
                appointment_url(entry.obj_id)
                or f"{tabs['appointments']}#appointment-{entry.obj_id}"
            )
            entry.badge = label
            entry.meta = " · ".join(
                filter(None, [f"Appointment with {person}" if person else "Appointment", text])
            )
        elif entry.kind == "sale":
            entry.title, entry.url = f"Sale #{entry.obj_id}", sale_url(entry.obj_id)
            entry.suffix, entry.badge = f" · {money(entry.amount, currency)}", label
            tip = f"Tip {money(entry.tip, currency)}" if entry.tip else "No tip"
            entry.meta = " · ".join(filter(None, [tip, text]))
        elif entry.kind == "note":
            entry.title = label if entry.status == NoteKind.INTERNAL else f"{label} note"
            entry.url = f"{tabs['notes']}#note-{entry.obj_id}"
            entry.quote = Truncator(text).chars(280)
            entry.meta = f"By {person}" if person else ""
        elif entry.kind == "feedback":
            entry.title, entry.url = "Feedback", tabs["feedback"]
            rating = entry.rating or 0
            entry.stars_on, entry.stars_off = "★" * rating, "★" * (5 - rating)
            entry.quote = f"“{Truncator(text).chars(280)}”" if text else ""
            entry.meta = f"{label} · about {person}" if person else label
        elif entry.kind == "voucher":
            entry.title, entry.url = f"Voucher {entry.ref}", voucher_url(entry.ref_id)
            entry.suffix = f" · {label.lower()} {money(entry.amount, currency)}"
            balance = f"Balance after: {money(entry.balance, currency)}"
            entry.meta = " · ".join(filter(None, [balance, text]))
        entry.html = _entry_html(entry)


def _entry_html(entry: TimelineEntry) -> SafeString:
    """One timeline item. Plain strings with every text part escaped: the template loop
    over 25 items, a dozen variables each, was the slowest part of the profile page."""
    title = escape(entry.title)
    if entry.url:
        title = f'<a href="{escape(entry.url)}">{title}</a>'
    if entry.badge:
        badge = escape(entry.badge)
        title += f' <span class="badge badge-status-{escape(entry.status)}">{badge}</span>'
    if entry.rating:
        title += (
            f' <span class="pf-stars" role="img" aria-label="{entry.rating} out of 5">'
            f'<span class="pf-star-on">{entry.stars_on}</span>'
            f'<span class="pf-star-off">{entry.stars_off}</span></span>'
        )
    quote = f'<p class="pf-timeline-text">{escape(entry.quote)}</p>' if entry.quote else ""
    meta = f'<p class="muted">{escape(entry.meta)}</p>' if entry.meta else ""
    return mark_safe(  # noqa: S308 - every text part above is escaped
        f'<li class="pf-timeline-item pf-timeline-{entry.kind}">'
        '<span class="pf-timeline-dot" aria-hidden="true"></span>'
        f'<div class="pf-timeline-body"><p class="pf-timeline-title">{title}'
        f"{escape(entry.suffix)}</p>{quote}{meta}</div>"
        f'<time class="pf-timeline-time" datetime="{entry.iso}">{escape(entry.day)}<br>'
        f'<span class="muted">{entry.time}</span></time></li>'
    )


def history_response(request: BusinessRequest, client: Client) -> HttpResponse:
    """The History tab: the monthly chart and one page of the timeline (three queries)."""
    kinds = dict(HISTORY_KINDS)
    kind = request.GET.get("kind", "")
    kind = kind if kind in kinds else ""
    now = timezone.now()
    branches: dict[str, Callable[[], QuerySet]] = {
        "appointment": lambda: client_appointment_timeline(client, now=now),
        "sale": lambda: client_sale_timeline(client),
        "note": lambda: client_note_timeline(client),
        "feedback": lambda: client_feedback_timeline(client),
        "voucher": lambda: client_voucher_timeline(client),
    }
    chosen = [branches[kind]()] if kind else [make() for make in branches.values()]
    page = timeline_page(chosen, page_number(request))
    _describe_entries(request, client, page.object_list)
    context = {
        "chart": spending_and_visits_chart(client),
        "page": page,
        "kind": kind,
        "kinds": HISTORY_KINDS,
        "query_string": query_string(kind=kind),
        "history_url": tab_url(request, client, "history"),
    }
    return render_tab(request, client, "history", context)


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def history_tab(request: BusinessRequest, pk: int) -> HttpResponse:
    return history_response(request, profile_client(request, pk))


# --- Notes and documents -----------------------------------------------------------------


def _can_change_note(request: BusinessRequest, note: ClientNote) -> bool:
    """Authors change their own notes; managers and owners any note (team leads tidy up)."""
    return note.created_by_id == request.user.pk or request.membership.has_role(Role.MANAGER)


def _can_delete_documents(request: BusinessRequest) -> bool:
    """Consent forms and medical waivers are the salon's records of what a client agreed
    to: front-desk staff add and read them; only managers and owners remove them."""
    return request.membership.has_role(Role.MANAGER)


def notes_response(
    request: BusinessRequest,
    client: Client,
    *,
    note_form: NoteForm | None = None,
    document_form: DocumentForm | None = None,
    document_error: str = "",
    editing: ClientNote | None = None,
    edit_form: NoteForm | None = None,
    flash: str = "",
    status: int = 200,
) -> HttpResponse:
    """The Notes tab: notes (pinned first, paginated) and the latest documents."""
    page = page_of(
        client.notes.select_related("created_by", "updated_by").order_by(
            "-is_pinned", "-created_at", "-id"
        ),
        page_number(request),
    )
    for note in page.object_list:
        note.can_change = _can_change_note(request, note)
    documents = list(
        client.documents.select_related("uploaded_by").order_by("-created_at", "-id")[
            :DOCUMENTS_SHOWN
        ]
    )
    if editing is not None and edit_form is None:
        edit_form = NoteForm(instance=editing, prefix="edit")
    context = {
        "page": page,
        "documents": documents,
        "documents_capped": len(documents) == DOCUMENTS_SHOWN,
        "note_form": note_form or NoteForm(prefix="note"),
        "document_form": document_form or DocumentForm(prefix="doc"),
        "document_error": document_error,
        "editing": editing,
        "edit_form": edit_form,
        "flash": flash,
        "can_delete_documents": _can_delete_documents(request),
        "notes_url": tab_url(request, client, "notes"),
        "consent": consent_history(client),
    }
    return render_tab(request, client, "notes", context, status=status)


def _after_change(request: BusinessRequest, client: Client, message: str) -> HttpResponse:
    """htmx: the refreshed tab in place (its URL back to the tab's); otherwise redirect."""
    if request.htmx:
        response = notes_response(request, client, flash=message)
        response["HX-Replace-Url"] = tab_url(request, client, "notes")
        return response
    messages.success(request, message)
    return redirect(tab_url(request, client, "notes"))


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def notes_tab(request: BusinessRequest, pk: int) -> HttpResponse:
    return notes_response(request, profile_client(request, pk))


@require_POST
@role_required(Role.STAFF)
def note_add(request: BusinessRequest, pk: int) -> HttpResponse:
    client = profile_client(request, pk)
    if client.is_erased:
        raise PermissionDenied(ERASED_MESSAGE)
    form = NoteForm(request.POST, prefix="note")
    if not form.is_valid():
        return notes_response(request, client, note_form=form)
    note = note_create(
        client=client,
        kind=form.cleaned_data["kind"],
        text=form.cleaned_data["text"],
        by=request.user,
    )
    return _after_change(request, client, f"{note.get_kind_display()} note added.")


def _note_for_change(request: BusinessRequest, client: Client, note_pk: int) -> ClientNote:
    note = get_object_or_404(client.notes, pk=note_pk)
    if not _can_change_note(request, note):
        raise PermissionDenied("Only the note's author or a manager can change it.")
    return note


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def note_edit(request: BusinessRequest, pk: int, note_pk: int) -> HttpResponse:
    client = profile_client(request, pk)
    note = _note_for_change(request, client, note_pk)
    if request.method != "POST":
        return notes_response(request, client, editing=note)
    form = NoteForm(request.POST, instance=note, prefix="edit")
    if not form.is_valid():
        return notes_response(request, client, editing=note, edit_form=form)
    note_update(
        note=note, kind=form.cleaned_data["kind"], text=form.cleaned_data["text"], by=request.user
    )
    return _after_change(request, client, "Note saved.")


@require_POST
@role_required(Role.STAFF)
def note_toggle_pin(request: BusinessRequest, pk: int, note_pk: int) -> HttpResponse:
    """Pin or unpin: any member may, as pinning changes only what shows first."""
    client = profile_client(request, pk)
    note = get_object_or_404(client.notes, pk=note_pk)
    note_pin(note=note, pinned=not note.is_pinned, by=request.user)
    return _after_change(request, client, "Note pinned." if note.is_pinned else "Note unpinned.")


@require_POST
@role_required(Role.STAFF)
def note_remove(request: BusinessRequest, pk: int, note_pk: int) -> HttpResponse:
    client = profile_client(request, pk)
    note_delete(note=_note_for_change(request, client, note_pk))
    return _after_change(request, client, "Note deleted.")


@csrf_exempt  # checked below, once the upload handlers are in place
@require_POST
@role_required(Role.STAFF)
def document_add(request: BusinessRequest, pk: int) -> HttpResponse:
    """Upload a document. A body larger than the limit is refused before it is read; a file
    that passes the limit while it streams in is dropped as it arrives."""
    client = profile_client(request, pk)
    if client.is_erased:
        raise PermissionDenied(ERASED_MESSAGE)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_UPLOAD_BODY_BYTES:
        return notes_response(request, client, document_error=TOO_LARGE, status=413)
    limiter = DocumentSizeLimitHandler(request)
    request.upload_handlers.insert(0, limiter)
    return _document_add(request, client, limiter)


@csrf_protect
def _document_add(
    request: BusinessRequest, client: Client, limiter: DocumentSizeLimitHandler
) -> HttpResponse:
    form = DocumentForm(request.POST, request.FILES, prefix="doc")  # reads the body
    if limiter.too_large:
        return notes_response(request, client, document_error=TOO_LARGE, status=413)
    if not form.is_valid():
        return notes_response(request, client, document_form=form)
    try:
        document = document_upload(
            client=client,
            prepared=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
            title=form.cleaned_data["title"],
            by=request.user,
        )
    except DocumentNotStored as error:
        return notes_response(
            request, client, document_form=form, document_error=str(error), status=503
        )
    return _after_change(request, client, f"“{document}” attached.")


@role_required(Role.STAFF)
def document_download(request: BusinessRequest, pk: int, document_pk: int) -> HttpResponse:
    """The only way to a document's bytes: a member of its business, as a download."""
    client = profile_client(request, pk)
    document: ClientDocument = get_object_or_404(client.documents, pk=document_pk)
    try:
        stream = document.file.open("rb")
    except Exception:  # the file store is down or slow (S3, disk): say so, never a 500
        logger.exception("Document %s could not be read from storage", document.pk)
        messages.error(
            request,
            f"“{document}” can't be downloaded right now: the document store did not answer. "
            "Try again in a minute.",
        )
        return redirect(tab_url(request, client, "notes"))
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=download_name(document),
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@role_required(Role.MANAGER)
def document_remove(request: BusinessRequest, pk: int, document_pk: int) -> HttpResponse:
    client = profile_client(request, pk)
    document = get_object_or_404(client.documents, pk=document_pk)
    name = str(document)
    document_delete(document=document)
    return _after_change(request, client, f"“{name}” deleted.")
