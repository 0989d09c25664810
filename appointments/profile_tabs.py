"""The profile's Appointments tab: upcoming and past appointments, filtered by status."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from appointments.models import AppointmentStatus
from appointments.profile_selectors import (
    attach_services,
    client_past_appointments,
    client_upcoming_appointments,
)
from clients.profile import profile_client, render_tab, tab_url
from clients.profile_common import page_number, page_of, query_string, url_maker
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def appointments_tab(request: BusinessRequest, pk: int) -> HttpResponse:
    """Upcoming (soonest first) and past (newest first, paginated): three queries."""
    client = profile_client(request, pk)
    status = request.GET.get("status", "")
    status = status if status in AppointmentStatus.values else ""
    now = timezone.now()
    upcoming = client_upcoming_appointments(client, status=status, now=now)
    page = page_of(client_past_appointments(client, status=status, now=now), page_number(request))
    attach_services(upcoming, page.object_list)
    appointment_url = url_maker("appointments:detail", business=request.business.slug)
    for appointment in [*upcoming, *page.object_list]:
        appointment.url = appointment_url(appointment.pk)
    context = {
        "upcoming": upcoming if page.number == 1 else [],
        "page": page,
        "status": status,
        "statuses": [("", "All")] + list(AppointmentStatus.choices),
        "query_string": query_string(status=status),
        "appointments_url": tab_url(request, client, "appointments"),
    }
    return render_tab(request, client, "appointments", context)
