"""Background jobs (django-tasks; run by `manage.py db_worker`).

A task receives only an id: it looks up which business the import belongs to, then does
everything inside that business's tenant scope, as a request would.
"""

from __future__ import annotations

from django_scopes import scopes_disabled
from django_tasks import task

from clients import imports
from clients.models import ClientImport
from glamiti.tenancy import tenant_context


def _in_tenant(import_id: int, job) -> None:
    with scopes_disabled():
        found = ClientImport.objects.select_related("business").filter(pk=import_id).first()
    if found is None:
        return  # discarded since it was queued
    with tenant_context(found.business) as business:
        job(business.clientimports.get(pk=import_id))


@task()
def analyse_client_import(import_id: int) -> None:
    """Check every row of an uploaded file for the preview (writes no client)."""
    _in_tenant(import_id, imports.import_analyse)


@task()
def run_client_import(import_id: int) -> None:
    """Import the file: all rows in one transaction."""
    _in_tenant(import_id, imports.import_run)


@task()
def undo_client_import(import_id: int) -> None:
    """Undo a finished import."""
    _in_tenant(import_id, imports.import_undo)
