from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.vary import vary_on_headers

from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required
from vouchers import selectors, services
from vouchers.forms import VoucherAdjustForm, VoucherIssueForm
from vouchers.models import VoucherStatus
from vouchers.services import VoucherError


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def voucher_list(request: BusinessRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    status = status if status in VoucherStatus.values else ""
    listing = selectors.voucher_list(
        request.business, q=q, status=status, page=request.GET.get("page", 1)
    )
    context = {
        "q": q,
        "status": status,
        "listing": listing,
        "page": listing.page,
        "chips": [("", "All", listing.counts["all"])]
        + [(value, label, listing.counts[value]) for value, label in VoucherStatus.choices],
        "query_string": urlencode({k: v for k, v in {"q": q, "status": status}.items() if v}),
        "can_issue": request.membership.has_role(Role.MANAGER),
    }
    template = "vouchers/list.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


@role_required(Role.STAFF)
def voucher_detail(request: BusinessRequest, pk: int) -> HttpResponse:
    voucher = get_object_or_404(
        request.business.vouchers.select_related("purchaser", "recipient", "created_by"), pk=pk
    )
    context = {
        "voucher": voucher,
        "ledger": selectors.voucher_ledger(voucher),
        "can_adjust": request.membership.has_role(Role.OWNER),
    }
    return render(request, "vouchers/detail.html", context)


@role_required(Role.OWNER)
def voucher_adjust(request: BusinessRequest, pk: int) -> HttpResponse:
    voucher = get_object_or_404(request.business.vouchers, pk=pk)
    form = VoucherAdjustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.voucher_adjust(
                voucher=voucher,
                amount=form.cleaned_data["amount"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except VoucherError as error:
            form.add_error("amount", str(error))
        else:
            messages.success(request, f"Balance of {voucher.code} corrected.")
            return redirect(voucher)
    return render(request, "vouchers/adjust.html", {"voucher": voucher, "form": form})


@role_required(Role.MANAGER)
def voucher_issue(request: BusinessRequest) -> HttpResponse:
    form = VoucherIssueForm(request.POST or None, business=request.business)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            voucher = services.voucher_issue(
                business=request.business,
                value=data["value"],
                purchaser=None,
                recipient=data["recipient"],
                recipient_name=data["recipient_name"],
                expires_on=data["expires_on"],
                by=request.user,
                note=data["note"] or "Complimentary",
            )
        except VoucherError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Voucher {voucher.code} issued.")
            return redirect(voucher)
    return render(request, "vouchers/issue.html", {"form": form})
