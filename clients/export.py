"""Export of the (filtered) client list as CSV or XLSX, streamed so that a million rows never
sit in memory.

The columns are the import's own fields (clients/imports_fields.py), titled with the labels
the importer recognises, so an export imports back with nothing lost. Cells that a
spreadsheet could run as a formula are neutralised: in CSV with a leading apostrophe (which
our importer takes off again), in XLSX by being written as text cells, never as formulas.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from xml.sax.saxutils import escape

from clients.imports_fields import FIELDS_BY_KEY
from clients.listing import ClientFilters
from clients.models import Client
from clients.normalize import format_phone
from glamiti.models import Business
from glamiti.tenancy import tenant_context

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 2000


def _birthday(client: Client) -> str:
    if not (client.birth_day and client.birth_month):
        return ""
    if client.birth_year:
        return f"{client.birth_year:04d}-{client.birth_month:02d}-{client.birth_day:02d}"
    return f"--{client.birth_month:02d}-{client.birth_day:02d}"  # ISO 8601 without a year


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _when(value: Any) -> str:
    return value.isoformat() if value else ""


# (field key, how to read it from a client). The header is the field's label.
COLUMNS: list[tuple[str, Callable[[Client], Any]]] = [
    ("glamiti_id", lambda c: c.pk),
    ("first_name", lambda c: c.first_name),
    ("last_name", lambda c: c.last_name),
    ("email", lambda c: c.email),
    # Phones in international format, so that they re-import anywhere.
    ("mobile_phone", lambda c: format_phone(c.mobile_phone, "")),
    ("other_phone", lambda c: format_phone(c.other_phone, "")),
    ("birthday", _birthday),
    ("gender", lambda c: c.get_gender_display() if c.gender else ""),
    ("pronouns", lambda c: c.pronouns),
    ("address_line1", lambda c: c.address_line1),
    ("address_line2", lambda c: c.address_line2),
    ("city", lambda c: c.city),
    ("region", lambda c: c.region),
    ("postal_code", lambda c: c.postal_code),
    ("country", lambda c: c.country),
    ("email_marketing", lambda c: _yes(c.email_marketing)),
    ("sms_marketing", lambda c: _yes(c.sms_marketing)),
    ("is_blocked", lambda c: _yes(c.is_blocked)),
    ("blocked_reason", lambda c: c.blocked_reason),
    ("alert", lambda c: c.alert),
    ("referral_source", lambda c: c.referral_source.name if c.referral_source else ""),
    ("tags", lambda c: ", ".join(t.name for t in c.tags.all()) if c.pk else ""),
    ("external_id", lambda c: c.external_id),
    ("client_since", lambda c: _when(c.created_at)),
    ("archived", lambda c: _when(c.archived_at)),
]
HEADERS = [FIELDS_BY_KEY[key].label for key, _ in COLUMNS]


def neutralise(value: str) -> str:
    """Stop spreadsheet programs from running a cell as a formula (CSV injection)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def row_values(client: Client) -> list[str]:
    """A client as the export's cells (text, not yet neutralised)."""
    values = []
    for _, read in COLUMNS:
        value = read(client)
        values.append("" if value is None else str(value))
    return values


def _clients(business: Business, filters: ClientFilters) -> Iterator[Client]:
    clients = filters.apply(business.clients.all())
    clients = clients.select_related("referral_source").prefetch_related("tags")
    return clients.iterator(chunk_size=CHUNK)


class _Echo:
    def write(self, value: str) -> str:
        return value


def stream_csv(business: Business, filters: ClientFilters) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so that Excel reads UTF-8 names correctly
    yield writer.writerow(HEADERS)
    # The response streams after the request's tenant scope has closed: open it here.
    with tenant_context(business):
        for client in _clients(business, filters):
            yield writer.writerow([neutralise(value) for value in row_values(client)])


# --- XLSX, written as it streams ------------------------------------------------------------------

_PKG = "http://schemas.openxmlformats.org/package/2006"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SML}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_SML}.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    f'{_XML}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{_REL}">'
    '<sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Style 1: text format ("@") with Excel's quote prefix, so an edited cell stays text too.
# Style 2: the bold header.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" '
    'applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
    'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"
# Characters XML 1.0 cannot carry at all.
_INVALID_XML = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_LETTERS = [_column_letters(i) for i in range(len(COLUMNS))]


def _row_xml(number: int, values: list[str], style: int) -> str:
    cells = "".join(
        f'<c r="{letter}{number}" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
        f"{escape(value.translate(_INVALID_XML))}</t></is></c>"
        for letter, value in zip(_LETTERS, values, strict=False)
        if value
    )
    return f'<row r="{number}">{cells}</row>'


class _Sink:
    """Where zipfile writes; the generator hands each piece to the response."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def stream_xlsx(business: Business, filters: ClientFilters) -> Iterator[bytes]:
    """An XLSX workbook, zipped as it is written (zipfile supports unseekable output)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        yield sink.take()
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((_SHEET_START + _row_xml(1, HEADERS, 2)).encode())
            number = 1
            with tenant_context(business):
                for client in _clients(business, filters):
                    number += 1
                    sheet.write(_row_xml(number, row_values(client), 1).encode())
                    if number % 500 == 0:
                        yield sink.take()
            sheet.write(_SHEET_END.encode())
    yield sink.take()
