"""Owners and managers only; another business's imports are not found."""

import pytest
from django.urls import reverse

from tests.factories_imports import csv_bytes
from tests.imports.conftest import latest_import, run_import, upload
from tests.rls import all_tenants

CONTENT = csv_bytes(["Name", "Email"], [["Jo Bloggs", "jo@example.com"], ["Al", "al@example.com"]])
WITH_PK = [
    ("import-detail", "get"), ("import-map", "get"), ("import-map", "post"),
    ("import-preview", "get"), ("import-preview", "post"), ("import-confirm", "post"),
    ("import-progress", "get"), ("import-result", "get"), ("import-rejected", "get"),
    ("import-undo", "post"), ("import-discard", "post"),
]  # fmt: skip


def url(business, name: str, pk: int | None = None) -> str:
    kwargs = {"business": business.slug} | ({"pk": pk} if pk else {})
    return reverse(f"clients:{name}", kwargs=kwargs)


@pytest.fixture
def done_import(as_owner, world):
    return run_import(as_owner, world, "f.csv", CONTENT)


@pytest.mark.parametrize(("name", "method"), [("import", "get"), ("import", "post"),
                                              ("export", "get"), *WITH_PK])  # fmt: skip
def test_staff_cannot_import_or_export(as_staff, world, done_import, name, method):
    target = url(world.business, name, done_import.pk if name.startswith("import-") else None)
    assert getattr(as_staff, method)(target).status_code == 403


def test_staff_cannot_export_xlsx(as_staff, world):
    assert as_staff.get(url(world.business, "export") + "?format=xlsx").status_code == 403


@pytest.mark.parametrize(("name", "method"), [("import", "get"), ("export", "get"), *WITH_PK])
def test_outsiders_get_404(as_outsider, world, done_import, name, method):
    target = url(world.business, name, done_import.pk if name.startswith("import-") else None)
    assert getattr(as_outsider, method)(target).status_code == 404


@pytest.mark.parametrize(("name", "method"), WITH_PK)
def test_another_business_import_is_404_through_our_url(as_owner, world, name, method):
    with all_tenants():
        world.other_business.country = "GB"
    from django.test import Client as HttpClient

    theirs = HttpClient()
    theirs.force_login(world.other_owner)
    theirs.post(url(world.other_business, "import"), {"file": _file()})
    with all_tenants():
        their_import = world.other_business.clientimports.get()
    target = url(world.business, name, their_import.pk)
    assert getattr(as_owner, method)(target).status_code == 404


def _file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("theirs.csv", CONTENT)


def test_managers_can_import(as_manager, world):
    assert upload(as_manager, world, "f.csv", CONTENT).status_code == 302
    assert latest_import(world).created_by == world.manager


def test_the_history_shows_only_this_business(as_owner, world, done_import):
    from django.test import Client as HttpClient

    theirs = HttpClient()
    theirs.force_login(world.other_owner)
    theirs.post(url(world.other_business, "import"), {"file": _file()})
    body = as_owner.get(url(world.business, "import")).content.decode()
    assert "f.csv" in body and "theirs.csv" not in body
