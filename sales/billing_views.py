"""The no-show fee on the appointment page: what would be charged, and the charge itself."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.vary import vary_on_headers

from appointments.models import Appointment
from glamiti.models import Role
from glamiti.templatetags.glamiti_tags import money
from glamiti.tenancy import BusinessRequest, role_required
from sales.billing import NoShowFeeError, no_show_fee_charge, no_show_fee_state


def _appointment(request: BusinessRequest, pk: int) -> Appointment:
    appointments = request.business.appointments.select_related("client", "business")
    return get_object_or_404(appointments, pk=pk)


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def no_show_fee(request: BusinessRequest, appointment_pk: int) -> HttpResponse:
    """GET: the fee panel (a fragment for the appointment page, or a page). POST: charge the
    fee to the client's default card (managers and owners)."""
    appointment = _appointment(request, appointment_pk)
    can_charge = request.membership.has_role(Role.MANAGER)
    if request.method == "POST":
        if not can_charge:
            raise PermissionDenied("Only managers and owners can charge a no-show fee.")
        try:
            sale = no_show_fee_charge(appointment=appointment, by=request.user)
        except NoShowFeeError as error:
            messages.error(request, f"The no-show fee was not charged. {error.message}")
        else:
            amount = money(sale.total, request.business.currency)
            messages.success(request, f"No-show fee of {amount} charged (sale #{sale.pk}).")
        return redirect(appointment)
    context = {"appointment": appointment, "fee": no_show_fee_state(appointment)}
    context["can_charge"] = can_charge
    template = "sales/no_show_fee.html#panel" if request.htmx else "sales/no_show_fee.html"
    return render(request, template, context)
