"""Normalising what people type: names for search, e-mails, phones in the business's country."""

from __future__ import annotations

import functools
import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError

NON_DIGITS = re.compile(r"\D+")
PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")


def fold(text: str) -> str:
    """Lower-case, accents removed, white space collapsed: 'José  Núñez' → 'jose nunez'."""
    if text.isascii():  # NFKD leaves ASCII alone, and casefold() is lower() there
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


# Names repeat from client to client; folding is per character, so folding the parts
# apart and joining them is the same as folding "first last email".
_fold_name = functools.lru_cache(maxsize=4096)(fold)


def search_text_for(first_name: str, last_name: str, email: str) -> str:
    if first_name.__class__ is str and last_name.__class__ is str and email.__class__ is str:
        return " ".join(filter(None, (_fold_name(first_name), _fold_name(last_name), fold(email))))
    return fold(f"{first_name} {last_name} {email}")


def normalize_email(value: str) -> str:
    return value.strip().lower()


def parse_phone(value: str, country: str) -> str:
    """A phone as typed (national or international format) → E.164, or a ValidationError."""
    value = value.strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, country or None)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            "This doesn't look like a phone number. Type it as you would dial it, "
            "or with its country code (e.g. +44 7700 900123)."
        ) from error
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "This phone number isn't valid%s. Check the digits, or add the country code."
            % (f" in {country}" if country else "")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str, country: str) -> str:
    """Display a stored E.164 number: national format at home, international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    # Compare calling codes, not regions: +44 7911… is Guernsey's range but dials like a UK one.
    if country and number.country_code == phonenumbers.country_code_for_region(country):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_search_digits(*phones: str) -> str:
    """The searchable digits of stored E.164 phones: '+447700900123' → '447700900123'."""
    return " ".join(
        [
            phone[1:] if phone[0] == "+" and phone[1:].isdecimal() else NON_DIGITS.sub("", phone)
            for phone in phones
            if phone
        ]
    )


def phone_query_digits(term: str, country: str) -> str:
    """What to look for in `phone_search_digits` when someone types `term`.

    '07700 900123' (GB) → '7700900123'; '+44 7700…' or '0044 7700…' → '447700…';
    '900 123' → '900123'. Returns '' when the term has too few digits to be a phone.
    """
    stripped = term.strip()
    digits = NON_DIGITS.sub("", stripped)
    if len(digits) < 3 or not PHONE_LIKE.match(stripped):
        return ""
    if stripped.startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country) if country else None
    trunk = metadata.national_prefix if metadata else None
    if trunk and digits.startswith(trunk) and len(digits) > len(trunk) + 2:
        return digits[len(trunk) :]
    return digits
