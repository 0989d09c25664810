import pytest
from django.urls import reverse

from clients.models import Client, ConsentSource, Tag
from glamiti.tenancy import tenant_context
from tests.factories import ClientFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def create_url(world) -> str:
    return reverse("clients:create", kwargs={"business": world.business.slug})


def valid(**overrides) -> dict:
    return {
        "first_name": "Amelia",
        "last_name": "Stone",
        "email": "",
        "mobile_phone": "",
    } | overrides


def only_client(world) -> Client:
    with tenant_context(world.business):
        return Client.objects.get()


def test_staff_adds_a_client_with_normalised_contact_details(as_staff, world):
    data = valid(email="  Amelia.Stone@Example.COM ", mobile_phone="07911 123456")
    data |= {"other_phone": "+353 85 123 4567", "birth_day": "29", "birth_month": "2"}
    response = as_staff.post(create_url(world), data)
    assert response.status_code == 302
    client = only_client(world)
    assert client.email == "amelia.stone@example.com"
    assert client.mobile_phone == "+447911123456"
    assert client.other_phone == "+353851234567"
    assert (client.birth_day, client.birth_month, client.birth_year) == (29, 2, None)
    assert client.created_by == world.staff
    assert response.url == client.get_absolute_url()
    page = as_staff.get(response.url).content.decode()
    assert "07911 123456" in page  # national format at home
    assert "+353 85 123 4567" in page  # international for a foreign number


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"first_name": "  "}, "first_name", "This field is required"),
        ({"email": "amelia@"}, "email", "Enter a valid email address"),
        ({"mobile_phone": "12"}, "mobile_phone", "phone number"),
        ({"mobile_phone": "call me maybe"}, "mobile_phone", "doesn&#x27;t look like a phone"),
        ({"birth_day": "12", "birth_month": "3", "birth_year": "2999"}, "birth_year", "future"),
        ({"birth_day": "31", "birth_month": "4"}, "birth_day", "doesn&#x27;t exist"),
        ({"birth_day": "29", "birth_month": "2", "birth_year": "2001"}, "birth_day", "exist"),
        ({"birth_day": "12"}, "birth_day", "both the day and the month"),
        ({"is_blocked": "on"}, "blocked_reason", "Say why"),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_kept(
    as_staff, world, overrides, field, message
):
    data = valid(last_name="Keepme") | overrides
    response = as_staff.post(create_url(world), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["form"].errors[field]
    assert b'value="Keepme"' in response.content  # nothing typed is lost
    with all_tenants():
        assert not Client.objects.exists()


def test_duplicate_email_or_phone_warns_before_saving(as_staff, world):
    with all_tenants():
        existing = ClientFactory(
            business=world.business, email="fam@example.com", mobile_phone="+447911123456"
        )
        ClientFactory(business=world.other_business, email="solo@example.com")
    response = as_staff.post(create_url(world), valid(mobile_phone="07911123456"))
    assert response.status_code == 200
    assert b"already exists" in response.content
    assert existing.get_absolute_url().encode() in response.content
    assert b"Save anyway" in response.content
    with all_tenants():
        assert Client.objects.filter(business=world.business).count() == 1

    saved = as_staff.post(
        create_url(world), valid(mobile_phone="07911123456", confirm_duplicate="1")
    )
    assert saved.status_code == 302
    # Another business's client with the same e-mail is none of our business.
    assert as_staff.post(create_url(world), valid(email="solo@example.com")).status_code == 302


def test_edit_does_not_warn_about_the_client_itself(as_staff, world):
    with all_tenants():
        client = ClientFactory(business=world.business, email="me@example.com")
    url = reverse("clients:edit", kwargs={"business": world.business.slug, "pk": client.pk})
    response = as_staff.post(url, valid(first_name="Renamed", email="me@example.com"))
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.first_name == "Renamed"


def test_consent_records_when_and_how(as_staff, world):
    as_staff.post(create_url(world), valid(email_marketing="on"))
    client = only_client(world)
    assert client.email_marketing and client.email_marketing_source == ConsentSource.FORM
    given_at = client.email_marketing_at
    assert given_at is not None and client.sms_marketing_at is None
    edit = reverse("clients:edit", kwargs={"business": world.business.slug, "pk": client.pk})
    as_staff.post(edit, valid(email_marketing="on"))
    client.refresh_from_db()
    assert client.email_marketing_at == given_at  # unchanged answer keeps its time
    as_staff.post(edit, valid())
    client.refresh_from_db()
    assert not client.email_marketing and client.email_marketing_at > given_at


def test_tags_existing_and_new(as_staff, world):
    with all_tenants():
        vip = Tag.objects.create(business=world.business, name="VIP")
        foreign = Tag.objects.create(business=world.other_business, name="Theirs")
    as_staff.post(create_url(world), valid(tags=[vip.pk], new_tags="Colour, vip , Balayage"))
    client = only_client(world)
    with tenant_context(world.business):
        assert sorted(t.name for t in client.tags.all()) == ["Balayage", "Colour", "VIP"]
        assert world.business.tags.count() == 3
    response = as_staff.post(create_url(world), valid(first_name="Other", tags=[foreign.pk]))
    assert response.status_code == 200
    assert response.context["form"].errors["tags"]


def test_photo_is_resized_and_stripped(as_staff, world):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    Image.new("RGB", (2000, 1000), "purple").save(buffer, format="JPEG", exif=exif)
    upload = SimpleUploadedFile("me.jpg", buffer.getvalue(), content_type="image/jpeg")
    assert as_staff.post(create_url(world), valid(photo=upload)).status_code == 302
    client = only_client(world)
    with Image.open(client.photo.open("rb")) as stored:
        assert stored.size == (512, 256)
        assert not stored.getexif()
    photo_url = reverse("clients:photo", kwargs={"business": world.business.slug, "pk": client.pk})
    response = as_staff.get(photo_url)
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_non_image_named_jpg_is_refused(as_staff, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("me.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    response = as_staff.post(create_url(world), valid(photo=fake))
    assert response.status_code == 200
    assert response.context["form"].errors["photo"]


def test_dialog_returns_the_saved_client_to_the_caller(as_staff, world):
    opened = as_staff.get(create_url(world) + "?dialog=1", headers={"HX-Request": "true"})
    assert opened.content.strip().startswith(b"<dialog")
    invalid = as_staff.post(
        create_url(world), valid(first_name="", dialog="1"), headers={"HX-Request": "true"}
    )
    assert invalid.content.strip().startswith(b"<form")
    assert b"This field is required" in invalid.content
    saved = as_staff.post(create_url(world), valid(dialog="1"), headers={"HX-Request": "true"})
    client = only_client(world)
    assert saved.status_code == 200
    assert f'"id": {client.pk}'.encode() in saved["HX-Trigger"].encode()
    assert "clientSaved" in saved["HX-Trigger"]
