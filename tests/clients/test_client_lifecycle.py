import pytest
from django.urls import reverse

from clients.models import Client
from tests.factories import ClientFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_obj(world):
    with all_tenants():
        return ClientFactory(business=world.business, first_name="Ava", last_name="Moss")


def url(world, name, client_obj=None) -> str:
    kwargs = {"business": world.business.slug}
    if client_obj is not None:
        kwargs["pk"] = client_obj.pk
    return reverse(f"clients:{name}", kwargs=kwargs)


def test_archive_hides_from_list_and_restore_brings_back(as_staff, world, client_obj):
    assert as_staff.post(url(world, "archive", client_obj)).status_code == 302

    def listed(query: str = "") -> list[int]:
        response = as_staff.get(url(world, "list") + query)
        return [c.pk for c in response.context["page"].object_list]

    assert client_obj.pk not in listed()
    assert client_obj.pk in listed("?archived=1")
    assert b"Archived" in as_staff.get(url(world, "detail", client_obj)).content
    assert as_staff.post(url(world, "restore", client_obj)).status_code == 302
    assert client_obj.pk in listed()


def test_archive_needs_post(as_staff, world, client_obj):
    assert as_staff.get(url(world, "archive", client_obj)).status_code == 405


def test_owner_deletes_after_confirming(as_owner, world, client_obj):
    page = as_owner.get(url(world, "delete", client_obj))
    assert b"cannot be undone" in page.content
    wrong = as_owner.post(url(world, "delete", client_obj), {"confirm_name": "nope"})
    assert wrong.status_code == 200 and b"not the client number" in wrong.content
    done = as_owner.post(url(world, "delete", client_obj), {"confirm_name": str(client_obj.pk)})
    assert done.status_code == 302
    with all_tenants():
        assert not Client.objects.filter(pk=client_obj.pk).exists()


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_only_owners_delete(world, client_obj, role, as_manager, as_staff):
    http = {"manager": as_manager, "staff": as_staff}[role]
    assert http.get(url(world, "delete", client_obj)).status_code == 403
    response = http.post(url(world, "delete", client_obj), {"confirm_name": str(client_obj.pk)})
    assert response.status_code == 403
    with all_tenants():
        assert Client.objects.filter(pk=client_obj.pk).exists()


@pytest.mark.parametrize("name", ["export", "import", "lists", "duplicates"])
def test_staff_cannot_export_import_or_merge(as_staff, world, name):
    assert as_staff.get(url(world, name)).status_code == 403


@pytest.mark.parametrize(
    ("name", "method", "with_pk"),
    [
        ("list", "get", False),
        ("create", "get", False),
        ("create", "post", False),
        ("picker", "get", False),
        ("export", "get", False),
        ("import", "get", False),
        ("lists", "get", False),
        ("detail", "get", True),
        ("edit", "get", True),
        ("edit", "post", True),
        ("archive", "post", True),
        ("restore", "post", True),
        ("delete", "get", True),
        ("delete", "post", True),
        ("photo", "get", True),
    ],
)
def test_outsider_gets_404_on_every_client_url(
    as_outsider, world, client_obj, name, method, with_pk
):
    target = url(world, name, client_obj if with_pk else None)
    assert getattr(as_outsider, method)(target).status_code == 404


def test_a_client_of_another_business_is_404_through_our_url(as_owner, world):
    with all_tenants():
        theirs = ClientFactory(business=world.other_business)
    for name in ["detail", "edit", "delete", "photo"]:
        target = reverse(
            f"clients:{name}", kwargs={"business": world.business.slug, "pk": theirs.pk}
        )
        assert as_owner.get(target).status_code == 404
    target = reverse("clients:archive", kwargs={"business": world.business.slug, "pk": theirs.pk})
    assert as_owner.post(target).status_code == 404


def test_export_is_csv_with_formulas_neutralised(as_manager, world):
    with all_tenants():
        ClientFactory(business=world.business, first_name="=HYPERLINK(1)", last_name="Evil")
        ClientFactory(business=world.business, first_name="Zoë", mobile_phone="+447911123456")
        ClientFactory(business=world.other_business, first_name="Foreign")
    response = as_manager.get(url(world, "export"))
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert "'=HYPERLINK(1)" in body
    assert "Zoë" in body and "+44 7911 123456" in body
    assert "Foreign" not in body
    assert body.count("\n") == 3  # header + two clients
