"""The platform admin's import and export (django-import-export) use the same fields and
normalisation, and the business is chosen by the admin, never read from the file."""

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import DEFAULT_FORMATS

from clients.models import Client
from clients.resources import ClientResource
from tests.conftest import logged_in
from tests.factories import ClientFactory
from tests.factories_imports import csv_bytes
from tests.rls import all_tenants, platform_db_mark

HEADERS = ["Business", "Full Name", "Mobile Number", "Email", "Date of Birth", "Accepts Marketing"]


def dataset(world) -> tablib.Dataset:
    data = tablib.Dataset(headers=HEADERS)
    # The "Business" column names the other business: it must be ignored.
    data.append([world.other_business.pk, "JANE O'BRIEN", "'07911 123456", "Jane@Example.com",
                 "25/12/1990", "Sì"])  # fmt: skip
    data.append([world.other_business.slug, "", "", "nobody@example.com", "", ""])
    return data


def test_a_row_without_a_name_is_invalid_with_its_reason(world):
    with all_tenants():
        result = ClientResource(business=world.business).import_data(dataset(world), dry_run=True)
        assert result.has_validation_errors()
        (invalid,) = result.invalid_rows
        assert "No name" in str(invalid.error)


def test_the_resource_stamps_the_business_it_was_given(world):
    data = dataset(world)
    del data[1]
    with all_tenants():
        result = ClientResource(business=world.business).import_data(data, dry_run=False)
        assert result.totals["new"] == 1, [r.errors for r in result.rows]
        client = Client.objects.get()
        assert client.business == world.business
        assert (client.first_name, client.last_name) == ("Jane", "O'Brien")
        assert (client.email, client.mobile_phone) == ("jane@example.com", "+447911123456")
        assert (client.birth_day, client.birth_month, client.birth_year) == (25, 12, 1990)
        assert client.email_marketing and client.email_marketing_source == "import"
        assert client.search_text == "jane o'brien jane@example.com"
        assert not world.other_business.clients.exists()


def test_the_resource_refuses_to_import_without_a_business(world):
    with all_tenants():
        result = ClientResource().import_data(dataset(world), dry_run=False)
        assert result.has_errors() or result.has_validation_errors()
        assert not Client.objects.exists()


def test_a_glamiti_id_of_another_business_never_updates_its_client(world):
    with all_tenants():
        theirs = ClientFactory(business=world.other_business, first_name="Theirs")
        data = tablib.Dataset(headers=["Glamiti ID", "First name"])
        data.append([theirs.pk, "Hijacked"])
        ClientResource(business=world.business).import_data(data, dry_run=False)
        theirs.refresh_from_db()
        assert theirs.first_name == "Theirs"
        assert world.business.clients.get().first_name == "Hijacked"


def test_the_resource_exports_the_apps_columns(world):
    from clients import export

    with all_tenants():
        ClientFactory(business=world.business, first_name="=cmd", mobile_phone="+447911123456")
        data = ClientResource().export(Client.objects.all())
    assert list(data.headers) == export.HEADERS
    assert data[0][1] == "=cmd"  # tablib's XLSX writer stores it as text, not a formula


@pytest.fixture
def as_superuser(django_user_model):
    return logged_in(django_user_model.objects.create_superuser("root", "r@example.com", "pw-1x"))


@platform_db_mark()
def test_platform_admin_imports_into_a_chosen_business(as_superuser, world):
    csv_format = next(i for i, f in enumerate(DEFAULT_FORMATS) if f().get_title() == "csv")
    content = csv_bytes(HEADERS, [list(r) for r in dataset(world)][:1])
    url = reverse("admin:clients_client_import")
    assert as_superuser.get(url).status_code == 200
    response = as_superuser.post(url, {
        "resource": "0", "format": str(csv_format), "business": world.business.pk,
        "import_file": SimpleUploadedFile("clients.csv", content),
    })  # fmt: skip
    assert response.status_code == 200
    confirm = response.context["confirm_form"]
    assert confirm is not None, response.context["result"].invalid_rows
    response = as_superuser.post(reverse("admin:clients_client_process_import"), confirm.initial)
    assert response.status_code == 302
    with all_tenants():
        assert world.business.clients.get().first_name == "Jane"
        assert not world.other_business.clients.exists()
