"""Background jobs (django-tasks; run by `manage.py db_worker`).

A task receives the business and the import's id: it enters that business's tenant (row-level
security shows it nothing else) and finds the import there, as a request would. The job then
commits each step in its own tenant transaction, so the pages can follow it.
"""

from __future__ import annotations

from django_tasks import task

from clients import imports
from clients.models import ClientImport
from glamiti.models import Business
from glamiti.tenancy import tenant_context


def _in_tenant(business_id: int, import_id: int, job) -> None:
    business = Business.objects.filter(pk=business_id).first()
    if business is None:
        return
    with tenant_context(business):
        found = ClientImport.objects.select_related("business").filter(pk=import_id).first()
    if found is not None:  # else discarded since it was queued
        job(found)


@task()
def analyse_client_import(business_id: int, import_id: int) -> None:
    """Check every row of an uploaded file for the preview (writes no client)."""
    _in_tenant(business_id, import_id, imports.import_analyse)


@task()
def run_client_import(business_id: int, import_id: int) -> None:
    """Import the file: all rows in one transaction."""
    _in_tenant(business_id, import_id, imports.import_run)


@task()
def undo_client_import(business_id: int, import_id: int) -> None:
    """Undo a finished import."""
    _in_tenant(business_id, import_id, imports.import_undo)
