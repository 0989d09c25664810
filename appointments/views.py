from django.http import HttpResponse
from django.shortcuts import render

from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required


@role_required(Role.STAFF)
def calendar(request: BusinessRequest) -> HttpResponse:
    team_members = request.business.teammembers.filter(is_active=True)
    return render(request, "appointments/calendar.html", {"team_members": team_members})
