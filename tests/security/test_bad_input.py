"""Bad input never gives a 500: NUL bytes and 10,000-character values in every field of every
form the app shows, and malformed query-string parameters on every route, get a form error,
a polite page or a redirect. The same forms filled with XSS payloads re-render them escaped."""

from __future__ import annotations

from urllib.parse import urlencode, urljoin

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import ImportStatus
from tests.factories_imports import PDF_BYTES, SIMPLE_HEADERS, csv_bytes
from tests.imports.conftest import IMMEDIATE, run_import
from tests.security.input_support import (
    LONG,
    ScrapedForm,
    assert_no_injection,
    build_site,
    route_urls,
    scrape_forms,
)

NUL = "\x00"
HUGE = "x" * 10_000
HUGE_NUMBER = "9" * 10_000
MALFORMED = [
    "a\x00b",
    "-1",
    HUGE_NUMBER,  # more digits than int() takes
    "²",  # str.isdigit() says yes, int() says no
]

# Forms the sweep leaves alone: posting them ends the session the sweep runs in.
LEFT_ALONE = ("/accounts/logout/",)
# Downloads and POST-only routes are not pages with forms.
NOT_PAGES = {
    "clients:photo",
    "clients:export",
    "clients:data-export",
    "clients:import-rejected",
    "profile:document",
}


def logged_in(user) -> HttpClient:
    """A client that returns a 500 as a response (to list every failure, not the first)."""
    http = HttpClient(raise_request_exception=False)
    http.force_login(user)
    return http


def form_pages(world, site) -> dict[str, str]:
    urls = route_urls(world, site)
    pages = {name: url for name, url in urls.items() if name not in NOT_PAGES}
    pages |= {
        "clients:edit": reverse(
            "clients:edit", kwargs={"business": world.business.slug, "pk": site.solo.pk}
        ),
        "merge": urls["clients:merge"] + f"?kept={site.client.pk}&merged={site.duplicate.pk}",
        "checkout an appointment": urls["sales:checkout"] + f"?appointment={site.appointment.pk}",
        "booking dialog": urls["appointments:book"] + f"?client={site.client.pk}&dialog=1",
        "reschedule": urls["appointments:reschedule"],
        "cancel": urls["appointments:cancel"],
    }
    return pages


def collect_forms(http: HttpClient, world, site) -> list[tuple[str, str, ScrapedForm]]:
    """Every distinct form on every page: (page, URL it is sent to, form). Forms with the same
    fields (a client's "new" and "edit", the dialog) are one form: the one with the most
    values filled in is kept, so that each field is tried with the rest of the form valid."""
    found: dict[tuple, tuple[str, str, ScrapedForm]] = {}
    for page, url in form_pages(world, site).items():
        response = http.get(url)
        assert response.status_code < 500, page
        if response.status_code != 200 or "html" not in response["Content-Type"]:
            continue
        for form in scrape_forms(response.content.decode()):
            target = urljoin(url, form.action) if form.action else url
            key = (form.method, frozenset(form.names) - {"dialog"})
            if not form.names or target.startswith(LEFT_ALONE):
                continue
            filled = sum(1 for _, value, _ in form.fields if value)
            if key not in found or filled > sum(1 for _, v, _ in found[key][2].fields if v):
                found[key] = (page, target, form)
    return list(found.values())


def send(http: HttpClient, form: ScrapedForm, target: str, data: dict, **headers):
    if form.method == "post":
        return http.post(target, data, **headers)
    query = urlencode(data, doseq=True)
    return http.get(f"{target.split('?')[0]}?{query}", **headers)


# A few fields of each kind of form, so a broken scraper cannot pass by finding nothing.
EXPECTED_FIELDS = {
    "first_name",  # client form
    "note-text",  # notes
    "doc-title",  # documents
    "notes",  # booking
    "items-0-item",  # checkout
    "payments-0-amount",
    "tips-0-team_member",
    "recipient_name",  # vouchers
    "time_zone",  # settings
    "job_title",  # team
    "column_0",  # import mapping
    "q",  # search
    "reason",  # cancel, void
    "rating",  # feedback
    "tag-name",  # the business's lists
    "old_password",
}
# As scraped, these forms are valid: so a field the sweep spoils is the form's only fault.
VALID_AS_SCRAPED = {
    "clients:edit",
    "settings:team-edit",
    "appointments:service-edit",
    "sales:product-edit",
}


