"""The profile's Vouchers tab: vouchers bought by or for the client, each with its ledger."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.vary import vary_on_headers

from clients.profile import profile_client, render_tab
from clients.profile_common import page_number, page_of, url_maker
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required
from vouchers.profile_selectors import client_vouchers_with_ledger
from vouchers.services import business_today


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def vouchers_tab(request: BusinessRequest, pk: int) -> HttpResponse:
    """One page of vouchers with their ledgers: two queries."""
    client = profile_client(request, pk)
    today = business_today(request.business)
    page = page_of(client_vouchers_with_ledger(client), page_number(request), per_page=10)
    voucher_url = url_maker("vouchers:detail", business=request.business.slug)
    for voucher in page.object_list:
        voucher.current_status = voucher.status_on(today)
        voucher.url = voucher_url(voucher.pk)
        voucher.for_client = voucher.recipient_id == client.pk
        voucher.by_client = voucher.purchaser_id == client.pk
    return render_tab(request, client, "vouchers", {"page": page, "today": today})
