"""Stored XSS: every text a user can type (names, e-mails, notes, alerts, reasons, titles,
tags, sources, services, products, team members, the business's name...) is an XSS payload,
and every page, fragment, dialog, header and export that shows it must show it as text."""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils.html import escape

from clients.models import Client, ClientTag, ReferralSource, Tag
from tests.conftest import logged_in
from tests.factories import ClientFactory
from tests.factories_imports import csv_bytes
from tests.rls import all_tenants
from tests.security.input_support import (
    ATTR,
    IMG,
    LONG,
    SCRIPT,
    assert_no_injection,
    build_site,
    injection_problems,
    route_urls,
)

HX = {"HTTP_HX_REQUEST": "true"}
# Routes that answer a GET with no HTML of their own: files, exports, POST-only actions.
NOT_PAGES = {
    "clients:photo",
    "clients:export",
    "clients:data-export",
    "clients:import-rejected",
    "profile:document",
    "healthz",
    "stripe-webhook",
}
# Text that no page shows, and why (every other field must show somewhere, escaped).
NOT_SHOWN = {
    "clients.client.external_id": "kept for re-imports and exports only",
    "glamiti.user.email": "users' e-mails are not shown on tenant pages",
    "sales.cardcharge.failure_code": "Stripe's code; staff see the message",
    "clients.clientimport.error": "only shown for a failed import",
    "clients.clientimport.vendor": "a key into the known vendors, shown by their name",
    "clients.clientimport.sheet_name": "XLSX imports only",
    **{
        f"clients.clientimportproblem.{name}": "shown on a checked import's preview: "
        "test_import_pages_escape_the_files_headers_and_cells"
        for name in ("column", "value", "message")
    },
}


def test_the_checker_finds_markup_that_got_through():
    leaks = [
        f"<p>{SCRIPT}</p>",
        f'<input value="{IMG}">',
        "<a href=' javascript:alert(1)'>x</a>",
        f"<div title='{ATTR}'>",
        '<svg><g onload="x"></g></svg>',
        "<script>var name = 'qz001';</script>",
        '<script type="application/json">{"name": "</script><b onclick=x>"}</script>',
    ]
    for html in leaks:
        assert injection_problems(html), html
    safe = f'<p title="{escape(LONG)}">{escape(LONG)}</p><textarea>{escape(SCRIPT)}</textarea>'
    assert injection_problems(safe) == []


def pages(world, site) -> list[tuple[str, str]]:
    """(what, URL) of every page and fragment that can show the site's text."""
    urls = route_urls(world, site)
    found = [(name, url) for name, url in urls.items() if name not in NOT_PAGES]
    client, slug = site.client, world.business.slug
    extra = {
        "client search": urls["clients:list"] + "?q=qz",
        "archived clients": urls["clients:list"] + "?archived=1",
        "tagged clients": urls["clients:list"] + f"?tag={site.tag.pk}&blocked=1",
        "client picker": urls["clients:picker"] + "?q=qz",
        "client dialog": urls["clients:create"] + "?dialog=1",
        "edit dialog": urls["clients:edit"] + "?dialog=1",
        "merge": urls["clients:merge"] + f"?kept={client.pk}&merged={site.duplicate.pk}",
        "book for client": urls["appointments:book"] + f"?client={client.pk}&dialog=1",
        "no-show appointment": reverse(
            "appointments:detail", kwargs={"business": slug, "pk": site.no_show.pk}
        ),
        "canceled appointment": reverse(
            "appointments:detail", kwargs={"business": slug, "pk": site.canceled.pk}
        ),
        "checkout an appointment": urls["sales:checkout"] + f"?appointment={site.appointment.pk}",
        "checkout a client": urls["sales:checkout"] + f"?client={client.pk}",
        "voided sale": reverse("sales:detail", kwargs={"business": slug, "pk": site.voided.pk}),
        "tips this year": urls["sales:tips"] + "?period=all",
        "voucher search": urls["vouchers:list"] + "?q=qz",
        "merged-away profile": reverse(
            "clients:detail", kwargs={"business": slug, "pk": site.merged_away.pk}
        ),
        "duplicate profile": reverse(
            "clients:detail", kwargs={"business": slug, "pk": site.duplicate.pk}
        ),
    }
    return found + list(extra.items())


def fetch(http: HttpClient, url: str, **headers) -> str:
    return html_of(http.get(url, **headers))


