from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from glamiti.forms import BusinessForm, TeamMemberForm
from glamiti.models import Role
from glamiti.tenancy import LAST_BUSINESS_SESSION_KEY, BusinessRequest, role_required


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send a user to their business: the last one they used, else their first."""
    memberships = list(request.user.memberships.select_related("business"))
    if not memberships:
        return render(request, "glamiti/no_business.html")
    last_slug = request.session.get(LAST_BUSINESS_SESSION_KEY)
    chosen = next((m for m in memberships if m.business.slug == last_slug), memberships[0])
    return redirect(chosen.business)


@login_required
def business_list(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("business")
    return render(request, "glamiti/business_list.html", {"memberships": memberships})


@role_required(Role.STAFF)
def dashboard(request: BusinessRequest) -> HttpResponse:
    return redirect("clients:list", business=request.business.slug)


@role_required(Role.STAFF)
def business_settings(request: BusinessRequest) -> HttpResponse:
    can_edit = request.membership.has_role(Role.OWNER)
    form = BusinessForm(request.POST or None, instance=request.business)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only owners can change business settings.")
        if form.is_valid():
            form.save()
            messages.success(request, "Business settings saved.")
            return redirect("settings:index", business=request.business.slug)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    context = {
        "form": form,
        "can_edit": can_edit,
        "can_manage_team": request.membership.has_role(Role.MANAGER),
        "team_members": request.business.teammembers.select_related("user"),
        "members": request.business.memberships.select_related("user").order_by("role"),
    }
    return render(request, "glamiti/settings.html", context)


@role_required(Role.MANAGER)
def team_member_create(request: BusinessRequest) -> HttpResponse:
    form = TeamMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.business = request.business
        form.save()
        messages.success(request, f"{form.instance.name} added to the team.")
        return redirect("settings:index", business=request.business.slug)
    return render(request, "glamiti/team_member_form.html", {"form": form, "team_member": None})


@role_required(Role.MANAGER)
def team_member_edit(request: BusinessRequest, pk: int) -> HttpResponse:
    team_member = get_object_or_404(request.business.teammembers, pk=pk)
    form = TeamMemberForm(request.POST or None, instance=team_member)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"{team_member.name} saved.")
        return redirect("settings:index", business=request.business.slug)
    return render(
        request, "glamiti/team_member_form.html", {"form": form, "team_member": team_member}
    )