def test_every_form_takes_nul_and_10k_characters_and_echoes_payloads_escaped(world):
    """One sweep over every form of every page (collecting them is the costly part)."""
    site = build_site(world)
    http = logged_in(world.owner)
    forms = collect_forms(http, world, site)
    assert {name for _, _, form in forms for name in form.names} >= EXPECTED_FIELDS
    valid = {
        page
        for page, target, form in forms
        if page in VALID_AS_SCRAPED and send(http, form, target, form.data()).status_code == 302
    }
    assert valid == VALID_AS_SCRAPED

    failures = []
    for page, target, form in forms:
        # Every field at once: each field's own checks run whatever the others hold.
        tries = [
            ("every field", dict.fromkeys(form.names, [bad])) for bad in (NUL, HUGE, HUGE_NUMBER)
        ]
        # Then one field at a time, the rest of the form valid as the page filled it, so the
        # value reaches what runs after validation: long text (where a length check may be
        # missing) and the values views read themselves or that any string passes (hidden
        # inputs, checkboxes).
        tries += [(name, {name: [HUGE]}) for name in form.text_names]
        tries += [(name, {name: [NUL]}) for name in form.names_of_kind("hidden", "checkbox")]
        for what, change in tries:
            response = send(http, form, target, form.data() | change)
            if response.status_code >= 500:
                failures.append((page, what, repr(next(iter(change.values()))[0][:8])))
    assert not failures

    # A refused form shows what was typed: as text (reflected XSS), in pages and fragments.
    for page, target, form in forms:
        data = form.data() | dict.fromkeys(form.names, [LONG])
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = send(http, form, target, data, **headers)
            assert response.status_code < 500, (page, target)
            if response.status_code == 200 and "html" in response["Content-Type"]:
                assert_no_injection(response.content.decode(), f"{page} sent to {target}")


def test_a_file_upload_with_a_nul_in_its_name_or_title_is_handled(world):
    site = build_site(world)
    http = logged_in(world.owner)
    urls = route_urls(world, site)
    for name in (f"a{NUL}b.pdf", "x" * 10_000 + ".pdf"):
        upload = SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")
        response = http.post(
            urls["profile:document-add"],
            {"doc-kind": "consent", "doc-title": "", "doc-file": upload},
        )
        assert response.status_code < 500
        upload = SimpleUploadedFile(
            name[:-4] + ".csv", csv_bytes(SIMPLE_HEADERS, [["Ann", "", "", ""]])
        )
        assert http.post(urls["clients:import"], {"file": upload}).status_code < 500
    for title in (NUL, HUGE):
        upload = SimpleUploadedFile("consent.pdf", PDF_BYTES, content_type="application/pdf")
        response = http.post(
            urls["profile:document-add"],
            {"doc-kind": "consent", "doc-title": title, "doc-file": upload},
        )
        assert response.status_code < 500


# --- Query strings ---------------------------------------------------------------------------

# The query parameters each route reads (see the views and clients/listing.py). Routes that
# share their parsing with one listed here (the export reads the list's filters, every
# profile tab reads `page` as the History tab does) get all of them at once below.
LIST_FILTERS = ["q", "tag", "blocked", "upcoming", "lapsed", "birthday", "consent", "archived"]
QUERY_PARAMS = {
    "clients:list": [*LIST_FILTERS, "sort", "page"],
    "clients:export": ["q", "format"],
    "clients:picker": ["q", "field"],
    "clients:create": ["dialog"],
    "clients:duplicates": ["page"],
    "clients:merge": ["kept", "merged"],
    "clients:import": ["page"],
    "clients:import-progress": ["finished"],
    "profile:history": ["kind", "page"],
    "profile:appointments": ["status", "page"],
    "appointments:calendar": ["date", "focus"],
    "appointments:book": ["dialog", "team_member", "client", "date", "time"],
    "sales:list": ["period", "from", "to", "page"],
    "sales:tips": ["period", "from", "to"],
    "sales:checkout": ["appointment", "client", "card_options"],
    "vouchers:list": ["q", "status", "page"],
}
# Values that make the others count: a custom period reads from/to, card options read client.
COMPANIONS = {
    "from": {"period": "custom"},
    "to": {"period": "custom"},
    "client": {"card_options": "1"},
}
EVERY_PARAM = sorted(
    {p for params in QUERY_PARAMS.values() for p in params} | set(LIST_FILTERS) | {"next", "sort"}
)


