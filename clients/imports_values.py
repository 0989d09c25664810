"""Reading one cell of an imported file: forgiving parsers for what salon software exports.

Each parser takes a raw cell (text from a CSV, or a typed value from a spreadsheet) and
returns the value to store, or raises `Dropped` with a message for the owner: a bad value in
an optional field is dropped with a warning, never the whole row.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from clients.normalize import fold, parse_phone

# Cells that mean "nothing here", whatever the column.
PLACEHOLDERS = frozenset(
    {
        "-", "--", "---", "----", "—", "–", ".", "?", "n/a", "na", "n.a.", "none", "null",
        "nil", "never", "jamais", "nie", "nunca", "mai", "nooit", "niemals", "unknown",
        "not set", "not provided", "not specified", "0000-00-00", "00/00/0000", "00.00.0000",
        "#n/a", "(blank)", "(empty)",
    }
)  # fmt: skip
# A leading apostrophe is how spreadsheets (and our own export) keep a cell as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NAME_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "do", "du",
     "la", "le", "ten", "ter", "y", "bin", "ibn", "al", "el", "st."}
)  # fmt: skip
WORD_SPLIT = re.compile(r"([-'’ ])")
SPACES = re.compile(r"\s+")
NON_DIGITS = re.compile(r"\D+")
ASCII_NON_DIGITS = str.maketrans("", "", "".join(chr(c) for c in range(128) if not 48 <= c <= 57))
SIMPLE_PHONE = re.compile(r"^\+?[\d\s().\-/]{5,30}$")
PLAIN_PHONE = re.compile(r"[0-9 ().\-/]+")  # what phonenumbers reads as its digits alone
# A strict subset of what Django's EmailValidator accepts.
PLAIN_EMAIL = re.compile(
    r"^[a-z0-9_%+\-]+(?:\.[a-z0-9_%+\-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$"
)
LIST_SPLIT = re.compile(r"\s*[;,/|]\s*|\s+or\s+|\s+ou\s+|\s+oder\s+|\s+o\s+")

YES = frozenset(
    {"yes", "y", "true", "t", "1", "x", "✓", "✔", "si", "ja", "j", "oui", "o", "sim", "s", "tak",
     "da", "subscribed", "opted in", "opt in", "opt-in", "accepted", "accepts", "on", "checked",
     "agreed", "consented", "wahr", "vrai", "verdadero", "vero", "verdadeiro", "waar"}
)  # fmt: skip
NO = frozenset(
    {"no", "n", "false", "f", "0", "nein", "non", "nao", "nee", "nie", "ne", "unsubscribed",
     "not subscribed", "opted out", "opt out", "opt-out", "declined", "off", "unchecked",
     "bounced", "falsch", "faux", "falso", "onwaar", "not opted in"}
)  # fmt: skip
GENDERS = {
    "female": "female", "f": "female", "woman": "female", "w": "female", "femme": "female",
    "feminin": "female", "weiblich": "female", "frau": "female", "mujer": "female",
    "femenino": "female", "donna": "female", "femmina": "female", "feminile": "female",
    "feminino": "female", "mulher": "female", "vrouw": "female", "vrouwelijk": "female",
    "kobieta": "female", "girl": "female", "lady": "female", "ms": "female", "mrs": "female",
    "male": "male", "m": "male", "man": "male", "homme": "male", "masculin": "male",
    "mannlich": "male", "mann": "male", "hombre": "male", "masculino": "male", "uomo": "male",
    "maschio": "male", "maschile": "male", "homem": "male", "mannelijk": "male",
    "mezczyzna": "male", "boy": "male", "mr": "male",
    "non-binary": "non_binary", "non binary": "non_binary", "nonbinary": "non_binary",
    "nb": "non_binary", "enby": "non_binary", "non binaire": "non_binary",
    "non-binaire": "non_binary", "nicht-binar": "non_binary", "nicht binar": "non_binary",
    "divers": "non_binary", "no binario": "non_binary", "no binaria": "non_binary",
    "non binario": "non_binary", "nao binario": "non_binary", "niet-binair": "non_binary",
    "other": "other", "autre": "other", "andere": "other", "anders": "other", "otro": "other",
    "otra": "other", "altro": "other", "outro": "other", "inne": "other",
    "prefer not to say": "prefer_not_to_say", "rather not say": "prefer_not_to_say",
    "prefiero no decirlo": "prefer_not_to_say", "je prefere ne pas le dire": "prefer_not_to_say",
    "keine angabe": "prefer_not_to_say",
}  # fmt: skip
GENDER_IGNORED = frozenset({"unknown", "unspecified", "not specified", "u", "?"})
COUNTRY_NAMES = {
    "united kingdom": "GB", "uk": "GB", "u.k.": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "ireland": "IE", "eire": "IE", "republic of ireland": "IE", "irlanda": "IE",
    "united states": "US", "united states of america": "US", "usa": "US", "u.s.a.": "US",
    "u.s.": "US", "america": "US", "canada": "CA", "australia": "AU", "new zealand": "NZ",
    "france": "FR", "germany": "DE", "deutschland": "DE", "allemagne": "DE", "spain": "ES",
    "espana": "ES", "espagne": "ES", "italy": "IT", "italia": "IT", "italie": "IT",
    "portugal": "PT", "netherlands": "NL", "nederland": "NL", "the netherlands": "NL",
    "holland": "NL", "belgium": "BE", "belgique": "BE", "belgie": "BE", "switzerland": "CH",
    "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "austria": "AT", "osterreich": "AT",
    "sweden": "SE", "sverige": "SE", "norway": "NO", "norge": "NO", "denmark": "DK",
    "danmark": "DK", "finland": "FI", "suomi": "FI", "poland": "PL", "polska": "PL",
    "south africa": "ZA", "greece": "GR", "czech republic": "CZ", "czechia": "CZ",
    "romania": "RO", "hungary": "HU", "croatia": "HR", "turkey": "TR", "turkiye": "TR",
    "india": "IN", "mexico": "MX", "brazil": "BR", "brasil": "BR", "argentina": "AR",
}  # fmt: skip
MONTHS = {
    # English, French, German, Spanish, Italian, Portuguese, Dutch, Polish; folded.
    "january": 1, "jan": 1, "janvier": 1, "janv": 1, "januar": 1, "janner": 1, "enero": 1,
    "ene": 1, "gennaio": 1, "gen": 1, "janeiro": 1, "januari": 1, "styczen": 1, "sty": 1,
    "february": 2, "feb": 2, "fevrier": 2, "fevr": 2, "fev": 2, "februar": 2, "febrero": 2,
    "febbraio": 2, "fevereiro": 2, "februari": 2, "luty": 2, "lut": 2,
    "march": 3, "mar": 3, "mars": 3, "marz": 3, "marzo": 3, "marco": 3, "maart": 3, "mrt": 3,
    "marzec": 3,
    "april": 4, "apr": 4, "avril": 4, "avr": 4, "abril": 4, "abr": 4, "aprile": 4,
    "kwiecien": 4, "kwi": 4,
    "may": 5, "mai": 5, "mayo": 5, "may.": 5, "maggio": 5, "mag": 5, "maio": 5, "mei": 5,
    "maj": 5,
    "june": 6, "jun": 6, "juin": 6, "juni": 6, "junio": 6, "giugno": 6, "giu": 6, "junho": 6,
    "czerwiec": 6, "cze": 6,
    "july": 7, "jul": 7, "juillet": 7, "juil": 7, "juli": 7, "julio": 7, "luglio": 7, "lug": 7,
    "julho": 7, "lipiec": 7, "lip": 7,
    "august": 8, "aug": 8, "aout": 8, "agosto": 8, "ago": 8, "augustus": 8, "sierpien": 8,
    "sie": 8,
    "september": 9, "sep": 9, "sept": 9, "septembre": 9, "septiembre": 9, "set": 9,
    "settembre": 9, "setembro": 9, "wrzesien": 9, "wrz": 9,
    "october": 10, "oct": 10, "octobre": 10, "oktober": 10, "okt": 10, "octubre": 10,
    "ottobre": 10, "ott": 10, "outubro": 10, "out": 10, "pazdziernik": 10, "paz": 10,
    "november": 11, "nov": 11, "novembre": 11, "noviembre": 11, "novembro": 11,
    "listopad": 11, "lis": 11,
    "december": 12, "dec": 12, "decembre": 12, "dezember": 12, "dez": 12, "diciembre": 12,
    "dic": 12, "dicembre": 12, "dezembro": 12, "grudzien": 12, "gru": 12,
}  # fmt: skip
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
YMD = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
NUMERIC_DATE = re.compile(
    r"^(\d{1,2})([/.\-])(\d{1,2})(?:\2(\d{2}|\d{4}))?(?:\s+\d{1,2}:\d{2}.*)?$"
)
NO_YEAR_ISO = re.compile(r"^--(\d{1,2})-?(\d{1,2})$")
COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
SERIAL = re.compile(r"^\d{4,5}(?:\.0+)?$")
WORDS_DATE = re.compile(r"[a-z]+\.?|\d+")
EXCEL_EPOCH = datetime.date(1899, 12, 30)
# Years that mean "the year is not known" in various programs' exports.
NO_YEAR = frozenset({0, 1, 4, 1600, 1604, 1900})


class Dropped(ValueError):  # noqa: N818 - it is a result, not a failure of ours
    """The value was not usable; the message says why, for the owner."""


def cell_text(raw: Any) -> str:
    """A spreadsheet cell as text (phones stored as numbers lose their '.0')."""
    if isinstance(raw, str):
        return raw
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, datetime.datetime):
        return raw.isoformat(sep=" ")
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    return str(raw)


def is_placeholder(text: str) -> bool:
    return text.casefold() in PLACEHOLDERS


def clean_text(text: str) -> str:
    """Trim, collapse white space, and take off a leading apostrophe that protects a cell."""
    text = " ".join(text.split())
    if text.startswith("'") and len(text) > 1 and (text[1] in FORMULA_START or text[1].isdigit()):
        text = text[1:]
    return text


def _cap(word: str) -> str:
    parts = WORD_SPLIT.split(word)
    result = "".join(p[:1].upper() + p[1:] if p not in "-'’ " else p for p in parts)
    if result.startswith("Mc") and len(result) > 2:
        result = "Mc" + result[2].upper() + result[3:]
    return result


def fix_case(text: str) -> str:
    """'JOHN O'BRIEN' or 'john o'brien' → 'John O'Brien'; text typed in mixed case stays."""
    if not (text.isupper() or text.islower()):
        return text
    words = text.lower().split(" ")
    return " ".join(
        word if index and word in NAME_PARTICLES else _cap(word) for index, word in enumerate(words)
    )


