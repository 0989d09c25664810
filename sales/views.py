from django.http import HttpResponse
from django.shortcuts import render

from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required


@role_required(Role.STAFF)
def sale_list(request: BusinessRequest) -> HttpResponse:
    return render(request, "sales/list.html")