def _get(http: HttpClient, url: str, params: dict) -> int:
    response = http.get(url, params)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)  # an export filters as it streams
    return response.status_code


def test_each_query_parameter_takes_malformed_values_without_a_500(world):
    site = build_site(world)
    http = logged_in(world.owner)
    urls = route_urls(world, site)
    assert set(QUERY_PARAMS) <= set(urls)
    failures = []
    for name, params in QUERY_PARAMS.items():
        for param in params:
            for value in MALFORMED:
                for query in ({param: value}, {param: value} | COMPANIONS.get(param, {})):
                    if _get(http, urls[name], query) >= 500:
                        failures.append((name, param, value[:8]))
                    if param not in COMPANIONS:
                        break
    assert not failures


@pytest.mark.parametrize(
    "value", [NUL, HUGE, "99999999999999999999"], ids=["nul", "10k", "past-64-bits"]
)
def test_every_route_takes_every_malformed_parameter_at_once(world, value):
    # Catches the parameters QUERY_PARAMS does not list.
    site = build_site(world)
    http, anonymous = logged_in(world.owner), HttpClient(raise_request_exception=False)
    query = dict.fromkeys(EVERY_PARAM, value)
    clients = (http, anonymous) if value == NUL else (http,)
    failures = [
        name
        for name, url in route_urls(world, site).items()
        for client in clients
        if _get(client, url, query) >= 500
    ]
    assert not failures


def test_the_named_examples(world):
    site = build_site(world)
    http = logged_in(world.owner)
    urls = route_urls(world, site)
    for query in (
        "?q=%00",
        "?page=abc",
        "?page=99999999999999999999",
        "?sort=bogus",
        "?tag=notanumber",
        "?tag=99999999999999999999",
        "?q=%00&page=2&sort=-spend",
    ):
        for name in ("clients:list", "vouchers:list", "sales:list", "clients:picker"):
            response = http.get(urls[name] + query)
            assert response.status_code == 200, (name, query)


# --- Import files: every cell can be junk ---------------------------------------------------

IMPORT_HEADERS = [
    "Glamiti ID", "First Name", "Last Name", "Email", "Mobile Number", "Date of Birth", "Note",
    "Tags", "Referral Source", "Gender", "Post Code", "Accepts Marketing", "Added",
]  # fmt: skip
GOOD_ROW = [
    "", "Ann", "Lee", "ann@example.com", "07911 123456", "25/12/1990", "Nice", "VIP",
    "Instagram", "Female", "N1 9GU", "yes", "2020-01-02",
]  # fmt: skip


@pytest.mark.parametrize("bad", ["²", "12²", HUGE_NUMBER, HUGE, "-1", "1e999"])
def test_an_import_with_junk_in_every_column_is_checked_not_crashed(world, settings, bad):
    settings.TASKS = IMMEDIATE
    rows = []
    for column in range(len(IMPORT_HEADERS)):
        row = [*GOOD_ROW]
        row[3], row[4] = f"row{column}@example.com", f"07911 1{column:05d}"
        row[column] = bad
        rows.append(row)
    http = logged_in(world.owner)
    imp = run_import(http, world, "clients.csv", csv_bytes(IMPORT_HEADERS, rows))
    assert imp.status == ImportStatus.DONE, imp.error
    assert imp.counts["rows"] == len(IMPORT_HEADERS)


def test_an_import_file_with_nul_bytes_is_refused_politely(world):
    http = logged_in(world.owner)
    content = csv_bytes(IMPORT_HEADERS, [[f"a{NUL}b" for _ in IMPORT_HEADERS]])
    url = route_urls(world, build_site(world))["clients:import"]
    response = http.post(url, {"file": SimpleUploadedFile("clients.csv", content)})
    assert response.status_code in (302, 422)