def fit(text: str, max_length: int, label: str) -> str:
    if len(text) <= max_length:
        return text
    raise Dropped(f"{label} is longer than {max_length} characters.")


def split_full_name(text: str) -> tuple[str, str]:
    """'Smith, Jane' → ('Jane', 'Smith'); 'Mary Ann van der Berg' → ('Mary Ann', 'van der Berg')."""
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    words = text.split(" ")
    if len(words) == 1:
        return text, ""
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in NAME_PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])


def parse_email(text: str) -> str:
    value = text.strip().lower().removeprefix("mailto:")
    if PLAIN_EMAIL.match(value):
        return value  # common and certainly valid: Django's validator accepts all of these
    if " " in value or "," in value or ";" in value:
        first = [part for part in LIST_SPLIT.split(value) if "@" in part]
        value = first[0] if first else value
    try:
        validate_email(value)
    except ValidationError as error:
        raise Dropped(f"“{text}” is not a valid e-mail address.") from error
    if len(value) > 254:
        raise Dropped("The e-mail address is too long.")
    return value


@functools.cache
def _region_rules(country: str) -> tuple[str, str, str, re.Pattern, re.Pattern, tuple] | None:
    """The business country's calling code, trunk and international prefixes, and its
    number patterns as two compiled regexes (any valid number, and any type of number);
    then, if it is its calling code's main country, phonenumbers' own patterns for its
    national and international prefixes (or None)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(country) if country else None
    if meta is None or not meta.general_desc or not meta.general_desc.national_number_pattern:
        return None
    kinds = [meta.fixed_line, meta.mobile, meta.toll_free, meta.premium_rate, meta.shared_cost,
             meta.personal_number, meta.voip, meta.pager, meta.uan, meta.voicemail]  # fmt: skip
    patterns = [d.national_number_pattern for d in kinds if d and d.national_number_pattern]
    if not patterns:
        return None
    trunk = meta.national_prefix if (meta.national_prefix or "").isdigit() else ""
    idd = meta.international_prefix if (meta.international_prefix or "").isdigit() else ""
    any_type = re.compile("(?:" + ")|(?:".join(patterns) + ")")
    prefixes = None
    if phonenumbers.region_code_for_country_code(meta.country_code) == country:
        national_prefix = meta.national_prefix_for_parsing
        international_prefix = meta.international_prefix
        prefixes = (
            re.compile(national_prefix) if national_prefix else None,
            re.compile(international_prefix) if international_prefix else None,
        )
    return (
        str(meta.country_code),
        trunk,
        idd,
        re.compile(meta.general_desc.national_number_pattern),
        any_type,
        prefixes,
    )


def _home_e164(value: str, country: str) -> str:
    """The E.164 form of a number of the business's own country written plainly, or ''.

    The common case, done with the country's own patterns in a few microseconds; anything
    unusual ('' here) goes through phonenumbers' full parser. The result is the same:
    tests/imports/test_values.py checks that."""
    rules = _region_rules(country)
    if rules is None or not SIMPLE_PHONE.match(value):
        return ""
    code, trunk, idd, general, any_type, prefixes = rules
    digits = value.translate(ASCII_NON_DIGITS) if value.isascii() else NON_DIGITS.sub("", value)
    if value.startswith("+"):
        if not digits.startswith(code):
            return ""
        national = digits[len(code) :]
    elif idd and digits.startswith(idd):
        rest = digits[len(idd) :]
        if not rest.startswith(code):
            return ""
        national = rest[len(code) :]
    elif trunk and digits.startswith(trunk):
        national = digits[len(trunk) :]
    elif general.fullmatch(digits) and any_type.fullmatch(digits):
        return f"+{code}{digits}"
    else:
        return _without_plus(value, digits, rules)
    if general.fullmatch(national) and any_type.fullmatch(national):
        return f"+{code}{national}"
    return ""


def _without_plus(value: str, digits: str, rules: tuple) -> str:
    """A home number written with its country code but no plus ('447700900123'), or ''.

    phonenumbers' parse takes the code off by itself when the whole is not a valid number
    and the rest is, and no national or international prefix starts them; the rest is then
    read as the number."""
    code, _, _, general, any_type, prefixes = rules
    if prefixes is None or not digits.startswith(code) or general.fullmatch(digits):
        return ""
    national_prefix, international_prefix = prefixes
    national = digits[len(code) :]
    if (
        PLAIN_PHONE.fullmatch(value)
        and general.fullmatch(national)
        and any_type.fullmatch(national)
        and not (international_prefix and international_prefix.match(digits))
        and not (national_prefix and national_prefix.match(national))
    ):
        return f"+{code}{national}"
    return ""


def parse_phone_fast(text: str, country: str) -> str:
    """A phone as exported (apostrophes, spaces, '44…' without +) → E.164, or Dropped."""
    value = text.strip().lstrip("'").strip()
    if value.endswith(".0") and value[:-2].isdigit():
        value = value[:-2]
    home = _home_e164(value, country)
    if home:
        return home
    try:
        return parse_phone(value, country)
    except ValidationError:
        pass
    digits = re.sub(r"\D", "", value)
    if value[:1].isdigit() and len(digits) >= 10:
        # A country code typed without its plus sign ('447700900123').
        try:
            return parse_phone("+" + digits, "")
        except ValidationError:
            pass
    parts = [p for p in LIST_SPLIT.split(value) if p.strip()]
    if len(parts) > 1:
        return parse_phone_fast(parts[0], country)
    where = f" in {country}" if country else ""
    raise Dropped(f"“{text}” is not a valid phone number{where}.")


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        return bool(raw)
    key = str(raw).strip().casefold()
    if key in YES:
        return True
    if key in NO:
        return False
    key = fold(key).strip(" .!")
    if key in YES:
        return True
    if key in NO:
        return False
    raise Dropped(f"“{raw}” is not a yes or a no.")


def parse_gender(text: str) -> str:
    key = text.strip().casefold()
    if key in GENDERS:
        return GENDERS[key]
    key = fold(text).strip(" .")
    if key in GENDER_IGNORED:
        return ""
    if key in GENDERS:
        return GENDERS[key]
    if key.replace("_", " ") in GENDERS:
        return GENDERS[key.replace("_", " ")]
    raise Dropped(f"“{text}” is not a gender we know (female, male, non-binary, other).")


def parse_country(text: str) -> str:
    value = text.strip()
    if len(value) == 2 and value.isalpha():
        code = value.upper()
        code = "GB" if code == "UK" else code
        if code in phonenumbers.SUPPORTED_REGIONS:
            return code
    code = COUNTRY_NAMES.get(fold(value))
    if code:
        return code
    raise Dropped(f"“{text}” is not a country we recognise; use a two-letter code such as GB.")


# --- Dates -------------------------------------------------------------------------------------

Ymd = tuple[int | None, int, int]


def date_order_hint(text: str) -> str:
    """'dmy' or 'mdy' if this one value decides the column's order, else ''."""
    match = NUMERIC_DATE.match(text.strip())
    if not match:
        return ""
    first, second = int(match.group(1)), int(match.group(3))
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return ""


