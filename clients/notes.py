"""Client notes and documents: the writes, and the checks a document passes before it is kept.

A document is judged by its content, never by its name or the browser's content type: the
first bytes must be those of a PDF, JPEG, PNG or HEIC file. Images are decoded and encoded
again, which drops their metadata (GPS position, camera, comments) and anything hidden after
the image data; HEIC photos become JPEGs, which every browser can show. PDFs are kept as
they are: they are only ever served as downloads (`Content-Disposition: attachment`, with
`nosniff`), never shown inline by us.
"""

from __future__ import annotations

import io
import logging
import uuid
import warnings
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import transaction
from django.utils.text import slugify
from PIL import Image, ImageOps, UnidentifiedImageError

from clients.models import Client, ClientDocument, ClientNote

if TYPE_CHECKING:
    from glamiti.models import User

try:  # HEIC is what iPhones take photos in; without the decoder such photos are refused.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - the dependency is in pyproject.toml
    HEIC_SUPPORTED = False

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Room for the other form fields around the file in a multipart body.
MAX_UPLOAD_BODY_BYTES = MAX_DOCUMENT_BYTES + 64 * 1024
# A 48-megapixel phone photo passes; a small file claiming a gigapixel does not (a "pixel
# bomb" would take gigabytes of memory to decode).
MAX_IMAGE_PIXELS = 60_000_000
JPEG_QUALITY = 90

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
HEIC = "image/heic"
ACCEPTED_LABEL = "PDF, JPEG, PNG or HEIC"
# ISO-BMFF brands of HEIF images (as written by phones and cameras).
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1"}


class DocumentRejected(ValueError):
    """An upload we will not keep; the message says why, for the person uploading it."""


class DocumentNotStored(RuntimeError):
    """The file store did not take the document (down, unreachable or too slow): nothing was
    kept. The message is for the person uploading it."""


NOT_STORED = (
    "The document could not be saved: the file storage is unavailable right now. Nothing "
    "was attached; please try again in a few minutes."
)


@dataclass(frozen=True)
class PreparedDocument:
    """An accepted upload, cleaned: the bytes to store and what they are."""

    content: bytes
    content_type: str
    original_name: str


def sniff(head: bytes) -> str | None:
    """The content type that the first bytes of a file show, among those we accept."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return HEIC
    return None


def _too_large_message() -> str:
    return (
        f"This file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; upload a smaller one."
    )


def _reencode(data: bytes, content_type: str) -> tuple[bytes, str]:
    """Decode the image and encode its pixels again, without any metadata."""
    if content_type == HEIC and not HEIC_SUPPORTED:
        raise DocumentRejected("HEIC photos can't be read here; upload a JPEG or PNG instead.")
    expected = {JPEG: "JPEG", PNG: "PNG", HEIC: "HEIF"}[content_type]
    with warnings.catch_warnings():
        # Pillow warns about, then refuses, very large images; either way: not here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format != expected:
                raise DocumentRejected(f"This file is not a valid {ACCEPTED_LABEL} file.")
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise DocumentRejected(
                    f"This image is {width:,} × {height:,} pixels, too large to keep; "
                    "upload a smaller one."
                )
            image.load()
        except DocumentRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise DocumentRejected(
                "This image is too large to keep; upload a smaller one."
            ) from error
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise DocumentRejected(
                "This image could not be read; it may be damaged. Try exporting it again."
            ) from error
    if content_type != HEIC:
        # Phones record the camera's orientation in EXIF, which is about to be dropped.
        image = ImageOps.exif_transpose(image)
    out = io.BytesIO()
    if content_type == PNG:
        clean = image.copy()
        clean.info = {}
        clean.save(out, format="PNG", optimize=False)
        return out.getvalue(), PNG
    if image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    clean = image.copy()
    clean.info = {}
    clean.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), JPEG


def prepare_document(upload: UploadedFile) -> PreparedDocument:
    """Check `upload` by its content and clean it; raises DocumentRejected with the reason."""
    if upload.size is not None and upload.size > MAX_DOCUMENT_BYTES:
        raise DocumentRejected(_too_large_message())
    upload.seek(0)
    data = upload.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentRejected(_too_large_message())
    if not data:
        raise DocumentRejected("This file is empty.")
    content_type = sniff(data[:16])
    if content_type is None:
        raise DocumentRejected(
            f"Only {ACCEPTED_LABEL} files can be attached. This file is something else, "
            "whatever its name says."
        )
    if content_type != PDF:
        data, content_type = _reencode(data, content_type)
    name = PurePath((upload.name or "document").replace("\\", "/")).name[:255] or "document"
    return PreparedDocument(content=data, content_type=content_type, original_name=name)


class DocumentSizeLimitHandler(FileUploadHandler):
    """Stops storing an uploaded file as soon as it passes the limit (rest of it discarded),
    so an oversized upload never fills memory or the temporary folder."""

    def __init__(self, request=None, limit: int = MAX_DOCUMENT_BYTES) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.too_large = False

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def download_name(document: ClientDocument) -> str:
    """A safe file name for the download: the title or original name, in plain characters,
    with the extension of what the file really is."""
    stem = slugify(document.title or PurePath(document.original_name).stem)[:80] or "document"
    return f"{stem}{document.extension}"


# --- Services ----------------------------------------------------------------------------


@transaction.atomic
def note_create(*, client: Client, kind: str, text: str, by: User | None) -> ClientNote:
    """Add a note to `client`; allergy notes show in the profile's alert banner."""
    return ClientNote.objects.create(
        business_id=client.business_id,
        client=client,
        kind=kind,
        text=text.strip(),
        created_by=by,
        updated_by=by,
    )


