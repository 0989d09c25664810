from __future__ import annotations

import datetime
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from appointments import services
from appointments.forms import (
    CANCEL_REASONS,
    BookingForm,
    CancelForm,
    RescheduleForm,
    ServiceForm,
)
from appointments.models import Appointment, AppointmentStatus, Service
from appointments.selectors import calendar_day
from appointments.services import BookingError
from clients.masking import display_name
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required

MIN_YEAR, MAX_YEAR = 2000, 2100


# --- Calendar --------------------------------------------------------------------------------


@role_required(Role.STAFF)
def calendar(request: BusinessRequest) -> HttpResponse:
    day = _requested_day(request)
    context = {
        "day": calendar_day(request.business, day),
        "today": timezone.localdate(),
        "previous_day": day - datetime.timedelta(days=1),
        "next_day": day + datetime.timedelta(days=1),
        "can_manage_services": request.membership.has_role(Role.MANAGER),
        # The appointment just booked or moved, outlined and scrolled to.
        "focus": _query_int(request, "focus"),
    }
    return render(request, "appointments/calendar.html", context)


def _query_int(request: BusinessRequest, name: str) -> int | None:
    """A number from the query string, or None for anything else (links can be edited)."""
    try:
        return int(request.GET.get(name, ""))
    except ValueError:
        return None


def _requested_day(request: BusinessRequest) -> datetime.date:
    raw = request.GET.get("date", "").strip()
    if not raw:
        return timezone.localdate()
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not MIN_YEAR <= day.year <= MAX_YEAR:
        messages.warning(request, f"“{raw[:40]}” isn't a date we can show; here is today.")
        return timezone.localdate()
    return day


def _calendar_url(request: BusinessRequest, day: datetime.date) -> str:
    url = reverse("appointments:calendar", kwargs={"business": request.business.slug})
    return f"{url}?date={day.isoformat()}"


# --- Booking ---------------------------------------------------------------------------------


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def book(request: BusinessRequest) -> HttpResponse:
    form = BookingForm(
        request.POST or None, business=request.business, initial=_booking_initial(request)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.appointment_book(
                business=request.business,
                client=data["client"],
                team_member=data["team_member"],
                start_at=data["start_at"],
                services=list(data["services"]),
                notes=data["notes"],
                by=request.user,
            )
        except BookingError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            start = timezone.localtime(appointment.start_at)
            messages.success(
                request,
                f"Booked {display_name(appointment.client)} with {appointment.team_member.name} "
                f"on {start:%A} {start.day} {start:%B} at {start:%H:%M}.",
            )
            url = f"{_calendar_url(request, start.date())}&focus={appointment.pk}"
            if _in_dialog(request) and request.htmx:
                return HttpResponseClientRedirect(url)
            return redirect(url)
    return _booking_response(request, form)


def _in_dialog(request: BusinessRequest) -> bool:
    return request.GET.get("dialog") == "1" or request.POST.get("dialog") == "1"


def _booking_response(request: BusinessRequest, form: BookingForm) -> HttpResponse:
    in_dialog = _in_dialog(request)
    context = {
        "form": form,
        "in_dialog": in_dialog,
        "service_groups": _service_groups(form),
        "can_manage_services": request.membership.has_role(Role.MANAGER),
    }
    template = "appointments/book.html"
    if in_dialog and request.htmx and not request.htmx.history_restore_request:
        template += "#booking_form" if request.method == "POST" else "#dialog"
    return render(request, template, context)


def _service_groups(form: BookingForm) -> list[tuple[str, list]]:
    """The service checkboxes grouped by category, each with its service (for its duration
    and price)."""
    groups: dict[str, list] = {}
    for box in form["services"]:
        service = box.data["value"].instance
        groups.setdefault(service.category or "Services", []).append((box, service))
    return list(groups.items())


def _booking_initial(request: BusinessRequest) -> dict:
    """Pre-fill from the link that opened the form (a calendar slot, a client's page)."""
    initial: dict = {"date": timezone.localdate()}
    query = request.GET
    for name in ("team_member", "client"):
        if (pk := _query_int(request, name)) is not None:
            initial[name] = pk
    day = _parse(datetime.date.fromisoformat, query.get("date", ""))
    if day is not None and MIN_YEAR <= day.year <= MAX_YEAR:
        initial["date"] = day
    start_time = _parse(datetime.time.fromisoformat, query.get("time", ""))
    if start_time is not None:
        initial["start_time"] = start_time.replace(second=0, microsecond=0, tzinfo=None)
    return initial


def _parse(parser: Callable, raw: str):
    try:
        return parser(raw)
    except ValueError:
        return None


# --- One appointment -------------------------------------------------------------------------


def _appointment(request: BusinessRequest, pk: int) -> Appointment:
    return get_object_or_404(
        request.business.appointments.select_related(
            "client", "team_member", "created_by", "canceled_by"
        ).prefetch_related("services"),
        pk=pk,
    )


@role_required(Role.STAFF)
def detail(request: BusinessRequest, pk: int) -> HttpResponse:
    return _detail_response(request, _appointment(request, pk))


def _detail_response(
    request: BusinessRequest,
    appointment: Appointment,
    *,
    cancel_form: CancelForm | None = None,
    reschedule_form: RescheduleForm | None = None,
    opened: str = "",
) -> HttpResponse:
    start = timezone.localtime(appointment.start_at)
    lines = list(appointment.services.all())
    if reschedule_form is None:
        reschedule_form = RescheduleForm(
            business=request.business,
            initial={
                "team_member": appointment.team_member_id,
                "date": start.date(),
                "start_time": start.time().replace(second=0, microsecond=0),
            },
        )
    context = {
        "appointment": appointment,
        "client": appointment.client,
        "lines": lines,
        "total": sum((line.price for line in lines), start=0),
        "can": {
            "complete": appointment.can_complete(),
            "cancel": appointment.can_cancel(),
            "no_show": appointment.can_mark_no_show(),
            "reschedule": appointment.can_reschedule(),
        },
        "cancel_form": cancel_form or CancelForm(),
        "cancel_reasons": CANCEL_REASONS,
        "reschedule_form": reschedule_form,
        "opened": opened,
        "checkout_url": _checkout_url(request, appointment),
        "calendar_url": _calendar_url(request, start.date()),
    }
    return render(request, "appointments/detail.html", context)


def _detail_url(request: BusinessRequest, appointment: Appointment) -> str:
    return reverse(
        "appointments:detail", kwargs={"business": request.business.slug, "pk": appointment.pk}
    )


def _checkout_url(request: BusinessRequest, appointment: Appointment) -> str | None:
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED):
        return None
    slug = request.business.slug
    try:
        url = reverse("sales:checkout", kwargs={"business": slug})
    except NoReverseMatch:  # the checkout page arrives with sales; keep the link stable
        url = reverse("sales:list", kwargs={"business": slug}) + "checkout/"
    return f"{url}?appointment={appointment.pk}"