def _valid(year: int | None, month: int, day: int) -> Ymd:
    if year is not None and year in NO_YEAR:
        year = None
    if 1 <= day <= 28 and 1 <= month <= 12 and (year is None or 1 <= year <= 9999):
        return year, month, day  # a day every month of every year has
    try:
        datetime.date(year or 2000, month, day)  # 2000: a leap year, so 29 February passes
    except ValueError as error:
        raise Dropped("This is not a real date.") from error
    return year, month, day


def _two_digit_year(year: int) -> int:
    this_year = timezone.localdate().year % 100
    return 2000 + year if year <= this_year else 1900 + year


def _words_date(text: str) -> Ymd | None:
    tokens = WORDS_DATE.findall(fold(text))
    month = None
    numbers: list[int] = []
    for token in tokens:
        token = token.rstrip(".")
        if token.isdigit():
            if len(token) > 8:  # no day or year is this long (and int() refuses 4,300 digits)
                return None
            numbers.append(int(token))
        elif token in MONTHS and month is None:
            month = MONTHS[token]
        elif token in {"st", "nd", "rd", "th", "de", "of", "er"}:
            continue
        elif token[:3] in MONTHS and month is None and len(token) >= 3:
            month = MONTHS[token[:3]]
        else:
            return None
    if month is None or not numbers or len(numbers) > 2:
        return None
    day = next((n for n in numbers if n <= 31), None)
    if day is None:
        return None
    rest = [n for n in numbers if n is not day] if numbers.count(day) == 1 else numbers[1:]
    year = rest[0] if rest else None
    if year is not None and year < 100:
        year = _two_digit_year(year)
    return _valid(year, month, day)


