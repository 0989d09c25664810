"""Open redirects: a `next` (or any other parameter) pointing off the site is never followed,
by login, logout, the business pages or any other route; a `next` on the site still is."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from tests.conftest import logged_in
from tests.factories import PASSWORD
from tests.security.input_support import build_site, route_urls

EVIL = [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "https:evil.example",
    "/%2F%2Fevil.example",
    " //evil.example",
    "/\t/evil.example",
    "http://testserver@evil.example/",
    "javascript:alert(1)",
]
REDIRECT_HEADERS = ("Location", "HX-Redirect", "HX-Location", "HX-Push-Url", "HX-Replace-Url")


def off_site(response) -> list[str]:
    """The redirect targets of `response` that leave the site."""
    found = []
    for header in REDIRECT_HEADERS:
        target = response.get(header)
        if not target:
            continue
        cleaned = "".join(target.split()).replace("\\", "/")  # as browsers read it
        parts = urlsplit(cleaned)
        if (
            parts.netloc not in ("", "testserver")
            or parts.scheme not in ("", "http", "https")
            or cleaned.startswith("//")
        ):
            found.append(f"{header}: {target}")
    return found


@pytest.fixture
def owner_login(world):
    return {"username": world.owner.username, "password": PASSWORD}


@pytest.mark.parametrize("evil", EVIL)
def test_login_does_not_follow_next_off_the_site(client, owner_login, evil):
    url = reverse("login")
    response = client.post(url, {**owner_login, "next": evil})
    assert response.status_code == 302
    assert not off_site(response)
    # Off-site targets are replaced by the home page; "/%2F%2F..." is a path on this site.
    assert response["Location"] in (reverse("home"), "/%2F%2Fevil.example")
    response = client.post(f"{url}?next={evil}", owner_login)  # in the query string too
    assert response.status_code == 302 and not off_site(response)
    # Already logged in: the login page sends the user on, but not off the site.
    response = client.get(url, {"next": evil})
    assert not off_site(response)


def test_login_follows_next_on_the_site(client, world, owner_login):
    page = reverse("clients:list", kwargs={"business": world.business.slug})
    response = client.post(reverse("login"), {**owner_login, "next": page})
    assert response["Location"] == page


def test_a_tenant_page_sends_an_anonymous_visitor_to_log_in_and_back(client, world):
    page = reverse("clients:list", kwargs={"business": world.business.slug})
    response = client.get(page + "?q=x")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert not off_site(response)


@pytest.mark.parametrize("evil", EVIL)
def test_logout_does_not_follow_next_off_the_site(world, evil):
    for data, query in (({"next": evil}, ""), ({}, f"?next={evil}")):
        http = logged_in(world.owner)
        response = http.post(reverse("logout") + query, data)
        assert response.status_code in (200, 302)
        assert not off_site(response)
        assert "_auth_user_id" not in http.session


def test_no_route_follows_a_next_parameter_off_the_site(world):
    site = build_site(world)
    urls = route_urls(world, site)
    http = logged_in(world.owner)
    followed = []
    keys = ("next", "return", "return_to", "redirect", "url", "redirect_to", "success_url")
    for name, url in urls.items():
        if name == "logout":
            continue  # checked above; logging out here would end the sweep
        # Each parameter name gets another of the usual tricks.
        query = {key: EVIL[n % len(EVIL)] for n, key in enumerate(keys)}
        for response in (http.get(url, query), http.post(f"{url}?next={EVIL[1]}", query)):
            if off_site(response):
                followed.append((name, off_site(response)))
    assert not followed


def test_switching_business_stays_on_the_site(world):
    # A user in two businesses switches with the dashboard links; none takes a `next`.
    from tests.factories import MembershipFactory
    from tests.rls import all_tenants

    with all_tenants():
        MembershipFactory(user=world.owner, business=world.other_business)
    http = logged_in(world.owner)
    for url in (
        reverse("home"),
        reverse("business-list"),
        reverse("dashboard", kwargs={"business": world.other_business.slug}),
        reverse("dashboard", kwargs={"business": world.business.slug}),
        reverse("home"),
    ):
        for evil in EVIL:
            response = http.get(url, {"next": evil})
            assert response.status_code in (200, 302)
            assert not off_site(response), (url, evil)
    assert off_site(HttpClient().get("/", follow=False)) == []
