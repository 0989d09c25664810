"""Import tests run their background jobs inline (django-tasks' ImmediateBackend), except
where a test starts a real worker process."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import ClientImport
from tests.rls import all_tenants

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _jobs_inline(settings):
    settings.TASKS = IMMEDIATE


def import_url(world, name: str, imp: ClientImport | None = None) -> str:
    kwargs = {"business": world.business.slug}
    if imp is not None:
        kwargs["pk"] = imp.pk
    return reverse(f"clients:{name}", kwargs=kwargs)


def upload(http: HttpClient, world, name: str, content: bytes):
    return http.post(
        import_url(world, "import"), {"file": SimpleUploadedFile(name, content)}, follow=False
    )


def latest_import(world) -> ClientImport:
    with all_tenants():
        return ClientImport.objects.filter(business=world.business).latest("id")


def mapping_post(
    imp: ClientImport, *, mode: str = "skip", keep: bool = False, changes: dict | None = None
) -> dict:
    """The mapping form as the page submits it, with the proposed mapping and `changes`
    ({column index: field key})."""
    data = {f"column_{i}": key for i, key in enumerate(imp.mapping)}
    data.update({f"column_{i}": key for i, key in (changes or {}).items()})
    data["duplicate_mode"] = mode
    if keep:
        data["keep_unmapped"] = "on"
    return data


def run_import(http: HttpClient, world, name: str, content: bytes, *, mode: str = "skip",
               keep: bool = False, confirm: bool = True) -> ClientImport:  # fmt: skip
    """Upload, map (as proposed), check and (if `confirm`) import a file; returns the import."""
    response = upload(http, world, name, content)
    assert response.status_code == 302, response.content.decode()[:2000]
    imp = latest_import(world)
    response = http.post(
        import_url(world, "import-map", imp), mapping_post(imp, mode=mode, keep=keep)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    if confirm:
        response = http.post(import_url(world, "import-confirm", imp))
        assert response.status_code == 302
    imp.refresh_from_db()
    return imp
