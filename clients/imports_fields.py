"""The one definition of the client fields that files carry, shared by the import pipeline
(clients/imports.py), the export (clients/export.py) and the admin's django-import-export
resource (clients/resources.py).

Each field has the label our own export writes (so an export maps back by itself) and the
header names other software uses for it, in several languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clients.normalize import fold

NON_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ImportField:
    key: str
    label: str
    kind: str  # how a cell is read: see clients/imports.py, NORMALISERS
    aliases: tuple[str, ...] = ()
    max_length: int = 0
    # When several columns map to this field: the first non-empty value, or all of them.
    combine: str = "first"  # "first" | "join" | "lines"
    group: str = "Contact"
    help: str = ""

    @property
    def repeatable(self) -> bool:
        """Whether several columns may map to this field (phones: the first non-empty)."""
        return self.combine != "first" or self.key == "other_phone"


FIELDS: tuple[ImportField, ...] = (
    ImportField(
        "first_name", "First name", "name", max_length=80, group="Name",
        aliases=("first name", "firstname", "first", "given name", "forename", "fname",
                 "nombre", "prenom", "vorname", "nome", "voornaam", "imie", "primeiro nome",
                 "nombre de pila", "first names"),
    ),
    ImportField(
        "last_name", "Last name", "name", max_length=80, group="Name",
        aliases=("last name", "lastname", "last", "surname", "family name", "lname",
                 "apellido", "apellidos", "nom de famille", "nom", "nachname", "familienname",
                 "cognome", "sobrenome", "apelido", "ultimo nome", "achternaam", "nazwisko"),
    ),
    ImportField(
        "full_name", "Full name", "full_name", max_length=161, group="Name",
        help="Split into first and last name when those columns are empty.",
        aliases=("full name", "name", "client name", "customer name", "client", "customer",
                 "display name", "contact name", "contact", "nombre completo", "nom complet",
                 "vollstandiger name", "name des kunden", "nome completo", "volledige naam",
                 "naam", "imie i nazwisko", "nome do cliente", "kundenname",
                 "nombre del cliente", "nom du client", "nome cliente", "klantnaam"),
    ),
    ImportField(
        "email", "E-mail", "email", max_length=254,
        aliases=("email", "e mail", "email address", "e mail address", "mail", "correo",
                 "correo electronico", "adresse e mail", "adresse email", "courriel",
                 "e mail adresse", "indirizzo email", "indirizzo e mail", "endereco de e mail",
                 "endereco de email", "e mailadres", "emailadres", "adres e mail"),
    ),
    ImportField(
        "mobile_phone", "Mobile phone", "phone",
        aliases=("mobile", "mobile number", "mobile phone", "mobile phone number", "cell",
                 "cell phone", "cellphone", "cell number", "phone", "phone number",
                 "phone 1", "primary phone", "movil", "numero de movil",
                 "telefono movil", "numero movil", "celular", "portable",
                 "telephone portable", "numero de portable", "numero de mobile",
                 "numero de telephone portable", "handy", "handynummer", "mobilnummer",
                 "mobiltelefon", "mobilfunknummer", "cellulare", "numero di cellulare",
                 "numero di telefono cellulare", "telemovel", "numero de telemovel",
                 "numero de celular", "mobiel", "mobiel nummer", "mobiele nummer",
                 "telefoon mobiel", "telefon komorkowy", "numer telefonu komorkowego"),
    ),
    ImportField(
        "other_phone", "Other phone", "phone",
        aliases=("other phone", "telephone", "tel", "home phone", "work phone", "landline",
                 "phone 2", "secondary phone", "alternative phone", "business phone",
                 "telefono", "telephone fixe", "telefon", "telefonnummer", "festnetz",
                 "telefono fisso", "telefone", "telefoon", "vaste telefoon", "telefon domowy"),
    ),
    ImportField(
        "birthday", "Birthday", "birthday", group="Personal",
        help="A full date, or a day and month.",
        aliases=("birthday", "date of birth", "dob", "birth date", "birthdate", "born",
                 "fecha de nacimiento", "cumpleanos", "date de naissance", "anniversaire",
                 "geburtsdatum", "geburtstag", "data di nascita", "compleanno",
                 "data de nascimento", "aniversario", "geboortedatum", "verjaardag",
                 "data urodzenia", "urodziny"),
    ),
    ImportField(
        "gender", "Gender", "gender", group="Personal",
        aliases=("gender", "sex", "genero", "sexo", "genre", "sexe", "geschlecht", "genere",
                 "sesso", "geslacht", "plec"),
    ),
    ImportField(
        "pronouns", "Pronouns", "text", max_length=30, group="Personal",
        aliases=("pronouns", "pronombres", "pronoms", "pronomen", "pronomi", "pronomes"),
    ),
    ImportField(
        "address_line1", "Address line 1", "place", max_length=120, group="Address",
        aliases=("address", "address 1", "address line 1", "street", "street address",
                 "street address 1", "street address line 1", "address1", "direccion",
                 "calle", "adresse", "strasse", "anschrift", "indirizzo", "via", "morada",
                 "endereco", "rua", "adres", "straat", "ulica"),
    ),
    ImportField(
        "address_line2", "Address line 2", "place", max_length=120, combine="join",
        group="Address",
        aliases=("address 2", "address line 2", "street address 2", "street address line 2",
                 "address2", "apartment", "apartment suite", "apt", "suite", "unit", "flat",
                 "area", "district", "neighbourhood", "neighborhood", "locality",
                 "apartamento", "piso", "zona", "barrio", "appartement",
                 "complement d adresse", "quartier", "adresszusatz", "wohnung", "bezirk",
                 "interno", "appartamento", "bairro", "complemento", "wijk",
                 "apartamento suite", "appartement suite", "wohnung suite",
                 "appartamento suite", "mieszkanie"),
    ),
    ImportField(
        "city", "City", "place", max_length=80, group="Address",
        aliases=("city", "town", "town city", "city town", "ciudad", "localidad", "ville",
                 "stadt", "ort", "citta", "cidade", "stad", "plaats", "woonplaats", "miasto",
                 "suburb", "municipio", "comune"),
    ),
    ImportField(
        "region", "County / state", "place", max_length=80, group="Address",
        aliases=("county", "state", "province", "region", "county state", "state province",
                 "provincia", "estado", "departement", "bundesland", "kanton", "regione",
                 "distrito", "provincie", "wojewodztwo", "state county"),
    ),
    ImportField(
        "postal_code", "Postal code", "postal_code", max_length=20, group="Address",
        aliases=("postcode", "post code", "postal code", "zip", "zip code", "zipcode",
                 "zip postal code", "postal zip code", "codigo postal", "cp", "code postal",
                 "postleitzahl", "plz", "cap", "codice postale", "kod pocztowy"),
    ),
    ImportField(
        "country", "Country", "country", group="Address",
        aliases=("country", "country code", "pais", "pays", "land", "paese", "nazione",
                 "kraj"),
    ),
    ImportField(
        "email_marketing", "Accepts e-mail marketing", "bool", group="Consent",
        aliases=("accepts marketing", "accepts email marketing", "email marketing",
                 "marketing", "email opt in", "email subscription status",
                 "email subscription", "newsletter", "marketing emails", "marketing opt in",
                 "email consent", "acepta marketing", "acepta marketing por correo",
                 "accepte le marketing", "accepte le marketing par e mail",
                 "akzeptiert marketing", "akzeptiert e mail marketing", "accetta marketing",
                 "accetta il marketing", "aceita marketing", "accepteert marketing",
                 "akceptuje marketing", "marketing por correo electronico"),
    ),
    ImportField(
        "sms_marketing", "Accepts SMS marketing", "bool", group="Consent",
        aliases=("accepts sms marketing", "sms marketing", "sms opt in",
                 "sms subscription status", "text marketing", "text message marketing",
                 "sms consent", "acepta marketing por sms", "accepte le marketing par sms",
                 "akzeptiert sms marketing", "accetta marketing via sms",
                 "accetta il marketing via sms", "aceita marketing por sms",
                 "accepteert sms marketing", "akceptuje marketing sms"),
    ),
    ImportField(
        "is_blocked", "Blocked", "bool", group="Other",
        aliases=("blocked", "block", "banned", "is blocked", "bloqueado", "bloque",
                 "gesperrt", "blockiert", "bloccato", "geblokkeerd", "zablokowany"),
    ),
    ImportField(
        "blocked_reason", "Block reason", "text", max_length=200, group="Other",
        aliases=("block reason", "blocked reason", "reason blocked", "motivo del bloqueo",
                 "motivo de bloqueo", "raison du blocage", "motif du blocage", "sperrgrund",
                 "grund der sperre", "grund fur die sperre", "motivo del blocco",
                 "motivo do bloqueio", "reden van blokkering", "reden blokkering",
                 "powod blokady"),
    ),
    ImportField(
        "alert", "Alert", "text", max_length=200, group="Other",
        help="Shown wherever the client appears, e.g. allergies.",
        aliases=("alert", "warning", "allergies", "allergy", "alerta", "alerte", "warnung",
                 "avviso", "allergie", "allergieen", "alergias"),
    ),
    ImportField(
        "referral_source", "Referral source", "referral", max_length=80, group="Other",
        aliases=("referral source", "referral", "referred by", "refered by", "referrer",
                 "source", "how did you hear about us", "lead source", "fuente de referencia",
                 "fuente de recomendacion", "origen", "source de recommandation",
                 "source de parrainage", "source de reference", "empfehlungsquelle",
                 "fonte di riferimento", "fonte di referral", "fonte de indicacao",
                 "fonte de referencia", "verwijzingsbron", "zrodlo polecenia"),
    ),
    ImportField(
        "tags", "Tags", "tags", group="Other", help="Several tags separated by commas.",
        aliases=("tags", "tag", "groups", "labels", "etiquetas", "etiquettes", "schlagworter",
                 "etichette", "labels"),
    ),
    ImportField(
        "external_id", "External ID", "text", max_length=64, group="Other",
        help="The client's id in the software you used before.",
        aliases=("external id", "client id", "customer id", "reference id", "id",
                 "client number", "customer number", "member id", "account number",
                 "id de cliente", "id cliente", "cliente id", "numero de cliente",
                 "identifiant client", "id client", "numero client", "kunden id",
                 "kundennummer", "kundennr", "codice cliente", "id do cliente", "klant id",
                 "klantnummer", "identyfikator klienta"),
    ),
    ImportField(
        "client_since", "Added", "datetime", group="Other",
        help="When the client joined (new clients only).",
        aliases=("added", "client since", "customer since", "created", "created at",
                 "date added", "creation date", "date created", "first visit", "member since",
                 "anadido", "fecha de alta", "fecha de creacion", "ajoute", "date d ajout",
                 "date de creation", "hinzugefugt", "erstellt", "aggiunto",
                 "data di creazione", "adicionado", "data de criacao", "toegevoegd",
                 "dodano"),
    ),
    ImportField(
        "archived", "Archived", "archived", group="Other",
        aliases=("archived", "archivado", "archive", "archiviert", "archiviato", "arquivado",
                 "gearchiveerd"),
    ),
    ImportField(
        "note", "Note", "note", combine="lines", group="Other",
        help="Added as a note on the client.",
        aliases=("note", "notes", "memo", "comments", "comment", "remarks", "nota", "notas",
                 "observaciones", "comentarios", "remarque", "remarques", "commentaire",
                 "notiz", "notizen", "bemerkung", "bemerkungen", "anmerkungen", "kommentar",
                 "commento", "note cliente", "observacoes", "opmerking", "opmerkingen",
                 "notitie", "notities", "notatka", "uwagi"),
    ),
    ImportField(
        "glamiti_id", "Glamiti ID", "glamiti_id", group="Other",
        help="Our own id: a re-imported export finds the same clients by it.",
        aliases=("glamiti id",),
    ),
)  # fmt: skip
FIELDS_BY_KEY = {field.key: field for field in FIELDS}
NAME_KEYS = ("first_name", "last_name", "full_name")
# Column headers that only mean a field in one vendor's export.
VENDOR_ALIASES = {
    "vagaro": {"day": "other_phone", "night": "other_phone", "mobile": "mobile_phone"},
}
VENDOR_NAMES = {"fresha": "Fresha", "square": "Square", "vagaro": "Vagaro", "glamiti": "Glamiti"}


def header_key(text: str) -> str:
    """'E-mail Address' and 'email_address' → 'emailaddress'; accents and case ignored."""
    return NON_ALNUM.sub("", fold(text))


ALIASES: dict[str, str] = {}
for _field in FIELDS:
    for _alias in (_field.label, *_field.aliases):
        ALIASES.setdefault(header_key(_alias), _field.key)


def detect_vendor(headers: list[str]) -> str:
    """Which software exported these headers, if we recognise it ('' otherwise)."""
    keys = {header_key(h) for h in headers}
    if "glamitiid" in keys:
        return "glamiti"
    if {"day", "night"} <= keys or "customersince" in keys and "referedby" in keys:
        return "vagaro"
    if "referenceid" in keys and ("emailsubscriptionstatus" in keys or "memo" in keys):
        return "square"
    fields = {ALIASES.get(k) for k in keys}
    fresha = {"external_id", "first_name", "last_name", "full_name", "is_blocked",
              "blocked_reason", "mobile_phone", "other_phone", "sms_marketing"}  # fmt: skip
    if len(fresha & fields) >= 8:
        return "fresha"
    return ""


def field_for_header(header: str, vendor: str = "") -> str:
    key = header_key(header)
    return VENDOR_ALIASES.get(vendor, {}).get(key) or ALIASES.get(key, "")


def propose_mapping(headers: list[str], vendor: str = "") -> list[str]:
    """A field key per column ('' = not imported); single-value fields are used once."""
    mapping: list[str] = []
    used: set[str] = set()
    for header in headers:
        key = field_for_header(header, vendor)
        if key and key in used and not FIELDS_BY_KEY[key].repeatable:
            # A second phone column becomes the other phone; other repeats are left out.
            key = "other_phone" if key == "mobile_phone" and "other_phone" not in used else ""
        mapping.append(key)
        if key:
            used.add(key)
    return mapping


def recognised_count(cells: list) -> int:
    return sum(1 for cell in cells if isinstance(cell, str) and header_key(cell) in ALIASES)
