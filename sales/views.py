from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from appointments.models import Appointment
from glamiti.models import Business, Role
from glamiti.templatetags.glamiti_tags import money
from glamiti.tenancy import BusinessRequest, role_required
from sales import services, stripe_api
from sales.forms import (
    Catalog,
    CheckoutForms,
    ClientCards,
    ProductForm,
    StaffFeedbackForm,
    VoidForm,
)
from sales.models import ChargeStatus, FeedbackSource, Product, Sale, SaleStatus
from sales.selectors import (
    PERIODS,
    Period,
    sale_for_receipt,
    sale_page,
    sales_summary,
    tips_by_member,
)
from sales.services import CheckoutError, FeedbackError


@role_required(Role.STAFF)
def sale_list(request: BusinessRequest) -> HttpResponse:
    period = Period.from_query(request.GET, default="all")
    context = {
        "period": period,
        "periods": PERIODS,
        "page": sale_page(request.business, period, request.GET.get("page")),
        "summary": sales_summary(request.business, period),
        "query_string": period.query_string(),
        "can_manage": request.membership.has_role(Role.MANAGER),
    }
    return render(request, "sales/list.html", context)


# --- Checkout ----------------------------------------------------------------------------


def _sale_with_key(business: Business, key: str | None) -> Sale | None:
    try:
        parsed = uuid.UUID(str(key))
    except ValueError:
        return None
    return business.sales.filter(idempotency_key=parsed).first()


def _appointment(request: BusinessRequest, pk: str | None) -> Appointment | None:
    if not pk:
        return None
    try:
        number = int(str(pk))  # "²" is a digit to isdigit() but not to int()
    except ValueError:
        raise Http404("No such appointment.") from None
    appointments = request.business.appointments.select_related("client", "team_member")
    return get_object_or_404(appointments.prefetch_related("services"), pk=number)


def _card_options(request: BusinessRequest) -> HttpResponse:
    """The chosen client's saved cards, as options for the payment rows' card menus."""
    cards = ClientCards.load(request.business, request.GET.get("client"))
    return render(request, "sales/_card_options.html", {"choices": cards.choices()})


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def checkout_page(request: BusinessRequest) -> HttpResponse:
    business = request.business
    data = request.POST if request.method == "POST" else None
    if data is None and "card_options" in request.GET:
        return _card_options(request)
    earlier = _sale_with_key(business, data.get("idempotency_key")) if data is not None else None
    if earlier is not None and earlier.status != SaleStatus.OPEN:
        # The same form sent twice (a double click, a resubmit): the first sale stands.
        messages.info(request, f"Sale #{earlier.pk} was already recorded; here is its receipt.")
        return redirect(earlier)
    appointment = _appointment(request, (data or request.GET).get("appointment"))
    if data is None and appointment is not None:
        paid = business.sales.counted().filter(appointment=appointment).first()
        if paid is not None:
            messages.info(request, "This appointment has already been checked out.")
            return redirect(paid)
    catalog = Catalog.load(business, appointment)
    forms = CheckoutForms(
        data,
        business=business,
        catalog=catalog,
        appointment=appointment,
        client_id=request.GET.get("client") if data is None else None,
    )
    if data is not None and forms.is_valid() and "recalculate" not in data:
        try:
            sale = services.checkout(
                business=business,
                idempotency_key=forms.form.cleaned_data["idempotency_key"],
                client=forms.form.cleaned_data["client"],
                appointment=appointment,
                items=forms.item_lines(),
                payments=forms.payment_lines(),
                tips=forms.tip_lines(),
                tip=forms.tip,
                note=forms.form.cleaned_data["note"],
                by=request.user,
            )
        except CheckoutError as error:
            forms.add_error(error)
            # A declined saved card leaves the sale saved, awaiting another payment.
            earlier = _sale_with_key(business, data.get("idempotency_key"))
        else:
            paid = money(sale.total + sale.tip_total, business.currency)
            messages.success(request, f"Sale #{sale.pk} recorded: {paid} paid.")
            return redirect(sale)
    context = {
        "forms": forms,
        "appointment": appointment,
        "totals": forms.totals(),
        "recalculated": data is not None and "recalculate" in data,
        "open_sale": earlier if earlier is not None and earlier.status == SaleStatus.OPEN else None,
        "cards_enabled": stripe_api.is_configured(),
    }
    return render(request, "sales/checkout.html", context)


