"""The page a client opens from their private feedback link: no login, one use, 30 days."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from glamiti.models import Business
from glamiti.tenancy import tenant_context
from sales.forms import FeedbackForm
from sales.models import FeedbackLink, ItemKind
from sales.services import (
    LINK_PROBLEMS,
    FeedbackError,
    feedback_link_state,
    feedback_submit_via_link,
)


@never_cache
@csrf_protect
def feedback_form(request: HttpRequest, salon: str, token: str) -> HttpResponse:
    # No tenant is active yet: the slug names the business (a platform row), and the token is
    # then looked up inside that business only — row-level security allows nothing else.
    business = Business.objects.filter(slug=salon).first()
    if business is None:
        raise Http404("No such feedback link.")
    with tenant_context(business):
        link = FeedbackLink.objects.select_related("business", "sale").filter(token=token).first()
        if link is None:
            raise Http404("No such feedback link.")
        response = _feedback_page(request, link)
    response["X-Robots-Tag"] = "noindex, nofollow"  # a private page, even if a link leaks
    return response


def _feedback_page(request: HttpRequest, link: FeedbackLink) -> HttpResponse:
    sale = link.sale
    items = [item.description for item in sale.items.all() if item.kind != ItemKind.VOUCHER]
    context = {"business": link.business, "sale": sale, "items": items}
    state = feedback_link_state(link)
    form = FeedbackForm(request.POST or None)
    if state == "open" and request.method == "POST" and form.is_valid():
        try:
            feedback_submit_via_link(
                link=link,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except FeedbackError:
            # e.g. sent from another tab a moment ago: show why, as a fresh visit would.
            link.refresh_from_db(fields=["used_at"])
            state = feedback_link_state(link)
        else:
            state = "done"
    context.update(state=state, problem=LINK_PROBLEMS.get(state), form=form)
    return render(request, "sales/public_feedback.html", context)
