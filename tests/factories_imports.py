"""Client files as other software exports them, made in memory for the import tests."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterable, Sequence

FRESHA_HEADERS = [
    "Client ID", "First Name", "Last Name", "Full Name", "Blocked", "Block Reason", "Gender",
    "Mobile Number", "Telephone", "Email", "Accepts Marketing", "Accepts SMS Marketing",
    "Address", "Apartment Suite", "Area", "City", "State", "Post Code", "Date of Birth",
    "Added", "Note", "Referral Source",
]  # fmt: skip
# The same export with Fresha set to Spanish, French and German.
FRESHA_HEADERS_ES = [
    "ID de cliente", "Nombre", "Apellido", "Nombre completo", "Bloqueado", "Motivo del bloqueo",
    "Género", "Número de móvil", "Teléfono", "Correo electrónico", "Acepta marketing",
    "Acepta marketing por SMS", "Dirección", "Apartamento/Suite", "Zona", "Ciudad",
    "Provincia", "Código postal", "Fecha de nacimiento", "Añadido", "Nota",
    "Fuente de referencia",
]  # fmt: skip
FRESHA_HEADERS_FR = [
    "ID client", "Prénom", "Nom", "Nom complet", "Bloqué", "Raison du blocage", "Genre",
    "Numéro de portable", "Téléphone", "E-mail", "Accepte le marketing",
    "Accepte le marketing par SMS", "Adresse", "Appartement/Suite", "Quartier", "Ville",
    "Région", "Code postal", "Date de naissance", "Ajouté", "Remarque",
    "Source de recommandation",
]  # fmt: skip
FRESHA_HEADERS_DE = [
    "Kunden-ID", "Vorname", "Nachname", "Vollständiger Name", "Gesperrt", "Sperrgrund",
    "Geschlecht", "Handynummer", "Telefon", "E-Mail", "Akzeptiert Marketing",
    "Akzeptiert SMS-Marketing", "Adresse", "Wohnung/Suite", "Bezirk", "Stadt", "Bundesland",
    "PLZ", "Geburtsdatum", "Hinzugefügt", "Notiz", "Empfehlungsquelle",
]  # fmt: skip
SQUARE_HEADERS = [
    "Reference ID", "First Name", "Last Name", "Email Address", "Phone Number", "Nickname",
    "Company Name", "Street Address 1", "Street Address 2", "City", "State", "Postal Code",
    "Birthday", "Memo", "Email Subscription Status", "Creation Source", "First Visit",
    "Last Visit", "Transaction Count", "Lifetime Spend",
]  # fmt: skip
VAGARO_HEADERS = [
    "First Name", "Last Name", "Email", "Mobile", "Day", "Night", "Address", "City", "State",
    "Zip", "Birthdate", "Gender", "Customer Since", "Last Visited", "Refered By", "Points",
]  # fmt: skip
SIMPLE_HEADERS = ["Name", "Phone", "E-mail", "Notes"]


def fresha_row(n: int, **overrides: str) -> list[str]:
    row = {
        "Client ID": str(1000 + n), "First Name": f"Anna{n}", "Last Name": "Smith",
        "Full Name": f"Anna{n} Smith", "Blocked": "No", "Block Reason": "", "Gender": "Female",
        "Mobile Number": f"07911 {100000 + n}", "Telephone": "", "Email": f"anna{n}@example.com",
        "Accepts Marketing": "Yes", "Accepts SMS Marketing": "No", "Address": "1 High St",
        "Apartment Suite": "", "Area": "", "City": "London", "State": "", "Post Code": "N1 9GU",
        "Date of Birth": "25/12/1990", "Added": "2020-01-02", "Note": "", "Referral Source": "",
    } | overrides  # fmt: skip
    return [row[h] for h in FRESHA_HEADERS]


def csv_bytes(
    headers: Sequence[str] | None,
    rows: Iterable[Sequence[object]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    title_rows: Sequence[str] = (),
    bom: bool = False,
) -> bytes:
    buffer = io.StringIO()
    for title in title_rows:
        buffer.write(title + "\r\n")
    writer = csv.writer(buffer, delimiter=delimiter)
    if headers is not None:
        writer.writerow(headers)
    for row in rows:
        writer.writerow(row)
    data = buffer.getvalue()
    if encoding == "utf-16":
        return data.encode("utf-16")  # with its BOM
    raw = data.encode(encoding)
    return (b"\xef\xbb\xbf" + raw) if bom else raw


def xlsx_bytes(
    headers: Sequence[str] | None,
    rows: Iterable[Sequence[object]],
    *,
    title_rows: Sequence[str] = (),
) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Clients"
    for title in title_rows:
        sheet.append([title])
    if headers is not None:
        sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bomb_xlsx(unpacked_mb: int = 50) -> bytes:
    """A file that looks like an XLSX but whose sheet unpacks to `unpacked_mb` of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            block = b"0" * (1024 * 1024)
            for _ in range(unpacked_mb):
                sheet.write(block)
    return buffer.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
# The start of a legacy Excel 97-2003 (.xls) file: an OLE2 compound document.
XLS_BYTES = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + b"\x09\x08\x10\x00" * 64
JUNK_BYTES = bytes(range(256)) * 40


def excel_serial(date: datetime.date) -> int:
    return (date - datetime.date(1899, 12, 30)).days
