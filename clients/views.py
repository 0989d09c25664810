from __future__ import annotations

import json

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from clients import services
from clients.forms import ClientForm, ReferralSourceForm, TagForm
from clients.listing import CONSENT_CHOICES, LAPSED_CHOICES, SORTS, ClientFilters, client_page
from clients.masking import display_name, masks_for
from clients.models import Client
from clients.privacy_views import erased_client_response
from clients.profile import profile_client
from clients.profile_tabs import history_response
from clients.selectors import matching_clients, related_record_counts
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required

PICKER_LIMIT = 8


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def client_list(request: BusinessRequest) -> HttpResponse:
    filters = ClientFilters.from_query(request.GET, business=request.business)
    context = {
        "filters": filters,
        "page": client_page(request.business, filters),
        "tags": request.business.tags.all(),
        "query_string": filters.query_string(),
        "can_export": request.membership.has_role(Role.MANAGER),
        "lapsed_choices": LAPSED_CHOICES,
        "consent_choices": CONSENT_CHOICES,
        "sort_choices": [(value, label) for value, (label, _) in SORTS.items()],
    }
    template = "clients/list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


def _client_form_response(
    request: BusinessRequest, form: ClientForm, client: Client | None, duplicates: list
) -> HttpResponse:
    in_dialog = request.GET.get("dialog") == "1" or request.POST.get("dialog") == "1"
    context = {"form": form, "client": client, "duplicates": duplicates, "in_dialog": in_dialog}
    template = "clients/form.html"
    if in_dialog and request.htmx:
        template += "#client_form" if request.method == "POST" else "#dialog"
    return render(request, template, context)


def _save_client_form(request: BusinessRequest, client: Client | None) -> HttpResponse:
    is_new = client is None
    form = ClientForm(
        request.POST or None,
        request.FILES or None,
        instance=client or Client(business=request.business),
        business=request.business,
        masked=masks_for(request.membership),
    )
    if request.method != "POST" or not form.is_valid():
        return _client_form_response(request, form, client, [])
    data = form.cleaned_data
    duplicates = matching_clients(
        request.business,
        email=data["email"],
        phones=[data["mobile_phone"], data["other_phone"]],
        exclude_pk=client.pk if client else None,
    )
    if duplicates and request.POST.get("confirm_duplicate") != "1":
        return _client_form_response(request, form, client, duplicates)
    saved = services.client_save(
        business=request.business, client=form.instance, data=data, by=request.user, is_new=is_new
    )
    if request.POST.get("dialog") == "1" and request.htmx:
        # The dialog closes; whoever opened it (booking, checkout, the list) gets the client.
        response = HttpResponse("")
        payload = {"id": saved.pk, "name": display_name(saved), "url": saved.get_absolute_url()}
        response["HX-Trigger"] = json.dumps({"clientSaved": payload})
        return response
    messages.success(request, f"{display_name(saved)} {'added' if is_new else 'saved'}.")
    return redirect(saved)


@role_required(Role.STAFF)
def client_create(request: BusinessRequest) -> HttpResponse:
    return _save_client_form(request, None)


@role_required(Role.STAFF)
def client_edit(request: BusinessRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(request.business.clients, pk=pk)
    if refused := erased_client_response(request, client):
        return refused
    return _save_client_form(request, client)


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def client_detail(request: BusinessRequest, pk: int) -> HttpResponse:
    """The profile: the overview with the History tab (each tab also has its own URL)."""
    return history_response(request, profile_client(request, pk))


@require_POST
@role_required(Role.STAFF)
def client_archive(request: BusinessRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(request.business.clients, pk=pk)
    if refused := erased_client_response(request, client):
        return refused
    client.archive()
    messages.success(request, f"{display_name(client)} archived. Their history is kept.")
    return redirect(client)


@require_POST
@role_required(Role.STAFF)
def client_restore(request: BusinessRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(request.business.clients, pk=pk)
    if refused := erased_client_response(request, client):
        return refused
    client.restore()
    messages.success(request, f"{display_name(client)} restored.")
    return redirect(client)


@role_required(Role.OWNER)
def client_delete(request: BusinessRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(request.business.clients, pk=pk)
    if request.method == "POST" and request.POST.get("confirm_name", "").strip() == str(client.pk):
        name = client.full_name
        services.client_delete(client=client)
        messages.success(request, f"{name} was deleted permanently.")
        return redirect("clients:list", business=request.business.slug)
    context = {"client": client, "related": related_record_counts(client)}
    return render(request, "clients/delete.html", context)


@role_required(Role.STAFF)
def client_photo(request: BusinessRequest, pk: int) -> FileResponse:
    client = get_object_or_404(request.business.clients, pk=pk)
    if not client.photo:
        raise Http404("No photo.")
    response = FileResponse(client.photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(Role.STAFF)
def client_picker(request: BusinessRequest) -> HttpResponse:
    """Search results for picking a client in another form (referrals, booking, checkout)."""
    term = request.GET.get("q", "").strip()
    clients = []
    if term:
        found = request.business.clients.active().search(term, request.business.country)
        clients = list(found.order_by("last_name", "first_name", "id")[:PICKER_LIMIT])
    field = request.GET.get("field", "client")
    return render(
        request, "clients/_picker_results.html", {"clients": clients, "term": term, "field": field}
    )


@role_required(Role.MANAGER)
def client_lists(request: BusinessRequest) -> HttpResponse:
    """The business's own lists used on the client form: tags and referral sources."""
    tag_form = TagForm(business=request.business, prefix="tag")
    source_form = ReferralSourceForm(business=request.business, prefix="source")
    if request.method == "POST":
        kind = request.POST.get("kind")
        form_class, prefix = (TagForm, "tag") if kind == "tag" else (ReferralSourceForm, "source")
        bound = form_class(request.POST, business=request.business, prefix=prefix)
        if bound.is_valid():
            bound.save()
            messages.success(request, f"“{bound.instance.name}” added.")
            return redirect("clients:lists", business=request.business.slug)
        tag_form, source_form = (bound, source_form) if kind == "tag" else (tag_form, bound)
    context = {
        "tag_form": tag_form,
        "source_form": source_form,
        "tags": request.business.tags.all(),
        "sources": request.business.referralsources.all(),
    }
    return render(request, "clients/lists.html", context)


@require_POST
@role_required(Role.MANAGER)
def client_list_item_delete(request: BusinessRequest, kind: str, pk: int) -> HttpResponse:
    items = {"tag": request.business.tags, "source": request.business.referralsources}
    if kind not in items:
        raise Http404("No such list.")
    item = get_object_or_404(items[kind], pk=pk)
    item.delete()
    messages.success(request, f"“{item.name}” removed.")
    return redirect(reverse("clients:lists", kwargs={"business": request.business.slug}))
