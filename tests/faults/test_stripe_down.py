"""Stripe unreachable while a sale is paid with a saved card: the sale stays unpaid, staff see
why, and trying again once Stripe is back charges the card exactly once.

Stripe is localstripe (tests/conftest_stripe.py). "Down" is a port where nothing listens.
A lost answer (Stripe charged the card, but its reply never arrived) goes through a proxy
that forwards the charge and hangs up; like Stripe, the proxy answers a repeated idempotency
key with the first answer (localstripe itself ignores the keys).
"""

import json
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from decimal import Decimal as D
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from glamiti.tenancy import tenant_context
from sales.models import CardCharge, ChargeStatus, PaymentMethod, Sale, SaleStatus
from tests.factories import ClientFactory
from tests.factories_sales import ProductFactory
from tests.factories_stripe import saved_card
from tests.faults.conftest import bound_socket
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

UNREACHABLE = "Stripe could not be reached. Please try again in a moment; trying again will not"
CHARGES = "/v1/payment_intents"


@dataclass
class StripeFrontDoor:
    """A proxy to localstripe that keeps Stripe's idempotency promise and can lose answers."""

    target: str
    url: str = ""
    lose_charge_answers: bool = False
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, key
    answers: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def charge_keys(self) -> list[str]:
        return [key for method, path, key in self.requests if (method, path) == ("POST", CHARGES)]


def _handler(door: StripeFrontDoor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            key = self.headers.get("Idempotency-Key", "")
            path = self.path.split("?")[0]
            door.requests.append((self.command, path, key))
            if key and key in door.answers:
                status, payload = door.answers[key]
            else:
                status, payload = self._ask_localstripe(body)
                if key and self.command == "POST":
                    door.answers[key] = (status, payload)
            if door.lose_charge_answers and (self.command, path) == ("POST", CHARGES):
                self.close_connection = True  # charged, but the answer never leaves
                return
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _ask_localstripe(self, body: bytes | None) -> tuple[int, bytes]:
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
            }
            request = urllib.request.Request(  # noqa: S310 (localstripe on 127.0.0.1)
                door.target + self.path, data=body, method=self.command, headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    return response.status, response.read()
            except urllib.error.HTTPError as error:
                return error.code, error.read()

        do_GET = do_POST = do_DELETE = _forward

        def log_message(self, format, *args):  # noqa: A002
            pass

    return Handler


@pytest.fixture
def front_door(localstripe):
    door = StripeFrontDoor(target=localstripe.url)
    sock = bound_socket()
    host, port = sock.getsockname()
    sock.close()
    server = ThreadingHTTPServer((host, port), _handler(door))
    door.url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield door
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _production_retries(stripe_settings):
    # As in production (settings.py's default): the SDK retries a failed call twice, with the
    # same idempotency key.
    stripe_settings.STRIPE_MAX_NETWORK_RETRIES = 2
    return stripe_settings


@pytest.fixture
def desk(world):
    with all_tenants():
        product = ProductFactory(business=world.business, name="Wax", price=D("9.50"))
        client = ClientFactory(business=world.business, first_name="Maya")
    return {"product": product, "client": client, "card": saved_card(client)}


def checkout(http, world, desk, key: uuid.UUID):
    data = {
        "idempotency_key": str(key),
        "client": str(desk["client"].pk),
        "appointment": "",
        "tip": "",
        "note": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-item": f"product:{desk['product'].pk}",
        "items-0-quantity": "1",
        "tips-TOTAL_FORMS": "0",
        "tips-INITIAL_FORMS": "0",
        "payments-TOTAL_FORMS": "1",
        "payments-INITIAL_FORMS": "0",
        "payments-0-method": "saved_card",
        "payments-0-amount": "9.50",
        "payments-0-card": str(desk["card"].pk),
    }
    return http.post(reverse("sales:checkout", kwargs={"business": world.business.slug}), data)


def the_sale(world) -> Sale:
    with tenant_context(world.business):
        return Sale.objects.get()


def charges(world) -> list[CardCharge]:
    with tenant_context(world.business):
        return list(CardCharge.objects.order_by("id"))


def payment_intents(localstripe, desk) -> list[dict]:
    with all_tenants():
        customer = desk["client"].stripe_customer.stripe_customer_id
    return localstripe.payment_intents(customer)


def assert_unpaid_with_a_message(response, world) -> CardCharge:
    assert response.status_code == 200
    page = " ".join(response.content.decode().split())
    assert UNREACHABLE in page and "charge twice" in page
    assert "awaiting payment" in page
    sale = the_sale(world)
    assert sale.status == SaleStatus.OPEN and sale.total == D("9.50")
    with tenant_context(world.business):
        assert not sale.payments.exists()
    # The attempt stays pending: trying again reuses it, and its idempotency key.
    (charge,) = charges(world)
    assert charge.status == ChargeStatus.PENDING and charge.stripe_payment_intent_id == ""
    return charge


def assert_paid_once(response, world, localstripe, desk) -> None:
    sale = the_sale(world)
    assert response.status_code == 302 and response.url == sale.get_absolute_url()
    assert sale.status == SaleStatus.COMPLETED
    (charge,) = charges(world)
    (intent,) = payment_intents(localstripe, desk)
    assert charge.status == ChargeStatus.SUCCEEDED
    assert charge.stripe_payment_intent_id == intent["id"]
    assert (intent["status"], intent["amount"]) == ("succeeded", 950)
    with tenant_context(world.business):
        (payment,) = sale.payments.all()
    assert (payment.method, payment.amount) == (PaymentMethod.SAVED_CARD, D("9.50"))


def test_stripe_down_leaves_the_sale_unpaid_and_the_retry_charges_once(
    as_staff, world, desk, localstripe, front_door, down_url, stripe_settings
):
    key = uuid.uuid4()
    stripe_settings.STRIPE_API_BASE = down_url
    charge = assert_unpaid_with_a_message(checkout(as_staff, world, desk, key), world)
    assert payment_intents(localstripe, desk) == []

    # Still down: a second try changes nothing and makes no second attempt.
    assert_unpaid_with_a_message(checkout(as_staff, world, desk, key), world)

    stripe_settings.STRIPE_API_BASE = front_door.url  # Stripe is back
    response = checkout(as_staff, world, desk, key)
    assert_paid_once(response, world, localstripe, desk)
    assert front_door.charge_keys() == [charge.idempotency_key] == [f"sale-{key}-1"]

    # The same form sent again afterwards shows the sale; nothing is charged.
    assert checkout(as_staff, world, desk, key).status_code == 302
    assert len(payment_intents(localstripe, desk)) == 1 and len(charges(world)) == 1


def test_a_charge_whose_answer_is_lost_is_not_made_twice_by_the_retry(
    as_staff, world, desk, localstripe, front_door, stripe_settings
):
    key = uuid.uuid4()
    stripe_settings.STRIPE_API_BASE = front_door.url
    front_door.lose_charge_answers = True
    charge = assert_unpaid_with_a_message(checkout(as_staff, world, desk, key), world)
    # Stripe did charge the card; we could not know, so the sale waits.
    (intent,) = payment_intents(localstripe, desk)
    assert intent["status"] == "succeeded"

    front_door.lose_charge_answers = False
    response = checkout(as_staff, world, desk, key)
    assert_paid_once(response, world, localstripe, desk)
    # Every try, the SDK's and the user's, sent the first attempt's key.
    keys = front_door.charge_keys()
    assert len(keys) >= 2 and set(keys) == {charge.idempotency_key}
    assert json.loads(front_door.answers[charge.idempotency_key][1])["id"] == intent["id"]
