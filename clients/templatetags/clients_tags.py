from django import template

from clients.normalize import format_phone

register = template.Library()


@register.filter
def phone(value: str, country: str) -> str:
    """An E.164 phone in national format for the business's country, else international."""
    return format_phone(value or "", country or "")