@transaction.atomic
def note_update(*, note: ClientNote, kind: str, text: str, by: User | None) -> ClientNote:
    """Change a note's kind and text, recording who changed it last."""
    note.kind = kind
    note.text = text.strip()
    note.updated_by = by
    note.save(update_fields=["kind", "text", "updated_by", "updated_at"])
    return note


@transaction.atomic
def note_pin(*, note: ClientNote, pinned: bool, by: User | None) -> ClientNote:
    """Pin a note to the top of the list and the overview (or unpin it)."""
    note.is_pinned = pinned
    note.updated_by = by
    note.save(update_fields=["is_pinned", "updated_by", "updated_at"])
    return note


@transaction.atomic
def note_delete(*, note: ClientNote) -> None:
    """Delete a note for good."""
    note.delete()


def document_upload(
    *, client: Client, prepared: PreparedDocument, kind: str, title: str, by: User | None
) -> ClientDocument:
    """Store a checked document under a server-made name and record it.

    The file is written first; if the row then can't be saved, the file is removed again,
    so neither is left without the other. Raises DocumentNotStored (and records nothing) if
    the file store fails: the storage's timeouts (settings.py) keep that to seconds.
    """
    document = ClientDocument(
        business_id=client.business_id,
        client=client,
        kind=kind,
        title=title.strip()[:120],
        original_name=prepared.original_name,
        content_type=prepared.content_type,
        size=len(prepared.content),
        uploaded_by=by,
    )
    # The storage name comes from client_document_path (a random name); this one is unused.
    try:
        document.file.save(
            f"{uuid.uuid4().hex}{document.extension}", ContentFile(prepared.content), save=False
        )
    except Exception as error:  # each storage backend has its own errors (botocore's for S3)
        logger.exception("Could not store a document of client %s", client.pk)
        raise DocumentNotStored(NOT_STORED) from error
    try:
        with transaction.atomic():
            document.save()
    except Exception:
        document.file.delete(save=False)
        raise
    return document


@transaction.atomic
def document_delete(*, document: ClientDocument) -> None:
    """Delete a document's record and, once that is committed, its file."""
    storage, name = document.file.storage, document.file.name
    document.delete()

    def remove_file() -> None:
        try:
            storage.delete(name)
        except Exception:  # the row is gone; a stray file (store down?) is logged, not shown
            logger.warning("Could not delete document file %s", name, exc_info=True)

    transaction.on_commit(remove_file)
