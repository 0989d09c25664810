from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required

CLIENTS_PER_PAGE = 50


@role_required(Role.STAFF)
def client_list(request: BusinessRequest) -> HttpResponse:
    clients = request.business.clients.active().order_by("last_name", "first_name", "id")
    page = Paginator(clients, CLIENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "clients/list.html", {"page": page})


@role_required(Role.STAFF)
def client_detail(request: BusinessRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(request.business.clients, pk=pk)
    return render(request, "clients/detail.html", {"client": client})