def html_of(response) -> str:
    assert response.status_code < 500
    if response.status_code != 200 or "html" not in response.get("Content-Type", "html"):
        return ""
    return response.content.decode()


def page_and_fragment(http: HttpClient, url: str) -> list[tuple[str, str]]:
    """The page, and the fragment htmx gets from the same URL when the view makes one (it
    says so with `Vary: HX-Request`; dialogs are asked for with ?dialog=1)."""
    response = http.get(url)
    found = [("", html_of(response))]
    if "HX-Request" in response.get("Vary", "") or "dialog=1" in url:
        found.append(("(htmx)", fetch(http, url, **HX)))
    return found


def test_every_typed_text_shows_escaped_on_every_page_and_fragment(world):
    site = build_site(world, payloads=True)
    owner, anonymous = logged_in(world.owner), HttpClient()
    seen: set[str] = set()
    problems = {}
    for name, url in pages(world, site):
        http = anonymous if name == "public-feedback" else owner
        for variant, html in page_and_fragment(http, url):
            found = injection_problems(html)
            if found:
                problems[f"{name} {variant}"] = found
            seen.update(token.lower() for token in re.findall(r"qz\d{3}", html, re.I))
    assert not problems, problems
    missing = site.tokens.fields - site.tokens.fields_shown(seen) - set(NOT_SHOWN)
    assert not missing, f"Typed text that no page showed (so its escaping went untested): {missing}"


def test_staff_pages_escape_too(world):
    # Pages differ by role (no edit buttons, read-only settings): check them as staff too.
    site = build_site(world, payloads=True)
    http = logged_in(world.staff)
    for name, url in pages(world, site):
        if name != "public-feedback":
            assert_no_injection(fetch(http, url), f"{name} as staff")


def test_saving_a_client_in_the_dialog_sends_its_name_as_json_in_hx_trigger(as_owner, world):
    first, last = "Łucja" + SCRIPT, IMG + "\u2028"
    response = as_owner.post(
        reverse("clients:create", kwargs={"business": world.business.slug}),
        {"first_name": first, "last_name": last, "dialog": "1"},
        **HX,
    )
    assert response.status_code == 200
    header = response["HX-Trigger"]
    assert header.isascii() and "\r" not in header and "\n" not in header
    event = json.loads(header)["clientSaved"]
    assert event["name"] == f"{first} {last.strip()}"
    with all_tenants():
        client = Client.objects.get(pk=event["id"])
    assert event["url"] == client.get_absolute_url()


def test_a_refused_client_dialog_shows_what_was_typed_escaped(as_owner, world):
    data = {"first_name": LONG[:80], "last_name": SCRIPT, "email": IMG, "alert": LONG}
    data |= {"dialog": "1", "new_tags": LONG[:40], "pronouns": IMG[:30]}
    url = reverse("clients:create", kwargs={"business": world.business.slug})
    response = as_owner.post(url, data, **HX)
    assert response.status_code == 200 and "HX-Trigger" not in response
    html = response.content.decode()
    assert "Enter a valid email address" in html
    assert_no_injection(html, "the client dialog sent back")


