"""Money in the trail: sales, their items, payments and tips, voids, refunds, the voucher
ledger and balances, card charges — and never a secret."""

import json
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.urls import reverse

from audit.context import Source
from audit.models import AuditEntry
from clients.models import Client
from glamiti.tenancy import tenant_context
from sales import cards
from sales.checkout import ItemLine, PaymentLine, TipLine
from sales.models import (
    CardCharge,
    ChargePurpose,
    ChargeStatus,
    FeedbackLink,
    ItemKind,
    Payment,
    Sale,
    SaleItem,
    SavedCard,
    TipAllocation,
)
from tests.audit.conftest import entries
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_sales import ProductFactory, make_sale
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants
from vouchers.models import Voucher, VoucherLedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(world):
    """A sale paid partly with a voucher, selling another voucher, with a tip."""
    business = world.business
    with all_tenants():
        client = ClientFactory(business=business)
        member = TeamMemberFactory(business=business)
        used = make_voucher(business, "30.00", recipient=client)
        product = ProductFactory(business=business, price=D("20.00"))
    with tenant_context(business):
        sale = make_sale(
            business,
            client=client,
            items=[
                ItemLine(kind=ItemKind.PRODUCT, product=product, unit_price=product.price),
                ItemLine(kind=ItemKind.VOUCHER, unit_price=D("50.00")),
            ],
            tip="5",
            tips=[TipLine(member, amount=D("5"))],
            payments=[
                PaymentLine(method="voucher", amount=D("25"), voucher_code=used.code),
                PaymentLine(method="card_terminal", amount=D("50")),
            ],
            by=world.staff,
        )
    return SimpleNamespace(sale=sale, client=client, member=member, used=used)


def about(model, obj_id):
    return entries(model, object_id=obj_id)


def test_a_checkout_records_the_sale_its_items_payments_and_tips(world, paid):
    (created, completed) = about(Sale, paid.sale.pk)
    assert created.action == AuditEntry.Action.CREATE
    assert created.changes["total"] == [None, "70.00"]
    assert created.changes["tip_total"] == [None, "5.00"]
    assert completed.changes["status"] == ["open", "completed"]
    assert created.client_id == paid.client.pk
    items = entries(SaleItem)
    assert sorted(e.changes["kind"][1] for e in items) == ["product", "voucher"]
    assert all(e.client_id == paid.client.pk for e in items)
    payments = entries(Payment)
    assert sorted(e.changes["amount"][1] for e in payments) == ["25.00", "50.00"]
    (tip,) = entries(TipAllocation)
    assert tip.changes["amount"] == [None, "5.00"]
    assert tip.changes["team_member"] == [None, paid.member.pk]
    assert tip.client_id == paid.client.pk
    # The voucher redeemed: its ledger entry and its balance, old → new.
    redeemed = [e for e in entries(VoucherLedgerEntry) if e.changes["kind"][1] == "redeemed"]
    assert redeemed and redeemed[0].changes["amount"] == [None, "-25.00"]
    balance = [e for e in about(Voucher, paid.used.pk) if "balance" in (e.changes or {})]
    assert balance[-1].changes["balance"] == ["30.00", "5.00"]
    assert balance[-1].client_id == paid.client.pk


def test_a_void_records_who_why_and_the_voucher_refund(as_manager, world, paid):
    url = reverse("sales:void", kwargs={"business": world.business.slug, "pk": paid.sale.pk})
    response = as_manager.post(url, {"reason": "Rung up twice"})
    assert response.status_code == 302
    voided = about(Sale, paid.sale.pk)[-1]
    assert voided.changes["status"] == ["completed", "voided"]
    assert voided.changes["void_reason"] == ["", "Rung up twice"]
    assert voided.actor == world.manager and voided.source == Source.WEB
    refunded = [e for e in entries(VoucherLedgerEntry) if e.changes["kind"][1] == "refunded"]
    assert refunded and refunded[0].actor == world.manager
    balance = [e for e in about(Voucher, paid.used.pk) if "balance" in (e.changes or {})]
    assert balance[-1].changes["balance"] == ["5.00", "30.00"]


def test_a_card_refund_is_recorded(world, monkeypatch):
    with all_tenants():
        client = ClientFactory(business=world.business)
        card = SavedCard.objects.create(
            business=world.business, client=client, stripe_payment_method_id="pm_x",
            brand="visa", last4="4242", exp_month=12, exp_year=2040,
        )  # fmt: skip
        charge = CardCharge.objects.create(
            business=world.business, client=client, card=card, amount=D("40.00"), currency="GBP",
            purpose=ChargePurpose.NO_SHOW_FEE, idempotency_key="noshow-1",
            status=ChargeStatus.SUCCEEDED, stripe_payment_intent_id="pi_1",
        )  # fmt: skip
    monkeypatch.setattr(
        cards.stripe_api, "refund_create", lambda **kwargs: SimpleNamespace(id="re_1")
    )
    with tenant_context(world.business):
        cards.charge_refund(charge=CardCharge.objects.get(pk=charge.pk))
    refund = about(CardCharge, charge.pk)[-1]
    assert refund.changes["status"] == ["succeeded", "refunded"]
    assert refund.changes["amount_refunded"] == ["0.00", "40.00"]
    assert refund.changes["stripe_refund_id"] == ["", "re_1"]  # Stripe ids are not secrets
    assert refund.client_id == client.pk


def test_an_owner_adjusting_a_voucher_is_recorded(as_owner, world):
    with all_tenants():
        voucher = make_voucher(world.business, "50.00")
    url = reverse("vouchers:adjust", kwargs={"business": world.business.slug, "pk": voucher.pk})
    as_owner.post(url, {"amount": "-10", "note": "Goodwill correction"})
    adjusted = [e for e in entries(VoucherLedgerEntry) if e.changes["kind"][1] == "adjusted"]
    assert adjusted and adjusted[0].changes["note"] == [None, "Goodwill correction"]
    assert adjusted[0].actor == world.owner and adjusted[0].source == Source.WEB


def all_entry_text() -> str:
    with all_tenants():
        rows = AuditEntry.objects.values_list(
            "changes", "object_repr", "additional_data", "serialized_data", "changes_text"
        )
        return json.dumps(list(rows), default=str)


def test_secrets_are_never_recorded(world, paid, django_user_model):
    with all_tenants():
        link = FeedbackLink.objects.get(sale=paid.sale)
        codes = list(Voucher.objects.values_list("code", flat=True))
        card = SavedCard.objects.create(
            business=world.business, client=paid.client, stripe_payment_method_id="pm_secret",
            brand="visa", last4="4321", exp_month=7, exp_year=2039, cardholder_name="Maya Card",
        )  # fmt: skip
        card.is_default = True
        card.save()
        client = Client.objects.get(pk=paid.client.pk)
        client.city = "Leeds"
        client.save()
        user = django_user_model.objects.get(pk=world.owner.pk)
    text = all_entry_text()
    assert link.token not in text
    assert codes and not any(code in text for code in codes)
    assert user.password not in text
    assert "4321" not in text and "Maya Card" not in text and "2039" not in text
    assert "pm_secret" in text  # which card it was is recorded (a Stripe id, not a secret)
    assert not entries(FeedbackLink)
