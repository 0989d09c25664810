"""Security headers: the Content-Security-Policy (our scripts and Stripe's, nothing inline),
framing, sniffing, referrer and HTTPS; and templates that need no inline script to work."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
FAKE_STRIPE_JS = "http://127.0.0.1:8311/js.stripe.com/v3/"
FAKE_STRIPE = "http://127.0.0.1:8311"

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.fixture
def fake_stripe(settings):
    settings.STRIPE_JS_URL = FAKE_STRIPE_JS


@pytest.fixture
def pages(client, as_owner, world):
    """A few kinds of page: public, tenant, admin, an error page."""
    slug = world.business.slug
    return {
        "login": lambda: client.get(reverse("login")),
        "clients": lambda: as_owner.get(f"/{slug}/clients/"),
        "calendar": lambda: as_owner.get(f"/{slug}/calendar/"),
        "admin login": lambda: client.get(reverse("admin:login")),
        "not found": lambda: as_owner.get(f"/{world.other_business.slug}/clients/"),
    }


PAGE_NAMES = ["login", "clients", "calendar", "admin login", "not found"]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_pages_send_a_strict_content_security_policy(pages, fake_stripe, name):
    response = pages[name]()
    assert response.status_code in {200, 404}
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    # Scripts: ours and Stripe's (wherever STRIPE_JS_URL points), never inline nor eval.
    assert set(csp["script-src"]) == {
        "'self'",
        "https://js.stripe.com",
        "https://*.js.stripe.com",
        FAKE_STRIPE,
    }
    assert FAKE_STRIPE in csp["frame-src"] and "https://js.stripe.com" in csp["frame-src"]
    assert set(csp["connect-src"]) == {"'self'", "https://api.stripe.com", FAKE_STRIPE}
    # Stylesheets only from us; style="" attributes are allowed (per-row colours, positions).
    assert csp["style-src-elem"] == ["'self'"]
    assert csp["style-src-attr"] == ["'unsafe-inline'"]
    assert not any("unsafe" in source for source in csp["script-src"])
    assert "script-src-attr" not in csp and "script-src-elem" not in csp


def test_real_stripe_is_allowed_once(client, settings):
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    response = client.get(reverse("login"))
    csp = policy(response)
    assert csp["script-src"].count("https://js.stripe.com") == 1
    assert csp["connect-src"].count("https://js.stripe.com") == 1
    assert "https://js.stripe.com" in csp["frame-src"]
    assert "127.0.0.1" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_pages_refuse_framing_and_sniffing(pages, name):
    response = pages[name]()
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_lockout_page_has_the_same_policy(client, world, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        response = client.post(reverse("login"), {"username": "someone", "password": "x"})
    assert response.status_code == 429
    assert policy(response)["script-src"][0] == "'self'"
    assert response["X-Frame-Options"] == "DENY"


def test_https_only_when_configured(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get(reverse("login"))
    assert response.status_code == 301
    assert response.url.startswith("https://")
    secure = client.get(reverse("login"), secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    # The load balancer's health check may stay on plain HTTP.
    assert client.get(reverse("healthz")).status_code == 200


# --- Templates: nothing the policy would block ----------------------------------------------

TEMPLATE_FILES = sorted(
    path
    for folder in (ROOT / "templates", ROOT / "static")
    for path in folder.rglob("*")
    if path.suffix in {".html", ".svg", ".txt"}
)
TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.I | re.S)
# An attribute such as onclick= or onfocus= inside a tag (not text like "on=" in prose).
EVENT_HANDLER = re.compile(r"<[a-z][^>]*?\s(on[a-z]+)\s*=", re.I | re.S)
HTMX_EVAL = [
    (re.compile(r"\s(?:data-)?hx-on[:\-]", re.I), "hx-on handler"),
    (re.compile(r"hx-trigger=\"[^\"]*\[", re.I), "hx-trigger filter expression"),
    (re.compile(r"hx-(?:vals|vars)=['\"]\s*(?:js|javascript):", re.I), "hx-vals js:"),
    (re.compile(r"(?:href|src|action)=['\"]\s*javascript:", re.I), "javascript: URL"),
    (re.compile(r"<style\b", re.I), "inline <style> element"),
]


def test_templates_were_found():
    names = {path.name for path in TEMPLATE_FILES}
    assert {"base.html", "login.html", "500.html"} <= names


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_inline_script(path):
    text = TEMPLATE_COMMENT.sub("", path.read_text(encoding="utf-8"))
    problems = []
    for attributes, body in SCRIPT_TAG.findall(text):
        if "src=" not in attributes:
            problems.append(f"<script{attributes}> without src")
        if body.strip():
            problems.append(f"<script{attributes}> with inline code")
    problems += [f"{name}= handler" for name in EVENT_HANDLER.findall(text)]
    problems += [label for pattern, label in HTMX_EVAL if pattern.search(text)]
    assert not problems, f"{path.relative_to(ROOT)}: {problems}"


def test_the_checks_catch_what_they_look_for(tmp_path):
    for bad in [
        "<script>alert(1)</script>",
        '<script type="module">go()</script>',
        '<button type="button" onclick="go()">Go</button>',
        '<input\n  value="x" onfocus="this.select()">',
        '<form hx-on::after-request="go()"></form>',
        "<form hx-trigger=\"change[target.name==='status']\"></form>",
        "<style>body { color: red }</style>",
    ]:
        found = bool(SCRIPT_TAG.search(bad) and "src=" not in SCRIPT_TAG.search(bad).group(1))
        found = found or bool(EVENT_HANDLER.search(bad))
        found = found or any(pattern.search(bad) for pattern, _ in HTMX_EVAL)
        assert found, bad
    for good in [
        '<script src="/static/js/glamiti.js" defer></script>',
        "<p>Turn notifications on=off in settings</p>",
        '<input data-select-on-focus value="x">',
    ]:
        assert not EVENT_HANDLER.search(good), good
