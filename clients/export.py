"""CSV export of the client list, streamed so that a million rows never sit in memory."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from clients.listing import ClientFilters
from clients.models import Client
from clients.normalize import format_phone
from glamiti.models import Business
from glamiti.tenancy import tenant_context

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
COLUMNS: list[tuple[str, str]] = [
    ("Client ID", "pk"),
    ("First name", "first_name"),
    ("Last name", "last_name"),
    ("E-mail", "email"),
    ("Mobile phone", "mobile_phone"),
    ("Other phone", "other_phone"),
    ("Birthday", "birthday_display"),
    ("Gender", "get_gender_display"),
    ("Pronouns", "pronouns"),
    ("Address line 1", "address_line1"),
    ("Address line 2", "address_line2"),
    ("City", "city"),
    ("County / state", "region"),
    ("Postal code", "postal_code"),
    ("Country", "country"),
    ("Accepts e-mail marketing", "email_marketing"),
    ("Accepts SMS marketing", "sms_marketing"),
    ("Blocked", "is_blocked"),
    ("Block reason", "blocked_reason"),
    ("Alert", "alert"),
    ("External ID", "external_id"),
    ("Added", "created_at"),
    ("Archived", "archived_at"),
]
PHONE_FIELDS = {"mobile_phone", "other_phone"}


def neutralise(value: str) -> str:
    """Stop spreadsheet programs from running a cell as a formula (CSV injection)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def cell(client: Client, attribute: str, country: str) -> str:
    value = getattr(client, attribute)
    value = value() if callable(value) else value
    if attribute in PHONE_FIELDS:
        # Phones stay in international format so that they re-import anywhere.
        return format_phone(value, "")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return neutralise(str(value))


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(business: Business, filters: ClientFilters) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so that Excel reads UTF-8 names correctly
    yield writer.writerow([title for title, _ in COLUMNS])
    # The response streams after the request's tenant scope has closed: open it here.
    with tenant_context(business):
        clients = filters.apply(business.clients.all())
        for client in clients.iterator(chunk_size=2000):
            yield writer.writerow([cell(client, attr, business.country) for _, attr in COLUMNS])