def test_messages_about_a_saved_client_are_escaped(as_owner, world):
    response = as_owner.post(
        reverse("clients:create", kwargs={"business": world.business.slug}),
        {"first_name": LONG[:80], "last_name": SCRIPT},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "added." in html
    assert_no_injection(html, "the client's profile after adding them")


def test_search_terms_are_echoed_escaped(as_owner, world):
    slug = world.business.slug
    for name in ("clients:list", "clients:picker", "vouchers:list"):
        for term in (SCRIPT, IMG, "' onmouseover='alert(1)"):
            url = reverse(name, kwargs={"business": slug}) + "?" + f"q={term}"
            for headers in ({}, HX):
                assert_no_injection(fetch(as_owner, url, **headers), f"{name} ?q={term!r}")


def test_login_page_escapes_its_next_parameter(client, db):
    for evil in (f'"{SCRIPT}', IMG, "javascript:alert(1)"):
        response = client.get(reverse("login"), {"next": evil})
        assert response.status_code == 200
        assert_no_injection(response.content.decode(), f"login ?next={evil!r}")


def test_document_download_names_cannot_break_the_header(world):
    site = build_site(world, payloads=True)
    url = reverse(
        "profile:document",
        kwargs={
            "business": world.business.slug,
            "pk": site.client.pk,
            "document_pk": site.document.pk,
        },
    )
    response = logged_in(world.owner).get(url)
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert not re.search(r"[<>\"'\r\n]", disposition.split("filename=", 1)[1].strip('"'))


# --- The import pages show the file's own text -----------------------------------------------


def test_import_pages_escape_the_files_headers_and_cells(as_owner, world, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    slug = world.business.slug
    headers = ["First Name", "Last Name", "Email", IMG, SCRIPT]
    rows = [
        ["Ann" + SCRIPT, IMG, "ann@example.com", "' onmouseover='alert(1)", "x"],
        [SCRIPT, "", "not-an-email" + IMG, "y", "z"],  # rejected: a row with problems
        ["Bob", "Lee", "ann@example.com", SCRIPT, IMG],  # a duplicate in the file
    ]
    upload = SimpleUploadedFile(IMG + ".csv", csv_bytes(headers, rows), content_type="text/csv")
    response = as_owner.post(reverse("clients:import", kwargs={"business": slug}), {"file": upload})
    assert response.status_code == 302, response.content.decode()[:2000]
    map_url = response["Location"]
    html = fetch(as_owner, map_url)
    assert "First Name" in html
    assert_no_injection(html, "import mapping")
    data = {"duplicate_mode": "skip", "keep_unmapped": "on"}
    data |= {f"column_{i}": key for i, key in enumerate(["first_name", "last_name", "email"])}
    response = as_owner.post(map_url, data)
    assert response.status_code == 302
    pages_seen = []
    url = response["Location"]
    for _ in range(6):  # preview → confirm → progress → result, following each step
        html = fetch(as_owner, url)
        assert_no_injection(html, url)
        assert_no_injection(fetch(as_owner, url, **HX), f"{url} (htmx)")
        pages_seen.append(url)
        if url.endswith("/preview/"):
            response = as_owner.post(url.replace("/preview/", "/confirm/"))
        else:
            response = as_owner.get(url)
        if response.status_code != 302:
            break
        url = response["Location"]
    assert any(u.endswith("/result/") for u in pages_seen), pages_seen
    history = fetch(as_owner, reverse("clients:import", kwargs={"business": slug}))
    assert_no_injection(history, "import history")
    clients = fetch(as_owner, reverse("clients:list", kwargs={"business": slug}))
    assert "Ann&lt;script&gt;" in clients
    assert_no_injection(clients, "client list after the import")


# --- Exports: text stays text ---------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"]
EXPORTED_TEXT = [
    "first_name",
    "last_name",
    "pronouns",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "blocked_reason",
    "alert",
    "external_id",
]


@pytest.fixture
def formula_clients(world):
    with all_tenants():
        for n, formula in enumerate([*FORMULAS, SCRIPT]):
            value = formula[:20]  # the shortest column (postal code) holds 20
            source = ReferralSource.objects.create(business=world.business, name=formula)
            tag = Tag.objects.create(business=world.business, name=formula[:40])
            client = ClientFactory(
                business=world.business,
                referral_source=source,
                email=f"x{n}@example.com",
                **dict.fromkeys(EXPORTED_TEXT, value),
            )
            ClientTag.objects.create(business=world.business, client=client, tag=tag)


def _export(http, world, query: str = "") -> bytes:
    url = reverse("clients:export", kwargs={"business": world.business.slug}) + query
    response = http.get(url)
    assert response.status_code == 200
    assert "html" not in response["Content-Type"]
    assert response["Content-Disposition"].startswith("attachment;")
    return b"".join(response.streaming_content)


def test_csv_export_neutralises_formulas_in_every_text_column(as_owner, world, formula_clients):
    rows = list(csv.reader(io.StringIO(_export(as_owner, world).decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert sum(cell == "'" + FORMULAS[0][:20] for cell in cells) == len(EXPORTED_TEXT)
    assert SCRIPT[:20] in cells  # markup is plain text in a CSV: kept as typed


def test_xlsx_export_writes_every_cell_as_text(as_owner, world, formula_clients):
    content = _export(as_owner, world, "?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value]
    assert cells and all(cell.data_type == "s" for cell in cells)
    values = {cell.value for cell in cells}
    assert FORMULAS[0][:20] in values and FORMULAS[0] in values  # kept, as text
