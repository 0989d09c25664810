from django import template

from clients import masking
from clients.normalize import format_phone

register = template.Library()


@register.filter
def phone(value: str, country: str) -> str:
    """An E.164 phone in national format for the business's country, else international.

    A masked phone ("•••• 3456") is shown as it is."""
    if masking.is_masked_value(value):
        return value
    return format_phone(value or "", country or "")


# Contact masking (clients/masking.py): the viewer is the request's membership.


@register.filter
def client_name(client) -> str:
    """`{{ client|client_name }}`: the client's name as the viewer may see it ("Jane D.")."""
    return masking.display_name(client)


@register.filter
def contact(client, field: str) -> str:
    """`{{ client|contact:"email" }}`, `{{ client|contact:"mobile_phone"|phone:country }}`."""
    return masking.contact(client, field)


@register.filter
def person_name(name: str) -> str:
    """A name typed as free text (a voucher's recipient), masked like a client's."""
    return masking.free_text_name(name)


@register.simple_tag
def contacts_masked() -> bool:
    """`{% contacts_masked as masked %}`: whether the viewer sees contact details masked
    (for tel:/mailto: links and prefilled values that must not appear at all then)."""
    return masking.masking_active()