def _change(
    request: BusinessRequest, appointment: Appointment, change: Callable[[], object], done: str
) -> HttpResponse:
    try:
        change()
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(_detail_url(request, appointment))


@require_POST
@role_required(Role.STAFF)
def complete(request: BusinessRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    return _change(
        request,
        appointment,
        lambda: services.appointment_complete(appointment=appointment, by=request.user),
        "Appointment completed.",
    )


@require_POST
@role_required(Role.STAFF)
def no_show(request: BusinessRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    return _change(
        request,
        appointment,
        lambda: services.appointment_mark_no_show(appointment=appointment, by=request.user),
        f"Marked as a no-show. {display_name(appointment.client)} missed this appointment.",
    )


@role_required(Role.STAFF)
def cancel(request: BusinessRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(
                appointment=appointment, by=request.user, reason=form.cleaned_data["reason"]
            )
        except BookingError as error:
            if error.field != "reason":
                messages.error(request, error.message)
                return redirect(_detail_url(request, appointment))
            form.add_error("reason", error.message)
        else:
            messages.success(request, "Appointment canceled. The time is free again.")
            return redirect(_detail_url(request, appointment))
    return _detail_response(request, appointment, cancel_form=form, opened="cancel")


@role_required(Role.STAFF)
def reschedule(request: BusinessRequest, pk: int) -> HttpResponse:
    appointment = _appointment(request, pk)
    if request.method != "POST":
        return _detail_response(request, appointment, opened="reschedule")
    form = RescheduleForm(request.POST, business=request.business)
    if form.is_valid():
        try:
            moved = services.appointment_reschedule(
                appointment=appointment,
                start_at=form.cleaned_data["start_at"],
                team_member=form.cleaned_data["team_member"],
                by=request.user,
            )
        except BookingError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            start = timezone.localtime(moved.start_at)
            messages.success(
                request,
                f"Moved to {start:%A} {start.day} {start:%B} at {start:%H:%M} "
                f"with {moved.team_member.name}.",
            )
            return redirect(_detail_url(request, appointment))
    return _detail_response(request, appointment, reschedule_form=form, opened="reschedule")


# --- Services the business offers ------------------------------------------------------------


@role_required(Role.MANAGER)
def service_list(request: BusinessRequest) -> HttpResponse:
    offered = request.business.services.order_by("-is_active", "category", "name")
    return render(request, "appointments/services.html", {"services": offered})


@role_required(Role.MANAGER)
def service_create(request: BusinessRequest) -> HttpResponse:
    return _service_form(request, None)


@role_required(Role.MANAGER)
def service_edit(request: BusinessRequest, pk: int) -> HttpResponse:
    return _service_form(request, get_object_or_404(request.business.services, pk=pk))


def _service_form(request: BusinessRequest, service: Service | None) -> HttpResponse:
    form = ServiceForm(request.POST or None, instance=service, business=request.business)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"“{saved.name}” {'saved' if service else 'added'}.")
        return redirect("appointments:services", business=request.business.slug)
    categories = (
        request.business.services.exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )
    context = {"form": form, "service": service, "categories": list(categories)}
    return render(request, "appointments/service_form.html", context)