def parse_date_parts(raw: Any, order: str) -> Ymd:
    """A date cell → (year or None, month, day). `order` ('dmy'/'mdy') settles 03/04 dates."""
    if raw.__class__ is str:
        text = raw.strip()
        if len(text) == 10 and text.isascii():
            # The two usual shapes, 2026-04-03 and 03/04/2026, read as the patterns read them.
            if text[4] == "-" == text[7] and (text[:4] + text[5:7] + text[8:]).isdigit():
                return _valid(int(text[:4]), int(text[5:7]), int(text[8:]))
            sep = text[2]
            if sep == text[5] and sep in "/.-" and (text[:2] + text[3:5] + text[6:]).isdigit():
                day, month = _day_month(int(text[:2]), sep, int(text[3:5]), order)
                return _valid(int(text[6:]), month, day)
    elif isinstance(raw, datetime.datetime | datetime.date):
        return _valid(raw.year, raw.month, raw.day)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        return _serial(float(raw))
    else:
        text = str(raw).strip()
    if match := ISO_DATE.match(text):
        return _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := NUMERIC_DATE.match(text):
        year = match.group(4)
        year_value = None if year is None else int(year)
        if year is not None and len(year) == 2:
            year_value = _two_digit_year(year_value)
        day, month = _day_month(int(match.group(1)), match.group(2), int(match.group(3)), order)
        return _valid(year_value, month, day)
    if match := YMD.match(text):
        return _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := NO_YEAR_ISO.match(text):
        return _valid(None, int(match.group(1)), int(match.group(2)))
    if match := COMPACT.match(text):
        return _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if SERIAL.match(text):
        return _serial(float(text))
    words = _words_date(text)
    if words:
        return words
    raise Dropped(f"“{text}” is not a date we can read (try 2026-04-03 or 03/04/2026).")


