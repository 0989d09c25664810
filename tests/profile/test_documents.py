"""Documents: checked by content, images cleaned, stored under our own name, and downloaded
only through a view that checks the business and the role."""

import io
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from clients.models import ClientDocument
from clients.notes import MAX_DOCUMENT_BYTES
from tests.factories import ClientFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def ava(world):
    with all_tenants():
        return ClientFactory(business=world.business, first_name="Ava", last_name="Moss")


def upload_url(world, client) -> str:
    return reverse(
        "profile:document-add", kwargs={"business": world.business.slug, "pk": client.pk}
    )


def document_url(slug, client, document, name="document") -> str:
    kwargs = {"business": slug, "pk": client.pk, "document_pk": document.pk}
    return reverse(f"profile:{name}", kwargs=kwargs)


def upload(http, world, client, name, data, *, kind="consent", title="", content_type=None):
    file = SimpleUploadedFile(name, data, content_type=content_type or "application/octet-stream")
    return http.post(
        upload_url(world, client), {"doc-kind": kind, "doc-title": title, "doc-file": file}
    )


def documents_of(client) -> list[ClientDocument]:
    with all_tenants():
        return list(ClientDocument.objects.filter(client=client).order_by("id"))


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (60, 40), "purple")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam Maker"  # Make
    exif[0x0131] = "LocationLeaker 1.0"  # Software
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-location 51.5N")
    out = io.BytesIO()
    Image.new("RGBA", (30, 30), (255, 0, 0, 128)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def heic() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, format="HEIF")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image: a decompression ("pixel") bomb."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def stored_bytes(document: ClientDocument) -> bytes:
    with default_storage.open(document.file.name, "rb") as handle:
        return handle.read()


def test_pdf_consent_form_is_stored_under_our_name_and_downloads_as_an_attachment(
    as_staff, world, ava
):
    response = upload(as_staff, world, ava, "Ava consent (signed).pdf", PDF, title="Consent 2026")
    assert response.status_code == 302
    [document] = documents_of(ava)
    assert document.content_type == "application/pdf" and document.size == len(PDF)
    assert document.original_name == "Ava consent (signed).pdf"
    assert document.uploaded_by == world.staff
    assert document.file.name.startswith(f"clients/{world.business.pk}/documents/")
    assert document.file.name.endswith(".pdf") and "consent" not in document.file.name.lower()
    assert stored_bytes(document) == PDF

    download = as_staff.get(document_url(world.business.slug, ava, document))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="consent-2026.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"]


def test_the_notes_tab_lists_the_document_with_a_download_link(as_staff, world, ava):
    upload(as_staff, world, ava, "waiver.pdf", PDF, kind="waiver")
    [document] = documents_of(ava)
    html = as_staff.get(
        reverse("profile:notes", kwargs={"business": world.business.slug, "pk": ava.pk})
    ).content.decode()
    assert document_url(world.business.slug, ava, document) in html
    assert "Medical waiver" in html and "waiver.pdf" in html


def test_files_are_not_reachable_by_their_storage_path(as_staff, world, ava):
    upload(as_staff, world, ava, "consent.pdf", PDF)
    [document] = documents_of(ava)
    assert as_staff.get("/" + document.file.name).status_code == 404
    assert as_staff.get("/media/" + document.file.name).status_code == 404


def test_jpeg_is_re_encoded_without_its_metadata(as_staff, world, ava):
    original = jpeg_with_exif()
    assert b"SecretCam" in original
    upload(as_staff, world, ava, "photo.jpeg", original, kind="photo")
    [document] = documents_of(ava)
    data = stored_bytes(document)
    assert document.content_type == "image/jpeg" and document.file.name.endswith(".jpg")
    assert b"SecretCam" not in data and b"LocationLeaker" not in data
    assert b"secret comment" not in data
    image = Image.open(io.BytesIO(data))
    assert image.size == (60, 40) and not image.getexif()


def test_png_is_re_encoded_without_its_text_chunks(as_staff, world, ava):
    upload(as_staff, world, ava, "scan.png", png_with_text())
    [document] = documents_of(ava)
    data = stored_bytes(document)
    assert document.content_type == "image/png"
    assert b"secret-location" not in data
    assert Image.open(io.BytesIO(data)).size == (30, 30)


def test_heic_photo_becomes_a_jpeg(as_staff, world, ava):
    upload(as_staff, world, ava, "IMG_0042.HEIC", heic(), kind="photo")
    [document] = documents_of(ava)
    assert document.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(stored_bytes(document))).format == "JPEG"
    download = as_staff.get(document_url(world.business.slug, ava, document))
    assert download["Content-Disposition"] == 'attachment; filename="img_0042.jpg"'


def refused(response) -> str:
    assert response.status_code in (200, 413)
    return response.content.decode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("consent.pdf", b"<!doctype html><html><script>alert(1)</script></html>"),
        ("photo.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("scan.png", b"just some text, not an image"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("page.html", b"<html><body>hi</body></html>"),
        ("form.pdf", b"   %PDF-1.4 hidden behind spaces"),
        ("archive.pdf", b"PK\x03\x04zip file"),
    ],
)
def test_wrong_content_is_refused_whatever_the_name(as_staff, world, ava, name, data):
    html = refused(upload(as_staff, world, ava, name, data, content_type="application/pdf"))
    assert "Only PDF, JPEG, PNG or HEIC files can be attached" in html
    assert documents_of(ava) == []


