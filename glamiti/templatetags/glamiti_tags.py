from decimal import Decimal

from django import template

register = template.Library()

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "CAD": "$", "AUD": "$", "NZD": "$"}
SYMBOL_AFTER = {"SEK": " kr", "NOK": " kr", "DKK": " kr", "PLN": " zł", "CHF": " CHF"}


@register.filter
def money(value: Decimal | int | float | None, currency: str) -> str:
    """1234.5, "GBP" → "£1,234.50"; amounts are shown in the business's currency."""
    if value is None or value == "":
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    sign = "−" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}"
    if currency in SYMBOL_AFTER:
        return f"{sign}{digits}{SYMBOL_AFTER[currency]}"
    return f"{sign}{CURRENCY_SYMBOLS.get(currency, currency + ' ')}{digits}"
