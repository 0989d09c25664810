"""Stripe for tests: the fake Stripe server localstripe, started once per test session on a
free 127.0.0.1 port, and the settings, webhook registration and checks that go with it.

tests/stripe/conftest.py imports these fixtures; so does tests/browser/test_cards.py.
Nothing here talks to the internet: localstripe also serves the Stripe.js the browser loads.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from tests.rls import all_tenants

LAUNCHER = Path(__file__).parent / "stripe" / "localstripe_server.py"
SECRET_KEY = "sk_test_glamiti"
PUBLISHABLE_KEY = "pk_test_glamiti"
WEBHOOK_SECRET = "whsec_glamiti_tests"
WEBHOOK_NAME = "glamiti"

# 13 to 19 digits, maybe in groups separated by one space or dash, not part of a longer
# token (an id, a +phone number), that pass the Luhn check: what a card number looks like.
DIGIT_RUN = re.compile(r"(?<![\w+\-.])(?:\d[ -]?){12,18}\d(?![\w])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_numbers_in(text: str) -> list[str]:
    found = []
    for match in DIGIT_RUN.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(match.group())
    return found


OUR_APPS = {"glamiti", "clients", "appointments", "sales", "vouchers", "admin"}
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def card_numbers_in_database() -> list[str]:
    """Every text column of every table of our apps, scanned for card numbers."""
    found = []
    with all_tenants():
        for model in apps.get_models():
            if model._meta.app_label not in OUR_APPS:
                continue
            columns = [f.name for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
            if not columns:
                continue
            for row in model._base_manager.values_list(*columns):
                for value in row:
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    found += [f"{model.__name__}: {n}" for n in card_numbers_in(text)]
    return found


def card_numbers_in_logs(records: list[logging.LogRecord]) -> list[str]:
    found = []
    for record in records:
        found += [f"log {record.name}: {n}" for n in card_numbers_in(record.getMessage())]
    return found


# --- localstripe ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalStripe:
    url: str

    def call(self, method: str, path: str, data: dict | None = None) -> dict:
        """Talk to localstripe directly (test set-up and checks), bypassing our gateway."""
        body = None
        headers = {"Authorization": f"Bearer {SECRET_KEY}"}
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 (localstripe on 127.0.0.1)
            self.url + path, data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                text = response.read().decode() or "{}"
        except urllib.error.HTTPError as error:
            text = error.read().decode() or "{}"
        return json.loads(text)

    def card(self, number: str, exp_month: int = 12, exp_year: int = 2034) -> str:
        """A card payment method made from a raw test number (as Stripe.js would); its id."""
        card = {"number": number, "exp_month": exp_month, "exp_year": exp_year, "cvc": "123"}
        return self.call("POST", "/v1/payment_methods", {"type": "card", "card": card})["id"]

    def payment_intents(self, customer_id: str) -> list[dict]:
        listing = self.call("GET", "/v1/payment_intents?limit=100")
        return [pi for pi in listing.get("data", []) if pi.get("customer") == customer_id]

    def register_webhook(self, url: str, events: list[str] | None = None) -> None:
        data: dict = {"url": url, "secret": WEBHOOK_SECRET}
        if events is not None:
            data["events"] = events
        request = urllib.request.Request(  # noqa: S310 (localstripe on 127.0.0.1)
            f"{self.url}/_config/webhooks/{WEBHOOK_NAME}",
            data=json.dumps(data).encode(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass


def _start(port: int, log) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [sys.executable, str(LAUNCHER), str(port)], stdout=log, stderr=subprocess.STDOUT
    )


def _wait_until_up(process: subprocess.Popen, url: str, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=2):  # noqa: S310
                return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory) -> LocalStripe:
    """localstripe on a free 127.0.0.1 port for the whole session; stopped at its end."""
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with open(log_path, "wb") as log:
        for _attempt in range(3):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            process = _start(port, log)
            if _wait_until_up(process, url):
                break
            process.kill()
            process.wait()
        else:
            pytest.fail(f"localstripe did not start; see {log_path}", pytrace=False)
        try:
            yield LocalStripe(url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def stripe_settings(settings, localstripe):
    """Point the gateway (and the browser's Stripe.js) at localstripe."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe.url
    settings.STRIPE_JS_URL = f"{localstripe.url}/js.stripe.com/v3/"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return settings


@pytest.fixture
def stripe_webhooks(live_server, localstripe, stripe_settings):
    """localstripe sends its signed events to the live test server while the test runs.

    Off again afterwards ("no events" filter), so that events of later tests don't arrive at
    a server whose test is over.
    """
    localstripe.register_webhook(f"{live_server.url}/webhooks/stripe/")
    yield live_server
    localstripe.register_webhook(f"{live_server.url}/webhooks/stripe/", events=["none"])


# --- A recording proxy: which idempotency keys reach Stripe ---------------------------------


@dataclass
class Recorded:
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, key

    def keys(self, method: str, path: str) -> list[str]:
        return [key for m, p, key in self.requests if m == method and p.split("?")[0] == path]


def _proxy_handler(target: str, recorded: Recorded) -> type[BaseHTTPRequestHandler]:
    class Forward(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            key = self.headers.get("Idempotency-Key", "")
            recorded.requests.append((self.command, self.path, key))
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
            }
            request = urllib.request.Request(  # noqa: S310 (localstripe on 127.0.0.1)
                target + self.path, data=body, method=self.command, headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    status, payload = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, payload = error.code, error.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _forward

        def log_message(self, format, *args):  # noqa: A002
            pass  # quiet

    return Forward


@pytest.fixture
def stripe_recorder(localstripe, stripe_settings):
    """Route the gateway through a local proxy that records each request's idempotency key
    (localstripe accepts the keys but does nothing with them)."""
    recorded = Recorded()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(localstripe.url, recorded))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    yield recorded
    server.shutdown()
    server.server_close()
