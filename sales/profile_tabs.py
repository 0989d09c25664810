"""The profile tabs the sales app serves: Sales, Feedback, Tips and Cards."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.vary import vary_on_headers

from clients.profile import profile_client, render_tab
from clients.profile_chart import monthly_chart
from clients.profile_common import last_months, month_start, page_number, page_of, url_maker
from glamiti.models import Role
from glamiti.tenancy import BusinessRequest, role_required
from sales import stripe_api
from sales.profile_selectors import (
    client_feedback,
    client_feedback_summary,
    client_sales,
    client_saved_cards,
    client_tip_summary,
    client_tipped_sales,
)


def _receipt_urls(request: BusinessRequest) -> Callable[[int], str]:
    return url_maker("sales:detail", business=request.business.slug)


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def sales_tab(request: BusinessRequest, pk: int) -> HttpResponse:
    """One page of sales with their items and payments: three queries."""
    client = profile_client(request, pk)
    page = page_of(client_sales(client), page_number(request), per_page=15)
    receipt_url = _receipt_urls(request)
    for sale in page.object_list:
        sale.receipt_url = receipt_url(sale.pk)
    return render_tab(request, client, "sales", {"page": page})


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def feedback_tab(request: BusinessRequest, pk: int) -> HttpResponse:
    """The average rating and one page of feedback: two queries."""
    client = profile_client(request, pk)
    page = page_of(client_feedback(client), page_number(request))
    receipt_url = _receipt_urls(request)
    for item in page.object_list:
        item.receipt_url = receipt_url(item.sale_id) if item.sale_id else ""
    summary = client_feedback_summary(client)
    summary["rounded"] = round(summary["average"] or 0)
    context = {"summary": summary, "page": page, "stars": range(1, 6)}
    return render_tab(request, client, "feedback", context)


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def tips_tab(request: BusinessRequest, pk: int) -> HttpResponse:
    """Totals per team member and per month (one query), and one page of tips (two)."""
    client = profile_client(request, pk)
    months = last_months(12)
    summary = client_tip_summary(client, since=month_start(months[0]))
    page = page_of(client_tipped_sales(client), page_number(request))
    receipt_url = _receipt_urls(request)
    for sale in page.object_list:
        sale.receipt_url = receipt_url(sale.pk)
    chart = monthly_chart(
        chart_id="tips-chart",
        title="Tips per month, last 12 months",
        months=months,
        amounts=summary.by_month,
        amount_label="Tips",
        currency=request.business.currency,
    )
    return render_tab(request, client, "tips", {"summary": summary, "page": page, "chart": chart})


@role_required(Role.STAFF)
@vary_on_headers("HX-Request")
def cards_tab(request: BusinessRequest, pk: int) -> HttpResponse:
    """Saved cards, with adding one (Stripe's card field), the default and removal (the
    actions are in sales/cards_views.py): one query."""
    client = profile_client(request, pk)
    cards = client_saved_cards(client)
    today = timezone.localdate()
    for card in cards:
        card.expired = card.is_expired_on(today)
    context = {"cards": cards, "cards_enabled": stripe_api.is_configured()}
    return render_tab(request, client, "cards", context)
