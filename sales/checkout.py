"""Checkout arithmetic: the lines a checkout is made of, and the pure rules that price them.

Nothing here touches the database, so the checkout page can show the same figures the
service will store ("Recalculate") without writing anything.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from glamiti.templatetags.glamiti_tags import money
from sales.models import ItemKind, PaymentMethod

if TYPE_CHECKING:
    from appointments.models import Service
    from clients.models import Client
    from glamiti.models import TeamMember
    from sales.models import Product, SavedCard

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def to_money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class CheckoutError(ValueError):
    """A checkout or void that must not happen; the message is written for staff.

    `section` ("items", "payments", "tips", "tip", "appointment", "client") and `index` (the
    line's position in the list given to the service) let the page show it beside the row.
    """

    def __init__(
        self, message: str, *, section: str | None = None, index: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.section = section
        self.index = index


@dataclass(frozen=True)
class ItemLine:
    """One line of a sale: a service, a product, or a voucher being bought."""

    kind: str  # ItemKind
    unit_price: Decimal
    quantity: int = 1
    discount: Decimal = ZERO
    description: str = ""
    service: Service | None = None
    product: Product | None = None
    team_member: TeamMember | None = None
    # Voucher purchases only: who the voucher is for, and when it expires (default: the
    # voucher service's rule).
    voucher_recipient: Client | None = None
    voucher_recipient_name: str = ""
    voucher_expires_on: datetime.date | None = None

    @property
    def gross(self) -> Decimal:
        return to_money(self.unit_price * self.quantity)

    @property
    def applied_discount(self) -> Decimal:
        """The discount as it applies: never more than the line is worth."""
        return min(to_money(self.discount), self.gross)

    @property
    def total(self) -> Decimal:
        return self.gross - self.applied_discount

    @property
    def label(self) -> str:
        if self.description:
            return self.description
        if self.kind == ItemKind.SERVICE and self.service is not None:
            return self.service.name
        if self.kind == ItemKind.PRODUCT and self.product is not None:
            return self.product.name
        if self.kind == ItemKind.VOUCHER:
            return "Gift voucher" + (
                f" for {self.voucher_recipient_name}" if self.voucher_recipient_name else ""
            )
        return ItemKind(self.kind).label


@dataclass(frozen=True)
class PaymentLine:
    method: str  # PaymentMethod
    amount: Decimal
    voucher_code: str = ""
    card: SavedCard | None = None  # the client's saved card to charge (method SAVED_CARD)


@dataclass(frozen=True)
class TipLine:
    """A team member's share of the tip: an amount, or a percentage of the whole tip."""

    team_member: TeamMember
    amount: Decimal | None = None
    percent: Decimal | None = None


@dataclass
class Totals:
    subtotal: Decimal = ZERO
    discount_total: Decimal = ZERO
    total: Decimal = ZERO
    services_total: Decimal = ZERO
    products_total: Decimal = ZERO
    vouchers_total: Decimal = ZERO
    tip_total: Decimal = ZERO
    paid: Decimal = ZERO
    by_kind: dict[str, Decimal] = field(default_factory=dict)

    @property
    def due(self) -> Decimal:
        """What the client pays: the sale's total and the tip."""
        return self.total + self.tip_total

    @property
    def remaining(self) -> Decimal:
        return self.due - self.paid

    @property
    def overpaid(self) -> Decimal:
        return max(ZERO, -self.remaining)


def checkout_totals(
    *, items: list[ItemLine], tip: Decimal = ZERO, payments: list[PaymentLine] = ()
) -> Totals:
    """The sale's figures: subtotal (before discounts), discounts, total, per kind, and tip."""
    totals = Totals(tip_total=to_money(tip), paid=sum((to_money(p.amount) for p in payments), ZERO))
    for line in items:
        totals.subtotal += line.gross
        totals.discount_total += line.applied_discount
        totals.by_kind[line.kind] = totals.by_kind.get(line.kind, ZERO) + line.total
    totals.total = totals.subtotal - totals.discount_total
    totals.services_total = totals.by_kind.get(ItemKind.SERVICE, ZERO)
    totals.products_total = totals.by_kind.get(ItemKind.PRODUCT, ZERO)
    totals.vouchers_total = totals.by_kind.get(ItemKind.VOUCHER, ZERO)
    return totals


def check_items(items: list[ItemLine]) -> None:
    for index, line in enumerate(items):
        if line.quantity < 1:
            raise CheckoutError("Quantity must be at least 1.", section="items", index=index)
        if line.unit_price < 0 or line.discount < 0:
            raise CheckoutError(
                "Prices and discounts can't be negative.", section="items", index=index
            )
        if line.kind == ItemKind.SERVICE and line.service is None:
            raise CheckoutError("Choose the service.", section="items", index=index)
        if line.kind == ItemKind.PRODUCT and line.product is None:
            raise CheckoutError("Choose the product.", section="items", index=index)
        if line.kind == ItemKind.VOUCHER:
            if line.quantity != 1:
                raise CheckoutError(
                    "Sell one voucher per line, so that each gets its own code.",
                    section="items",
                    index=index,
                )
            if line.unit_price <= 0:
                raise CheckoutError(
                    "Enter the voucher's value as its price.", section="items", index=index
                )


def allocate_tip(
    tip: Decimal, shares: list[TipLine], currency: str
) -> list[tuple[TeamMember, Decimal]]:
    """Split `tip` between team members, as amounts or as percentages that must add up.

    Percentages are rounded down to the cent and the remainder goes to the first member, so
    the shares always add up to the tip exactly. Shares that come to zero are left out.
    """
    tip = to_money(tip)
    if tip < 0:
        raise CheckoutError("A tip can't be negative.", section="tip")
    if tip == 0:
        # Percentages of no tip are nothing; amounts with no tip are a mistake.
        if any((s.amount or 0) > 0 for s in shares):
            raise CheckoutError(
                "The tip split gives money to team members, but the tip is zero. "
                "Enter the tip amount.",
                section="tip",
            )
        return []
    if not shares:
        raise CheckoutError("Choose who receives the tip.", section="tips")
    members = [s.team_member.pk for s in shares]
    if len(set(members)) != len(members):
        raise CheckoutError(
            "A team member appears twice in the tip split; give each one line.", section="tips"
        )
    with_percent = [s.percent is not None for s in shares]
    if any(with_percent) and not all(with_percent):
        raise CheckoutError(
            "Give every share of the tip as an amount, or every share as a percentage — "
            "not a mix of both.",
            section="tips",
        )
    if all(with_percent):
        total_percent = sum((Decimal(s.percent) for s in shares), Decimal(0))
        if total_percent != HUNDRED:
            raise CheckoutError(
                f"The tip percentages add up to {total_percent.normalize():f}%, not 100%.",
                section="tips",
            )
        amounts = [
            (tip * Decimal(s.percent) / HUNDRED).quantize(CENT, rounding=ROUND_DOWN) for s in shares
        ]
        amounts[0] += tip - sum(amounts, ZERO)
    else:
        amounts = [to_money(s.amount) for s in shares]
        if any(a < 0 for a in amounts):
            raise CheckoutError("A share of the tip can't be negative.", section="tips")
        allocated = sum(amounts, ZERO)
        if allocated != tip:
            gap = tip - allocated
            what = "still to allocate" if gap > 0 else "too much allocated"
            raise CheckoutError(
                f"The tip shares add up to {money(allocated, currency)}, but the tip is "
                f"{money(tip, currency)}: {money(abs(gap), currency)} {what}.",
                section="tips",
            )
    return [(s.team_member, a) for s, a in zip(shares, amounts, strict=True) if a > 0]


def check_payments(totals: Totals, payments: list[PaymentLine], currency: str) -> None:
    """Payments must cover the total and the tip exactly (change is not a payment)."""
    for index, payment in enumerate(payments):
        if payment.method not in PaymentMethod.values:
            raise CheckoutError("Choose how this was paid.", section="payments", index=index)
        if payment.amount <= 0:
            raise CheckoutError(
                "Enter an amount greater than zero.", section="payments", index=index
            )
        if payment.method == PaymentMethod.VOUCHER and not payment.voucher_code.strip():
            raise CheckoutError("Enter the voucher code.", section="payments", index=index)
        if payment.method == PaymentMethod.SAVED_CARD and payment.card is None:
            raise CheckoutError(
                "Choose which saved card to charge.", section="payments", index=index
            )
    if totals.paid == totals.due:
        return
    due = money(totals.due, currency)
    what = f"{due}"
    if totals.tip_total:
        what += f" ({money(totals.total, currency)} and a {money(totals.tip_total, currency)} tip)"
    gap = abs(totals.remaining)
    if totals.remaining > 0:
        message = (
            f"The payments come to {money(totals.paid, currency)}, but the client owes {what}: "
            f"{money(gap, currency)} is still to pay."
        )
    else:
        message = (
            f"The payments come to {money(totals.paid, currency)}, which is "
            f"{money(gap, currency)} more than the {what} owed. Enter the amount kept, "
            "not the cash handed over."
        )
    raise CheckoutError(message, section="payments")
