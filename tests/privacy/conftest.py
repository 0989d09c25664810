"""A client with something of every kind the business can hold about them, for the GDPR
export and erasure tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from appointments.models import AppointmentStatus
from clients.models import (
    Client,
    ClientDocument,
    ConsentChannel,
    ConsentRecord,
    ConsentSource,
    NoteKind,
)
from sales.models import Sale, TipAllocation
from tests.factories import ClientFactory, ClientTagFactory, TeamMemberFactory
from tests.factories_imports import PDF_BYTES
from tests.factories_profile import (
    make_appointment,
    make_feedback,
    make_note,
    make_sale,
    make_voucher,
)
from tests.rls import all_tenants
from vouchers.models import Voucher

JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@dataclass
class Rich:
    client: Client
    document: ClientDocument
    sale: Sale
    voucher: Voucher
    document_path: str
    photo_path: str


def url(name: str, client: Client) -> str:
    return reverse(f"clients:{name}", kwargs={"business": client.business.slug, "pk": client.pk})


def make_document(client: Client, *, title="Colour consent", name="consent form.pdf"):
    document = ClientDocument(
        business=client.business,
        client=client,
        title=title,
        original_name=name,
        content_type="application/pdf",
        size=len(PDF_BYTES),
    )
    document.file.save("upload.pdf", ContentFile(PDF_BYTES), save=True)
    return document


@pytest.fixture
def rich(world) -> Rich:
    """Maya Lopez: contact details, a photo, tags, notes, a document, consent records, a past
    and an upcoming appointment, a paid sale with a tip and feedback, and a voucher."""
    now = timezone.now()
    with all_tenants():
        business = world.business
        client = ClientFactory(
            business=business,
            first_name="Maya",
            last_name="Lopez",
            email="maya.lopez@example.com",
            mobile_phone="+447700900123",
            city="Leeds",
            postal_code="LS1 4AP",
            birth_day=14,
            birth_month=3,
            birth_year=1988,
            alert="Allergic to PPD",
            external_id="FRESHA-991",
            email_marketing=True,
            email_marketing_at=now,
            email_marketing_source=ConsentSource.FORM,
        )
        client.photo.save("photo.jpg", ContentFile(JPEG_BYTES), save=True)
        ClientTagFactory(client=client, tag__name="VIP")
        ConsentRecord.objects.create(
            business=business,
            client=client,
            channel=ConsentChannel.EMAIL,
            given=True,
            source=ConsentSource.FORM,
            wording="May we send you offers by e-mail?",
        )
        make_note(client, text="Prefers the window seat", pinned=True)
        make_note(client, text="Patch test before colour", kind=NoteKind.ALLERGY)
        document = make_document(client)
        member = TeamMemberFactory(business=business, name="Sam Taylor")
        past = make_appointment(client, member, now - datetime.timedelta(days=20))
        past.notes = "Mentioned her pregnancy"
        past.save(update_fields=["notes"])
        make_appointment(
            client, member, now + datetime.timedelta(days=7), status=AppointmentStatus.BOOKED
        )
        sale = make_sale(
            client,
            now - datetime.timedelta(days=20),
            services="60",
            tip="6",
            tips=[(member, "6")],
            appointment=past,
        )
        make_feedback(client, rating=5, comment="Maya says: loved it", sale=sale, member=member)
        voucher = make_voucher(
            business=business,
            code="MAYA-50",
            value="50",
            balance="20",
            purchaser=client,
            recipient=client,
        )
        Voucher.objects.filter(pk=voucher.pk).update(recipient_name="Maya Lopez")
        assert TipAllocation.objects.filter(sale=sale).count() == 1
        return Rich(
            client=client,
            document=document,
            sale=sale,
            voucher=voucher,
            document_path=document.file.name,
            photo_path=client.photo.name,
        )
