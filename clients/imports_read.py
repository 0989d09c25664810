"""Opening an uploaded client file: what it really is (by its content, never its name), its
encoding, delimiter and header row, and its rows one at a time.

A CSV is streamed. An XLSX is read with python-calamine (fast); a very large sheet with
openpyxl's read-only mode instead, which keeps memory flat at the cost of speed. Either
parses the whole sheet before the first row, so the check behind the preview saves the
cells it read (`write_cells`) and the import job reads those (`read_cells`).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime
import gzip
import io
import json
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage

from clients.imports_fields import NAME_KEYS, field_for_header, recognised_count
from clients.imports_values import GENDERS, NO, YES, cell_text
from clients.normalize import fold

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_000_000
# An XLSX is a zip: refuse one that would unpack to something absurd (a zip bomb).
MAX_UNPACKED_BYTES = 1536 * 1024 * 1024
MAX_RATIO = 100
MAX_ZIP_ENTRIES = 2000
# Above this, the sheet is streamed with openpyxl rather than loaded whole by calamine.
CALAMINE_MAX_SHEET_BYTES = 150 * 1024 * 1024
SNIFF_BYTES = 256 * 1024
SNIFF_ROWS = 40
SAMPLE_ROWS = 5
DELIMITERS = (",", ";", "\t", "|")
CHUNK = 1024 * 1024

csv.field_size_limit(1024 * 1024)


class ImportFileError(Exception):
    """The file cannot be imported; the message says why, for the owner."""


@dataclass
class FileInfo:
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    header_row: int
    samples: list[list[str]] = field(default_factory=list)
    rows_estimate: int = 0
    encoding: str = ""
    delimiter: str = ""
    sheet_name: str = ""


# --- What is it? ---------------------------------------------------------------------------------

MAGIC = [
    (b"%PDF", "This is a PDF document, not a spreadsheet."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "This is an old-style Excel (.xls) or Office file."),
    (b"\x89PNG", "This is an image, not a spreadsheet."),
    (b"\xff\xd8\xff", "This is an image, not a spreadsheet."),
    (b"GIF8", "This is an image, not a spreadsheet."),
    (b"\x1f\x8b", "This is a compressed (gzip) file, not a spreadsheet."),
    (b"Rar!", "This is a compressed (RAR) file, not a spreadsheet."),
    (b"7z\xbc\xaf", "This is a compressed (7-Zip) file, not a spreadsheet."),
    (b"{\\rtf", "This is a word-processor (RTF) document, not a spreadsheet."),
]
SAVE_AS = (
    " Open it in your spreadsheet program and save it as CSV or Excel (.xlsx), then upload that."
)


def sniff(path: Path) -> FileInfo:
    """Look at a local file and describe it, or raise ImportFileError."""
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError("The file is empty.")
    if size > MAX_BYTES:
        raise ImportFileError("The file is larger than 50 MB. Split it into smaller files.")
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    for magic, message in MAGIC:
        if head.startswith(magic):
            raise ImportFileError(message + SAVE_AS)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _sniff_xlsx(path)
    return _sniff_csv(path, head)


# --- CSV -----------------------------------------------------------------------------------------


def _utf16_without_bom(head: bytes) -> str:
    sample = head[:4000]
    if len(sample) < 4:
        return ""
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    if odd > half * 0.3 and even < half * 0.05:
        return "utf-16-le"
    if even > half * 0.3 and odd < half * 0.05:
        return "utf-16-be"
    return ""


def _detect_encoding(path: Path, head: bytes) -> tuple[str, int]:
    """The file's encoding and its number of line breaks (for the progress bar)."""
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = _utf16_without_bom(head)
    lines = 0
    if encoding.startswith("utf-16"):
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                lines += chunk.count(b"\n\x00") + chunk.count(b"\x00\n")
        return encoding, lines
    # One pass: is it valid UTF-8 all the way through? Otherwise Windows-1252 (a superset of
    # Latin-1's letters), or Latin-1 itself for the few bytes 1252 leaves undefined.
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok, cp1252_ok = True, True
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            lines += chunk.count(b"\n")
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if not utf8_ok and cp1252_ok:
                try:
                    chunk.decode("cp1252")
                except UnicodeDecodeError:
                    cp1252_ok = False
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return encoding or "utf-8", lines
    return ("cp1252" if cp1252_ok else "latin-1"), lines


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n")
    return "\x00" in text or controls > len(text) * 0.01


