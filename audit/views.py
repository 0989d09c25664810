"""The client profile's Activity log tab, and an owner's revert of a field change."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from audit.display import client_activity
from audit.models import AuditEntry
from audit.services import RevertError, client_field_revert
from clients.models import Client
from clients.profile import profile_client, render_tab, tab_url
from clients.profile_common import page_number
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required


def activity_response(
    request: BusinessRequest, client: Client, *, flash: str = "", error: str = "", status=200
) -> HttpResponse:
    can_revert = request.membership.has_role(Role.OWNER)
    context = {
        "page": client_activity(client, page_number(request), can_revert=can_revert),
        "can_revert": can_revert,
        "activity_url": tab_url(request, client, "activity"),
        "flash": flash,
        "error": error,
    }
    return render_tab(request, client, "activity", context, status=status)


@role_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def activity_tab(request: BusinessRequest, pk: int) -> HttpResponse:
    """Who changed what about this client, when and from where (managers and owners)."""
    return activity_response(request, profile_client(request, pk))


@require_POST
@role_required(Role.OWNER)
def activity_revert(request: BusinessRequest, pk: int, entry_pk: int) -> HttpResponse:
    """Put one field back to its value before the change `entry_pk` made (owners)."""
    client = profile_client(request, pk)
    entry = get_object_or_404(
        AuditEntry.objects.filter(
            client_id=client.pk,
            content_type=ContentType.objects.get_for_model(Client),
            object_id=client.pk,
        ),
        pk=entry_pk,
    )
    field = request.POST.get("field", "")
    try:
        client_field_revert(entry=entry, field=field, client=client, by=request.user)
    except RevertError as problem:
        if request.htmx:
            return activity_response(request, client, error=str(problem))
        messages.error(request, str(problem))
        return redirect(tab_url(request, client, "activity"))
    messages.success(request, "Change reverted.")
    url = tab_url(request, client, "activity")
    if request.htmx:
        # The whole page: the profile's header shows the value that was put back.
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)
