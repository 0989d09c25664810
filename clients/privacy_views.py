"""GDPR requests, owners only: export a client's data, erase a client, preview retention."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from clients.models import Client
from clients.privacy import (
    PrivacyError,
    client_data_export,
    client_erase,
    erasure_plan,
    export_file_name,
    last_seen,
    name_matches,
    retention_plan,
)
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required

RETENTION_LISTED = 200
ERASED_MESSAGE = "This client's personal data was erased; the record can't be changed."


def erased_client_response(request: BusinessRequest, client: Client) -> HttpResponse | None:
    """For views that change a client: a redirect to the profile if the client was erased
    (their record is only a placeholder now), else None."""
    if not client.is_erased:
        return None
    messages.error(request, ERASED_MESSAGE)
    return redirect(client)


@role_required(Role.OWNER)
def client_data_export_view(request: BusinessRequest, pk: int) -> HttpResponse:
    """Download everything held about the client as a ZIP (a GDPR access request)."""
    client = get_object_or_404(request.business.clients.select_related("business"), pk=pk)
    try:
        archive = client_data_export(client)
    except PrivacyError as error:
        messages.error(request, error.message)
        return redirect(client)
    response = FileResponse(
        archive,
        as_attachment=True,
        filename=export_file_name(client),
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(Role.OWNER)
def client_erase_view(request: BusinessRequest, pk: int) -> HttpResponse:
    """Erase the client's personal data for good, once the owner has typed their name."""
    client = get_object_or_404(request.business.clients, pk=pk)
    if client.is_erased:
        messages.info(request, "This client's personal data has already been erased.")
        return redirect(client)
    error = name_error = ""
    if request.method == "POST":
        if name_matches(client, request.POST.get("confirm_name", "")):
            try:
                result = client_erase(client=client, by=request.user)
            except PrivacyError as failure:
                error = failure.message
            else:
                others = len(result.erased) - 1
                also = f" (and {others} record{'s' if others != 1 else ''} merged into it)"
                messages.success(
                    request,
                    "The client's personal data was erased" + (also if others else "") + ". "
                    "Their sales, tips and vouchers stay for your accounts.",
                )
                return redirect(client)
        else:
            name_error = "That is not the client’s name as shown above."
    context = {
        "client": client,
        "plan": erasure_plan(client),
        "error": error,
        "name_error": name_error,
    }
    return render(request, "clients/privacy/erase.html", context)


@role_required(Role.OWNER)
def retention_preview(request: BusinessRequest) -> HttpResponse:
    """Who the business's retention rule would erase now, and who it holds back."""
    plan = retention_plan(request.business, limit=RETENTION_LISTED)
    rows = [(client, last_seen(client)) for client in plan.erasable]
    held = [(entry, last_seen(entry.client)) for entry in plan.held_back]
    context = {"plan": plan, "rows": rows, "held": held, "listed": RETENTION_LISTED}
    return render(request, "clients/privacy/retention.html", context)
