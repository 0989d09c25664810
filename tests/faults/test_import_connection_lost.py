"""The database connection of an import job is killed while the job is writing: nothing of
the file stays, the import says it failed and why, and trying again imports it.

The jobs run here as the worker runs them (the task called outside any request, on the
test's connection), and the kill comes from another connection with
`pg_terminate_backend`, as when PostgreSQL restarts or an administrator ends the session.
"""

import psycopg
import pytest
from django.db import connection
from django_tasks import task_backends

from clients import imports
from clients.models import ClientImport, ClientImportChange, ImportStatus, Tag
from tests.factories_imports import FRESHA_HEADERS, csv_bytes, fresha_row
from tests.imports.conftest import import_url, latest_import, mapping_post, upload
from tests.rls import all_tenants

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="kills a PostgreSQL backend"
)

QUEUED_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
ROWS = 30


@pytest.fixture(autouse=True)
def _jobs_wait_for_the_worker(settings):
    settings.TASKS = QUEUED_ONLY


def run_worker() -> int:
    """Run the queued jobs the way `db_worker` does; how many ran."""
    backend = task_backends["default"]
    queued = list(backend.results)
    backend.clear()
    for result in queued:
        result.task.call(*result.args, **result.kwargs)
    return len(queued)


def backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def terminate(pid: int) -> None:
    """End backend `pid` from a connection of our own (as the server's owner: the app role
    may not signal it), waiting until it is gone."""
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as killer:
        ended = killer.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()[0]
    assert ended


def backend_alive(pid: int) -> bool:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        row = other.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return row.fetchone()[0] == 1


def reload(imp: ClientImport) -> None:
    with all_tenants():
        imp.refresh_from_db()


def previewed_import(http, world) -> ClientImport:
    content = csv_bytes(FRESHA_HEADERS, [fresha_row(n) for n in range(1, ROWS + 1)])
    assert upload(http, world, "clients.csv", content).status_code == 302
    imp = latest_import(world)
    assert http.post(import_url(world, "import-map", imp), mapping_post(imp)).status_code == 302
    assert run_worker() == 1  # the check
    reload(imp)
    assert imp.status == ImportStatus.PREVIEWED and imp.counts["new"] == ROWS
    return imp


@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_while_importing_leaves_no_client_and_can_be_retried(
    as_owner, world, monkeypatch
):
    imp = previewed_import(as_owner, world)
    monkeypatch.setattr(imports, "BATCH_SIZE", 5)
    killed = []

    def kill_the_jobs_connection(job_import, done):
        if done >= 10 and not killed:  # two batches written inside the import's transaction
            killed.append(backend_pid())
            terminate(killed[0])

    monkeypatch.setattr(imports, "after_batch", kill_the_jobs_connection)
    assert as_owner.post(import_url(world, "import-confirm", imp)).status_code == 302
    assert run_worker() == 1  # the job ends normally: it records the failure itself

    assert killed and not backend_alive(killed[0])
    # The failure was written on a new connection: the killed one can't write anything.
    assert backend_pid() != killed[0]
    with all_tenants():
        assert not world.business.clients.exists()
        assert not ClientImportChange.objects.exists()
        assert not Tag.objects.filter(business=world.business).exists()
    reload(imp)
    assert imp.status == ImportStatus.FAILED and imp.failed_step == "import"
    assert "connection to the database was lost" in imp.error
    assert "Nothing was imported: you can try again." in imp.error
    assert not imports.job_alive(imp.pk)
    page = as_owner.get(import_url(world, "import-result", imp)).content.decode()
    assert "The import failed." in page and "connection to the database was lost" in page
    assert "Try again" in page

    monkeypatch.setattr(imports, "after_batch", lambda job_import, done: None)
    assert as_owner.post(import_url(world, "import-confirm", imp)).status_code == 302
    assert run_worker() == 1
    reload(imp)
    assert imp.status == ImportStatus.DONE, imp.error
    assert imp.counts["created"] == ROWS
    with all_tenants():
        assert world.business.clients.count() == ROWS
        assert Tag.objects.filter(business=world.business).count() == 1  # the import's tag