def test_a_damaged_image_is_refused(as_staff, world, ava):
    data = jpeg_with_exif()[:200]
    html = refused(upload(as_staff, world, ava, "photo.jpg", data))
    assert "could not be read" in html
    assert documents_of(ava) == []


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (8_000, 8_000)])
def test_a_pixel_bomb_is_refused(as_staff, world, ava, width, height):
    html = refused(upload(as_staff, world, ava, "bomb.png", png_claiming(width, height)))
    assert "too large to keep" in html
    assert documents_of(ava) == []


def test_a_file_over_10_mb_is_refused(as_staff, world, ava):
    data = b"%PDF-1.4\n" + b"0" * (MAX_DOCUMENT_BYTES - 8)
    response = upload(as_staff, world, ava, "big.pdf", data)
    assert response.status_code == 413
    assert "larger than 10 MB" in response.content.decode()
    assert documents_of(ava) == []


def test_a_much_larger_upload_is_refused_before_it_is_read(as_staff, world, ava):
    data = b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)
    response = upload(as_staff, world, ava, "huge.pdf", data)
    assert response.status_code == 413
    assert "larger than 10 MB" in response.content.decode()
    assert documents_of(ava) == []


def test_a_file_of_exactly_10_mb_is_accepted(as_staff, world, ava):
    data = b"%PDF-1.4\n" + b"0" * (MAX_DOCUMENT_BYTES - 9)
    assert len(data) == MAX_DOCUMENT_BYTES
    assert upload(as_staff, world, ava, "ok.pdf", data).status_code == 302
    assert documents_of(ava)[0].size == MAX_DOCUMENT_BYTES


def test_upload_needs_the_csrf_token(world, ava):
    from django.test import Client as HttpClient

    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(world.staff)
    response = upload(http, world, ava, "consent.pdf", PDF)
    assert response.status_code == 403
    assert documents_of(ava) == []


def test_download_through_another_business_is_404(as_staff, world, ava):
    upload(as_staff, world, ava, "consent.pdf", PDF)
    [document] = documents_of(ava)
    with all_tenants():
        from tests.factories import MembershipFactory

        theirs = ClientFactory(business=world.other_business)
    other_owner = world.other_owner
    from tests.conftest import logged_in

    http = logged_in(other_owner)
    assert http.get(document_url(world.business.slug, ava, document)).status_code == 404
    assert http.get(document_url(world.other_business.slug, ava, document)).status_code == 404
    # Their own client's URL with our document's id: not theirs either.
    assert http.get(document_url(world.other_business.slug, theirs, document)).status_code == 404
    # Even a member of both businesses can't reach it through the other business.
    with all_tenants():
        MembershipFactory(user=world.staff, business=world.other_business)
    assert as_staff.get(document_url(world.other_business.slug, ava, document)).status_code == 404


def test_download_through_another_client_of_the_same_business_is_404(as_staff, world, ava):
    upload(as_staff, world, ava, "consent.pdf", PDF)
    [document] = documents_of(ava)
    with all_tenants():
        other = ClientFactory(business=world.business)
    assert as_staff.get(document_url(world.business.slug, other, document)).status_code == 404


def test_outsider_gets_404_on_document_urls(as_staff, as_outsider, world, ava):
    upload(as_staff, world, ava, "consent.pdf", PDF)
    [document] = documents_of(ava)
    slug = world.business.slug
    assert as_outsider.get(document_url(slug, ava, document)).status_code == 404
    assert as_outsider.post(document_url(slug, ava, document, "document-delete")).status_code == 404
    assert upload(as_outsider, world, ava, "x.pdf", PDF).status_code == 404
    assert len(documents_of(ava)) == 1


def test_staff_without_the_right_cannot_delete_a_document(as_staff, world, ava):
    upload(as_staff, world, ava, "consent.pdf", PDF)
    [document] = documents_of(ava)
    response = as_staff.post(document_url(world.business.slug, ava, document, "document-delete"))
    assert response.status_code == 403
    assert len(documents_of(ava)) == 1
    html = as_staff.get(
        reverse("profile:notes", kwargs={"business": world.business.slug, "pk": ava.pk})
    ).content.decode()
    assert "document-delete" not in html and "/delete/" not in html.split("Documents")[1]


def test_manager_deletes_a_document_and_its_file(
    as_staff, as_manager, world, ava, django_capture_on_commit_callbacks
):
    upload(as_staff, world, ava, "consent.pdf", PDF)
    [document] = documents_of(ava)
    name = document.file.name
    assert default_storage.exists(name)
    url = document_url(world.business.slug, ava, document, "document-delete")
    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.post(url)
    assert response.status_code == 302
    assert documents_of(ava) == []
    assert not default_storage.exists(name)
    assert as_manager.get(document_url(world.business.slug, ava, document)).status_code == 404