def _day_month(first: int, sep: str, second: int, order: str) -> tuple[int, int]:
    if sep == "." and order != "mdy":
        return first, second
    return (second, first) if order == "mdy" else (first, second)


def _serial(value: float) -> Ymd:
    # Excel's day numbers; below 3000 is more likely a year or junk than a date before 1908.
    if not 3000 <= value <= 80000:
        raise Dropped(f"“{value:g}” is not a date we can read.")
    date = EXCEL_EPOCH + datetime.timedelta(days=int(value))
    return date.year, date.month, date.day


def parse_birthday(raw: Any, order: str, today: datetime.date | None = None) -> Ymd:
    year, month, day = parse_date_parts(raw, order)
    today = today or timezone.localdate()
    if year is not None and (year < 1900 or datetime.date(year, month, day) > today):
        raise Dropped(f"“{cell_text(raw)}” is not a possible birthday.")
    return year, month, day


def parse_datetime(raw: Any, order: str, tz: datetime.tzinfo) -> datetime.datetime:
    """A date or date-time cell → an aware datetime (dates at midnight, business time)."""
    if isinstance(raw, datetime.datetime):
        value = raw
    else:
        text = cell_text(raw).strip()
        try:
            value = datetime.datetime.fromisoformat(text)
        except ValueError:
            year, month, day = parse_date_parts(raw, order)
            if year is None:
                raise Dropped(f"“{text}” has no year.") from None
            value = datetime.datetime(year, month, day)  # noqa: DTZ001 - made aware below
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    if value > datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=1):
        raise Dropped(f"“{cell_text(raw)}” is in the future.")
    return value
