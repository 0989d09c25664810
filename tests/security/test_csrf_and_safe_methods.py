"""CSRF: every route refuses a POST (PUT, PATCH, DELETE) without the CSRF token and changes
nothing; and no GET of any route changes the database."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import resolve, reverse

from tests.conftest import logged_in
from tests.security.input_support import build_site, db_snapshot, diff_snapshots, route_urls

# Routes that take a POST without a CSRF token on purpose, and why.
CSRF_EXEMPT = {
    "stripe-webhook": "Stripe's signature on the raw body is the check (tests/stripe)",
}


def csrf_client(user=None) -> HttpClient:
    http = HttpClient(enforce_csrf_checks=True)
    if user is not None:
        http.force_login(user)
    return http


def posts(world, site) -> list[tuple[str, str]]:
    urls = route_urls(world, site)
    extra = {
        "clients:merge with clients": urls["clients:merge"]
        + f"?kept={site.client.pk}&merged={site.duplicate.pk}",
        "sales:checkout for an appointment": urls["sales:checkout"]
        + f"?appointment={site.appointment.pk}",
    }
    return [(n, u) for n, u in urls.items() if n not in CSRF_EXEMPT] + list(extra.items())


# What each form would need to do something, sent without the token: a view that forgot
# CSRF would act on it.
PLAUSIBLE = {
    "first_name": "Mallory",
    "text": "Forged",
    "note-kind": "internal",
    "note-text": "Forged",
    "edit-kind": "internal",
    "edit-text": "Forged",
    "reason": "Forged",
    "rating": "1",
    "comment": "Forged",
    "amount": "-5.00",
    "note": "Forged",
    "value": "25.00",
    "name": "Forged",
    "price": "1.00",
    "duration_minutes": "30",
    "duplicate_mode": "update",
    "tag-name": "Forged",
    "source-name": "Forged",
    "time_zone": "Europe/London",
    "currency": "GBP",
    "country": "GB",
    "locale": "en-GB",
    "username": "x",
    "password": "x",
    "email": "forged@example.com",
    "old_password": "x",
    "new_password1": "Forged-password-1",
    "new_password2": "Forged-password-1",
}


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(world):
    site = build_site(world)
    http = csrf_client(world.owner)  # the owner may do everything: only CSRF stands in the way
    before = db_snapshot()
    accepted = {}
    for name, url in posts(world, site):
        data = {**PLAUSIBLE, "confirm_name": str(site.client.pk)}
        response = http.post(url, data, HTTP_HX_REQUEST="true")
        if response.status_code != 403:
            accepted[name] = response.status_code
    assert not accepted, f"POSTs accepted without a CSRF token: {accepted}"
    assert diff_snapshots(before, db_snapshot()) == []


def test_other_unsafe_methods_without_a_token_are_refused_too(world):
    site = build_site(world)
    http = csrf_client(world.owner)
    before = db_snapshot()
    for name, url in posts(world, site):
        for method in (http.put, http.patch, http.delete):
            response = method(url)
            # 405: a view that takes only POST (and checks CSRF itself) refuses the method.
            assert response.status_code in (403, 405), (name, method, response.status_code)
    assert diff_snapshots(before, db_snapshot()) == []


def test_anonymous_posts_without_a_token_are_refused(world):
    site = build_site(world)
    http = csrf_client()
    urls = route_urls(world, site)
    for name in ("login", "logout", "password_reset", "public-feedback"):
        response = http.post(urls[name], {"username": "x", "password": "x", "rating": "1"})
        assert response.status_code == 403, name


def test_a_post_with_the_wrong_token_is_refused(world):
    site = build_site(world)
    http = csrf_client(world.owner)
    http.get(reverse("clients:list", kwargs={"business": world.business.slug}))  # sets the cookie
    url = route_urls(world, site)["clients:create"]
    before = db_snapshot()
    response = http.post(url, {"first_name": "Mallory", "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403
    response = http.post(url, {"first_name": "Mallory"}, HTTP_X_CSRFTOKEN="x" * 64)
    assert response.status_code == 403
    assert diff_snapshots(before, db_snapshot()) == []


def test_pages_send_the_csrf_token_for_htmx_requests(world):
    # htmx posts (notes, pins, dialogs) carry the token from <body hx-headers>.
    http = csrf_client(world.owner)
    response = http.get(reverse("clients:list", kwargs={"business": world.business.slug}))
    token = http.cookies["csrftoken"].value
    assert token
    html = response.content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    url = reverse("clients:create", kwargs={"business": world.business.slug})
    data = {"first_name": "Via", "last_name": "Htmx", "dialog": "1"}
    page_token = html.split('"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    response = http.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=page_token)
    assert response.status_code == 200 and "HX-Trigger" in response


# --- Safe methods are safe ------------------------------------------------------------------


def gets(world, site) -> list[tuple[str, str]]:
    urls = route_urls(world, site)
    extra = {
        "merge preview": urls["clients:merge"]
        + f"?kept={site.client.pk}&merged={site.duplicate.pk}",
        "checkout an appointment": urls["sales:checkout"] + f"?appointment={site.appointment.pk}",
        "checkout a client": urls["sales:checkout"] + f"?client={site.client.pk}",
        "delete confirmation": urls["clients:delete"] + f"?confirm_name={site.client.pk}",
        "booking with a slot": urls["appointments:book"]
        + f"?client={site.client.pk}&team_member={site.team_member.pk}&time=16:00",
        "import progress": urls["clients:import-progress"] + "?finished=1",
        "export xlsx": urls["clients:export"] + "?format=xlsx",
    }
    return list(urls.items()) + list(extra.items())


def _visit(http: HttpClient, url: str, **headers) -> int:
    response = http.get(url, **headers)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)  # exports run as they stream
    return response.status_code


@pytest.mark.parametrize("role", ["owner", "staff", None])
def test_no_get_changes_the_database(world, role):
    site = build_site(world)
    http = logged_in(getattr(world, role)) if role else HttpClient()
    before = db_snapshot()
    for name, url in gets(world, site):
        if role is None and "business" in (resolve(url.split("?")[0]).kwargs):
            continue  # an anonymous visitor is sent to log in before any tenant view runs
        assert _visit(http, url) < 500, name
        if role == "owner":  # the owner reaches every view: its htmx variant too
            assert _visit(http, url, HTTP_HX_REQUEST="true") < 500, name
    # The rows that changed name the route well enough (a note, an import, a sale...).
    assert diff_snapshots(before, db_snapshot()) == []
