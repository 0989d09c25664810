"""The duplicate finder, the merge confirmation and undoing a merge (owners and managers)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clients.merge import (
    MergeError,
    client_merge,
    client_merge_undo,
    likely_duplicates,
    merge_preview,
)
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required

GROUPS_PER_PAGE = 20


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


@role_required(Role.MANAGER)
def duplicates(request: BusinessRequest) -> HttpResponse:
    page_number = _positive_int(request.GET.get("page")) or 1
    page = likely_duplicates(request.business, page=page_number, per_page=GROUPS_PER_PAGE)
    return render(request, "clients/duplicates.html", {"page": page})


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def merge(request: BusinessRequest) -> HttpResponse:
    kept_pk = _positive_int(request.GET.get("kept"))
    merged_pk = _positive_int(request.GET.get("merged"))
    if kept_pk is None or merged_pk is None:
        messages.error(request, "Choose the two clients to merge from the list of duplicates.")
        return redirect("clients:duplicates", business=request.business.slug)
    kept = get_object_or_404(request.business.clients, pk=kept_pk)
    merged = get_object_or_404(request.business.clients, pk=merged_pk)
    if request.method == "POST":
        try:
            client_merge(kept=kept, merged=merged, by=request.user)
        except MergeError as error:
            messages.error(request, str(error))
            return redirect(request.get_full_path())
        messages.success(
            request,
            f"{merged.full_name} was merged into {kept.full_name}. "
            "You can undo this from the merge history below.",
        )
        return redirect(kept.get_absolute_url())
    preview = merge_preview(kept=kept, merged=merged)
    context = {"kept": kept, "merged": merged, "preview": preview}
    return render(request, "clients/merge_confirm.html", context)


@role_required(Role.MANAGER)
@require_POST
def merge_undo(request: BusinessRequest, pk: int) -> HttpResponse:
    merge = get_object_or_404(request.business.clientmerges.select_related("kept", "merged"), pk=pk)
    try:
        client_merge_undo(merge=merge, by=request.user)
    except MergeError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"Merge undone: {merge.merged.full_name} is a separate client again."
        )
    return redirect(merge.kept.get_absolute_url())
