"""Contact masking: the one place that decides what of a client's identity a viewer may see.

A business may hide client contact details from staff (`Business.mask_contacts_from_staff`).
Staff then see "Jane D." instead of "Jane Doe", `ja••@••••.com` instead of the e-mail and
"•••• 3456" instead of the phone; owners and managers always see everything. Searching still
uses the stored columns, so staff can find a client by phone or e-mail without seeing it.

Templates use the filters in clients/templatetags/clients_tags.py (`client|client_name`,
`client|contact:"email"`, ...); Python code (messages, JSON, errors) calls `display_name` and
`contact`. Both ask `masks_for(viewer)`. The viewer is the request's membership, which
`ContactMaskingMiddleware` makes active for the whole request, so code far from the request
(a widget's template, a booking error raised by a service) masks too. Outside a request
(exports, imports, background jobs, the admin) nothing is active and nothing is masked:
those paths are for owners, managers and the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse

from glamiti.models import Membership, Role

if TYPE_CHECKING:
    from clients.models import Client

BULLET = "•"
CONTACT_FIELDS = ("email", "mobile_phone", "other_phone")
# What the edit form hides from a masked viewer (the last name shows as its initial only).
HIDDEN_FORM_FIELDS = ("last_name", *CONTACT_FIELDS)

_viewer: ContextVar[Membership | None] = ContextVar("glamiti_contact_viewer", default=None)
# Marks "use the active viewer" (None is a real answer: no viewer, nothing masked).
ACTIVE: Any = object()


def masks_for(viewer: Membership | None) -> bool:
    """True if `viewer` (a membership) sees clients' contact details masked."""
    if viewer is None or viewer.role != Role.STAFF:
        return False
    return bool(viewer.business.mask_contacts_from_staff)


def active_viewer() -> Membership | None:
    return _viewer.get()


def masking_active(viewer: Membership | None = ACTIVE) -> bool:
    return masks_for(active_viewer() if viewer is ACTIVE else viewer)


@contextmanager
def viewing_as(viewer: Membership | None) -> Iterator[None]:
    """Make `viewer` the membership whose view of clients masking follows."""
    token = _viewer.set(viewer)
    try:
        yield
    finally:
        _viewer.reset(token)


class ContactMaskingMiddleware:
    """Makes the request's membership the active viewer for the view and its rendering.

    After `glamiti.tenancy.TenantMiddleware`, which sets `request.membership`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with viewing_as(getattr(request, "membership", None)):
            response = self.get_response(request)
            # A lazy response renders here, while the viewer is still known.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return response


# --- The masked forms ---------------------------------------------------------------------


def masked_name(first_name: str, last_name: str) -> str:
    """Jane, Doe → "Jane D.": the last name is reduced to its initial."""
    first = (first_name or "").strip()
    last = (last_name or "").strip()
    if not last:
        return first
    return f"{first} {last[0].upper()}.".strip()


def masked_email(email: str) -> str:
    """joanna@example.co.uk → "jo••@••••.uk": two characters, bullets, the top-level domain.

    The number of bullets is fixed, so the mask does not tell the length either.
    """
    email = (email or "").strip()
    if not email:
        return ""
    local, _, domain = email.rpartition("@")
    if not local:  # not an address: show nothing of it
        return BULLET * 4
    tld = domain.rsplit(".", 1)[1] if "." in domain else ""
    return f"{local[:2]}{BULLET * 2}@{BULLET * 4}" + (f".{tld}" if tld else "")


def masked_phone(phone: str) -> str:
    """+447700903456 → "•••• 3456": only the last four digits."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if not digits:
        return ""
    if len(digits) <= 4:
        return BULLET * 4
    return f"{BULLET * 4} {digits[-4:]}"


def is_masked_value(value: object) -> bool:
    return isinstance(value, str) and BULLET in value


# --- What a viewer sees -------------------------------------------------------------------


def person_name(first_name: str, last_name: str, viewer: Membership | None = ACTIVE) -> str:
    """A client's name from its parts, as `viewer` may see it."""
    if masking_active(viewer):
        return masked_name(first_name, last_name)
    return f"{first_name or ''} {last_name or ''}".strip()


def display_name(client: Client | None, viewer: Membership | None = ACTIVE) -> str:
    """The client's name as `viewer` (by default the request's membership) may see it."""
    if client is None:
        return ""
    return person_name(client.first_name, client.last_name, viewer)


def free_text_name(name: str, viewer: Membership | None = ACTIVE) -> str:
    """A person's name typed as one piece of text (a voucher's recipient), as `viewer` may
    see it: "Jane van Dijk" → "Jane V." when masked (the first word, then one initial)."""
    name = " ".join((name or "").split())
    if not masking_active(viewer) or " " not in name:
        return name
    first, rest = name.split(" ", 1)
    return masked_name(first, rest)


def contact(client: Client | None, field: str, viewer: Membership | None = ACTIVE) -> str:
    """One stored contact value (`email`, `mobile_phone`, `other_phone`) as `viewer` may see
    it: the stored value, or its mask. Phones stay in E.164 (the `phone` filter formats them
    and leaves a mask alone)."""
    if field not in CONTACT_FIELDS:
        raise ValueError(f"{field!r} is not a contact field ({', '.join(CONTACT_FIELDS)}).")
    if client is None:
        return ""
    value = getattr(client, field) or ""
    if not value or not masking_active(viewer):
        return value
    return masked_email(value) if field == "email" else masked_phone(value)


def masked_form_value(client: Client, field: str) -> str:
    """What the edit form shows a masked viewer in place of a hidden field's value."""
    value = getattr(client, field) or ""
    if not value:
        return ""
    if field == "last_name":
        return f"{value[0].upper()}."
    return masked_email(value) if field == "email" else masked_phone(value)
