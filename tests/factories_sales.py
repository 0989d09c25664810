"""Products, and sales made through the checkout service (so totals, tips and links are
what the app itself would write). Call inside `all_tenants()` or `tenant_context()`."""

from __future__ import annotations

import uuid
from decimal import Decimal

import factory

from sales.models import Product, Sale
from sales.services import ItemLine, PaymentLine, TipLine, checkout
from tests.factories import BusinessFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    business = factory.SubFactory(BusinessFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    price = Decimal("12.00")


def make_sale(
    business,
    *,
    items: list[ItemLine] | None = None,
    client=None,
    appointment=None,
    tip: Decimal | str = "0",
    tips: list[TipLine] | None = None,
    payments: list[PaymentLine] | None = None,
    by=None,
) -> Sale:
    """A paid sale: by default one product line, paid in full by card."""
    if items is None:
        product = ProductFactory(business=business, price=Decimal("20.00"))
        items = [ItemLine(kind="product", product=product, unit_price=product.price)]
    tip = Decimal(str(tip))
    if payments is None:
        due = sum((line.total for line in items), Decimal(0)) + tip
        payments = [PaymentLine(method="card_terminal", amount=due)] if due else []
    return checkout(
        business=business,
        idempotency_key=uuid.uuid4(),
        client=client,
        appointment=appointment,
        items=items,
        payments=payments,
        tips=tips or [],
        tip=tip,
        by=by,
    )