# --- Receipt -----------------------------------------------------------------------------


def _receipt(
    request: BusinessRequest, sale: Sale, feedback_form: StaffFeedbackForm | None = None
) -> HttpResponse:
    link = getattr(sale, "feedback_link", None)
    link_url = link_state = ""
    if link is not None:
        kwargs = {"salon": request.business.slug, "token": link.token}
        path = reverse("public-feedback", kwargs=kwargs)
        link_url = request.build_absolute_uri(path)
        link_state = services.feedback_link_state(link)
    context = {
        "sale": sale,
        "link": link,
        "link_url": link_url,
        "link_state": link_state,
        "feedback_form": feedback_form or StaffFeedbackForm(business=request.business),
        "can_void": request.membership.has_role(Role.MANAGER) and sale.can_void()[0],
        "is_counted": sale.status == SaleStatus.COMPLETED,
    }
    return render(request, "sales/detail.html", context)


@role_required(Role.STAFF)
def sale_detail(request: BusinessRequest, pk: int) -> HttpResponse:
    return _receipt(request, sale_for_receipt(request.business, pk))


@require_POST
@role_required(Role.STAFF)
def feedback_create(request: BusinessRequest, pk: int) -> HttpResponse:
    sale = sale_for_receipt(request.business, pk)
    form = StaffFeedbackForm(request.POST, business=request.business)
    if form.is_valid():
        try:
            services.feedback_record(
                business=request.business,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                sale=sale,
                team_member=form.cleaned_data["team_member"],
                by=request.user,
                source=FeedbackSource.STAFF,
            )
        except FeedbackError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Feedback recorded.")
            return redirect(sale)
    return _receipt(request, sale, feedback_form=form)


@role_required(Role.MANAGER)
@vary_on_headers("HX-Request")
def sale_void(request: BusinessRequest, pk: int) -> HttpResponse:
    sale = get_object_or_404(request.business.sales.select_related("client"), pk=pk)
    ok, reason = sale.can_void()
    if not ok:
        messages.error(request, reason)
        return redirect(sale)
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sale_void(sale=sale, by=request.user, reason=form.cleaned_data["reason"])
        except CheckoutError as error:
            form.add_error(None, error.message)
        else:
            refunded = sum(
                (c.amount_refunded for c in sale.card_charges.filter(status=ChargeStatus.REFUNDED)),
                0,
            )
            done = f"Sale #{sale.pk} voided."
            if refunded:
                done += f" {money(refunded, request.business.currency)} refunded to the card."
            messages.success(request, done)
            return redirect(sale)
    in_dialog = bool(request.htmx) and request.method == "GET"
    template = "sales/void.html#dialog" if in_dialog else "sales/void.html"
    return render(request, template, {"sale": sale, "form": form, "in_dialog": in_dialog})


# --- Tips --------------------------------------------------------------------------------


@role_required(Role.MANAGER)
def tips_report(request: BusinessRequest) -> HttpResponse:
    period = Period.from_query(request.GET, default="this_month")
    rows = tips_by_member(request.business, period)
    context = {
        "period": period,
        "periods": PERIODS,
        "rows": rows,
        "total": sum((r.total for r in rows), 0),
        "sale_count": sum(r.sales for r in rows),
    }
    return render(request, "sales/tips.html", context)


# --- Products ----------------------------------------------------------------------------


@role_required(Role.MANAGER)
def product_list(request: BusinessRequest) -> HttpResponse:
    products = request.business.products.order_by("-is_active", "name")
    return render(request, "sales/products.html", {"products": products})


def _product_form(request: BusinessRequest, product: Product | None) -> HttpResponse:
    instance = product or Product(business=request.business)
    form = ProductForm(request.POST or None, instance=instance, business=request.business)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, f"“{saved.name}” {'saved' if product else 'added'}.")
        return redirect("sales:products", business=request.business.slug)
    return render(request, "sales/product_form.html", {"form": form, "product": product})


@role_required(Role.MANAGER)
def product_create(request: BusinessRequest) -> HttpResponse:
    return _product_form(request, None)


@role_required(Role.MANAGER)
def product_edit(request: BusinessRequest, pk: int) -> HttpResponse:
    return _product_form(request, get_object_or_404(request.business.products, pk=pk))