def _choose_delimiter(text: str) -> str:
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        rows = _records(text, delimiter, SNIFF_ROWS)
        widths = [len(r) for r in rows if any(c.strip() for c in r)]
        if not widths:
            continue
        width, often = Counter(widths).most_common(1)[0]
        score = (often if width > 1 else 0, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    rows = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    with contextlib.suppress(csv.Error):
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    return rows


def _sniff_csv(path: Path, head: bytes) -> FileInfo:
    encoding, lines = _detect_encoding(path, head)
    text = head.decode(encoding, errors="replace") if head else ""
    if len(head) == SNIFF_BYTES:
        text = text.rsplit("\n", 1)[0]  # a cut-off last line would look like a bad row
    if _looks_binary(text):
        raise ImportFileError(
            "This file isn't a CSV or Excel file (it holds binary data)." + SAVE_AS
        )
    if not text.strip(" \t\r\n\ufeff,;|"):
        raise ImportFileError("The file is empty.")
    delimiter = _choose_delimiter(text)
    rows = _records(text, delimiter, SNIFF_ROWS + SAMPLE_ROWS)
    info = _describe(rows, rows_estimate=max(lines, 1))
    info.kind, info.encoding, info.delimiter = "csv", encoding, delimiter
    return info


def iter_csv(path: Path, info: FileInfo) -> Iterator[tuple[int, list[str]]]:
    with path.open("r", encoding=info.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=info.delimiter)
        index = 0
        header_row = info.header_row
        try:
            for index, row in enumerate(reader):
                if index > header_row:
                    yield index + 1, row
        except csv.Error as error:
            raise ImportFileError(
                f"The file is not valid CSV near row {index + 2}: {error}."
            ) from None


# --- XLSX ----------------------------------------------------------------------------------------


def _check_zip(path: Path) -> int:
    """Refuse zip bombs and zips that are not workbooks; returns the first sheet's size."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            if "xl/workbook.xml" not in names:
                if "mimetype" in names and b"opendocument" in archive.read("mimetype"):
                    raise ImportFileError(
                        "This is an OpenDocument (.ods) spreadsheet."
                        + SAVE_AS.replace("CSV or Excel (.xlsx)", "Excel (.xlsx) or CSV")
                    )
                raise ImportFileError("This file isn't a CSV or Excel (.xlsx) file." + SAVE_AS)
    except zipfile.BadZipFile as error:
        raise ImportFileError("This Excel file is damaged and can't be opened.") from error
    if len(entries) > MAX_ZIP_ENTRIES:
        raise ImportFileError("This Excel file has too many parts to be a client list.")
    unpacked = sum(entry.file_size for entry in entries)
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > 1024 * 1024 and ratio > MAX_RATIO:
            raise ImportFileError(
                "This Excel file unpacks to far more data than it holds (it may be a 'zip bomb'). "
                "It was not opened."
            )
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            "This Excel file unpacks to more than 1.5 GB. Split it into smaller files."
        )
    sheets = [e.file_size for e in entries if e.filename.startswith("xl/worksheets/sheet")]
    return max(sheets, default=0)


def _sniff_xlsx(path: Path) -> FileInfo:
    sheet_bytes = _check_zip(path)
    rows, name, height = _xlsx_head(path, sheet_bytes)
    if not any(any(cell_text(c).strip() for c in row) for row in rows):
        raise ImportFileError("The spreadsheet is empty.")
    info = _describe(rows, rows_estimate=height)
    info.kind, info.sheet_name = "xlsx", name
    return info


def _xlsx_head(path: Path, sheet_bytes: int) -> tuple[list[list[Any]], str, int]:
    if sheet_bytes > CALAMINE_MAX_SHEET_BYTES:
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = [
                list(r)
                for _, r in zip(
                    range(SNIFF_ROWS + SAMPLE_ROWS), sheet.iter_rows(values_only=True), strict=False
                )
            ]
            return rows, sheet.title, sheet.max_row or len(rows)
        finally:
            workbook.close()
    from itertools import islice

    from python_calamine import CalamineWorkbook

    try:
        with CalamineWorkbook.from_path(str(path)) as workbook:
            for name in workbook.sheet_names:
                sheet = workbook.get_sheet_by_name(name)
                if sheet.height:
                    # iter_rows here and in iter_xlsx: both number rows and columns alike.
                    rows = list(islice(sheet.iter_rows(), SNIFF_ROWS + SAMPLE_ROWS))
                    return rows, name, sheet.total_height
            return [], "", 0
    except Exception as error:  # calamine raises its own types for broken files
        raise ImportFileError("This Excel file is damaged and can't be opened.") from error


def iter_xlsx(path: Path, info: FileInfo) -> Iterator[tuple[int, list[Any]]]:
    if path.stat().st_size and _sheet_bytes(path) > CALAMINE_MAX_SHEET_BYTES:
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook[info.sheet_name] if info.sheet_name else workbook.worksheets[0]
            for index, row in enumerate(sheet.iter_rows(values_only=True)):
                if index > info.header_row:
                    yield index + 1, list(row)
        finally:
            workbook.close()
        return
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(str(path)) as workbook:
        sheet = workbook.get_sheet_by_name(info.sheet_name)
        for index, row in enumerate(sheet.iter_rows()):
            if index > info.header_row:
                yield index + 1, row


def _sheet_bytes(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        sizes = [
            e.file_size for e in archive.infolist() if e.filename.startswith("xl/worksheets/sheet")
        ]
    return max(sizes, default=0)


# --- A sheet's cells, saved once -----------------------------------------------------------------
# Gzipped JSON lines: a header line, then one line per row below the sheet's header row,
# [row number, cell, ...], each cell as the reader gave it. JSON has no dates or times: those
# are written as one-key objects (a cell is never a dict otherwise).

CELLS_FORMAT = {"glamiti_cells": 1}
_CELL_TYPES = (
    ("dt", datetime.datetime, datetime.datetime.fromisoformat),
    ("d", datetime.date, datetime.date.fromisoformat),
    ("t", datetime.time, datetime.time.fromisoformat),
)
_CELL_PARSERS = {tag: parse for tag, _, parse in _CELL_TYPES}


def _cell_json(value: Any) -> dict:
    for tag, kind, _ in _CELL_TYPES:  # datetime before date: it is one
        if isinstance(value, kind):
            return {tag: value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"s": [value.days, value.seconds, value.microseconds]}
    raise TypeError(f"A spreadsheet cell of type {type(value).__name__} can't be saved.")


def _cell_value(tagged: dict) -> Any:
    ((tag, value),) = tagged.items()
    if tag == "s":
        return datetime.timedelta(days=value[0], seconds=value[1], microseconds=value[2])
    return _CELL_PARSERS[tag](value)


def write_cells(rows: Iterable[tuple[int, list[Any]]], handle: Any) -> None:
    """Save (number, cells) rows into the binary file `handle`."""
    encode = json.JSONEncoder(
        default=_cell_json, ensure_ascii=False, check_circular=False, separators=(",", ":")
    ).encode
    with gzip.GzipFile(fileobj=handle, mode="wb", compresslevel=1) as packed:
        out = io.TextIOWrapper(packed, encoding="utf-8", newline="\n")
        out.write(json.dumps(CELLS_FORMAT) + "\n")
        for number, cells in rows:
            out.write(encode([number, *cells]))
            out.write("\n")
        out.flush()
        out.detach()


def cells_readable(handle: Any) -> bool:
    """Whether the binary file `handle` holds cells saved in this format."""
    try:
        with gzip.GzipFile(fileobj=handle, mode="rb") as packed:
            return json.loads(packed.readline()) == CELLS_FORMAT
    except (OSError, EOFError, ValueError):
        return False


def read_cells(handle: Any) -> Iterator[tuple[int, list[Any]]]:
    """The (number, cells) rows `write_cells` saved into the binary file `handle`."""
    with gzip.GzipFile(fileobj=handle, mode="rb") as packed:
        lines = io.TextIOWrapper(packed, encoding="utf-8", newline="\n")
        if json.loads(lines.readline()) != CELLS_FORMAT:
            raise ImportFileError("The saved copy of the sheet is unreadable.")
        loads = json.loads
        for line in lines:
            number, *cells = loads(line)
            if "{" in line:
                cells = [_cell_value(c) if c.__class__ is dict else c for c in cells]
            yield number, cells


# --- Header row ----------------------------------------------------------------------------------


def _is_texty(cell: Any) -> bool:
    text = cell_text(cell).strip()
    return bool(text) and any(ch.isalpha() for ch in text) and "@" not in text


def _name_like(cell: Any) -> bool:
    text = cell_text(cell).strip()
    letters = sum(ch.isalpha() for ch in text)
    if letters < 2 or "@" in text or "://" in text:
        return False
    word = fold(text).strip(" .")
    return word not in YES and word not in NO and word not in GENDERS and letters * 2 > len(text)


def _name_columns(headers: list[str], rows: list[list[Any]]) -> list[int]:
    """Columns that could hold names: named so, or holding words (not numbers, e-mails,
    yes/no or genders)."""
    found = []
    for index, header in enumerate(headers):
        if field_for_header(header) in NAME_KEYS:
            found.append(index)
            continue
        values = [row[index] for row in rows if index < len(row) and cell_text(row[index]).strip()]
        if values and sum(_name_like(v) for v in values) * 2 >= len(values):
            found.append(index)
    return found


def find_header(rows: list[list[Any]]) -> int:
    """The header row: the one naming the most known columns; titles above it are skipped."""
    best, best_score = -1, 0
    for index, row in enumerate(rows[:SNIFF_ROWS]):
        score = recognised_count([cell_text(c) for c in row])
        if score > best_score:
            best, best_score = index, score
    if best >= 0:
        return best
    # Nothing recognised: the first row of text as wide as most rows are.
    widths = [sum(1 for c in row if cell_text(c).strip()) for row in rows]
    wide = max(widths, default=0)
    for index, row in enumerate(rows):
        if (
            widths[index]
            and widths[index] >= max(1, wide // 2)
            and all(_is_texty(c) for c in row if cell_text(c).strip())
        ):
            return index
    return 0


def _describe(rows: list[list[Any]], rows_estimate: int) -> FileInfo:
    header_row = find_header(rows)
    headers = [cell_text(c).strip() for c in rows[header_row]] if rows else []
    while headers and not headers[-1]:
        headers.pop()
    headers = [h or f"Column {i + 1}" for i, h in enumerate(headers)]
    data = [r for r in rows[header_row + 1 :] if any(cell_text(c).strip() for c in r)]
    if not headers:
        raise ImportFileError("The file is empty.")
    if not data:
        raise ImportFileError(
            "The file has a header row but no clients under it. Check that you exported the "
            "whole list."
        )
    if not _name_columns(headers, data[:SAMPLE_ROWS]):
        raise ImportFileError(
            "No column in this file can be a client's name. Check that it is your client list, "
            "with a column of names."
        )
    samples = [[cell_text(c).strip() for c in row] for row in data[:SAMPLE_ROWS]]
    estimate = max(rows_estimate - header_row - 1, len(data))
    if estimate > MAX_ROWS:
        raise ImportFileError(
            f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
        )
    return FileInfo(kind="", headers=headers, header_row=header_row, samples=samples,
                    rows_estimate=estimate)  # fmt: skip


# --- Stored files --------------------------------------------------------------------------------


@contextlib.contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A stored file as a local path: itself on local storage, a temporary copy otherwise."""
    try:
        local = default_storage.path(name)
    except NotImplementedError:
        local = ""
    if local:
        yield Path(local)
        return
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as temporary:
        with default_storage.open(name, "rb") as source:
            shutil.copyfileobj(source, temporary, CHUNK)
        temporary.flush()
        yield Path(temporary.name)


def iter_rows(path: Path, info: FileInfo) -> Iterator[tuple[int, list[Any]]]:
    """(row number as the spreadsheet shows it, cells) for every row below the header."""
    return iter_csv(path, info) if info.kind == "csv" else iter_xlsx(path, info)
