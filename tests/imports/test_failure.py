"""A job that fails or whose worker is killed leaves no client behind, says why, and can be
retried."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from clients import imports
from clients.models import ClientImport, ClientImportChange, ImportStatus, Tag
from tests import rls
from tests.factories_imports import FRESHA_HEADERS, csv_bytes, fresha_row
from tests.imports.conftest import import_url, mapping_post, run_import
from tests.rls import all_tenants

ROOT = Path(__file__).resolve().parents[2]


def rows(count: int) -> list[list[str]]:
    return [fresha_row(n) for n in range(1, count + 1)]


def test_a_job_that_fails_mid_batch_leaves_no_client_and_can_be_retried(
    as_owner, world, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH_SIZE", 3)

    def explode(imp, done):
        if done >= 6:  # two batches written, inside the import's transaction
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(imports, "after_batch", explode)
    imp = run_import(as_owner, world, "f.csv", csv_bytes(FRESHA_HEADERS, rows(10)))
    assert imp.status == ImportStatus.FAILED
    assert imp.failed_step == "import"
    assert "Nothing was imported" in imp.error and "try again" in imp.error
    with all_tenants():
        assert not world.business.clients.exists()
        assert not ClientImportChange.objects.exists()
        assert not Tag.objects.filter(business=world.business).exists()
    page = as_owner.get(import_url(world, "import-result", imp)).content.decode()
    assert "The import failed." in page and "Try again" in page

    monkeypatch.setattr(imports, "after_batch", lambda imp, done: None)
    as_owner.post(import_url(world, "import-confirm", imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.DONE and imp.counts["created"] == 10
    with all_tenants():
        assert world.business.clients.count() == 10


def test_a_broken_file_fails_the_check_with_its_reason(as_owner, world, monkeypatch):
    def broken(*args, **kwargs):
        raise imports.ImportFileError("The file is not valid CSV near row 7: bad quote.")

    monkeypatch.setattr(imports, "_batches", broken)
    imp = run_import(as_owner, world, "f.csv", csv_bytes(FRESHA_HEADERS, rows(2)), confirm=False)
    assert imp.status == ImportStatus.FAILED and imp.failed_step == "analyse"
    body = as_owner.get(import_url(world, "import-preview", imp)).content.decode()
    assert "not valid CSV near row 7" in body


def _worker(settings, database: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "SECRET_KEY": "test-only",
        # The worker is the application: it logs in as the app role, as in production.
        "DATABASE_URL": f"postgres://{rls.APP_ROLE}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{database}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "GLAMITI_IMPORT_BATCH_SIZE": "250",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
         "--interval", "0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _wait(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a worker process needs a shared database"
)
def test_a_worker_killed_in_the_middle_leaves_no_client_behind(
    transactional_db, as_owner, world, settings
):
    # Checked inline; then the import itself is queued for a real worker process.
    imp = run_import(
        as_owner, world, "big.csv", csv_bytes(FRESHA_HEADERS, rows(20_000)), confirm=False
    )
    assert imp.counts["new"] == 20_000
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    as_owner.post(import_url(world, "import-confirm", imp))
    worker = _worker(settings, connection.settings_dict["NAME"])
    try:

        def midway() -> bool:
            imp.refresh_from_db()
            assert imp.status != ImportStatus.DONE, "the import finished before it could be killed"
            return imp.status == ImportStatus.RUNNING and imp.rows_done >= 1000

        _wait(midway)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    # The database rolled the import's transaction back with the dead connection.
    _wait(lambda: imports.job_alive(imp.pk) is False, 20)
    with all_tenants():
        assert not world.business.clients.exists()
        assert not ClientImportChange.objects.exists()
    imp.refresh_from_db()
    assert imp.status == ImportStatus.RUNNING  # nobody has looked yet
    response = as_owner.get(import_url(world, "import-progress", imp))
    assert response.status_code == 302 and response["Location"].endswith("/result/")
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED
    assert "worker stopped" in imp.error and "Nothing was imported" in imp.error

    # Retried, with the worker running again, it completes.
    as_owner.post(import_url(world, "import-confirm", imp))
    worker = _worker(settings, connection.settings_dict["NAME"])
    try:
        _wait(lambda: _done(imp))
    finally:
        worker.terminate()
        worker.wait(10)
    with all_tenants():
        assert world.business.clients.count() == 20_000


def _done(imp: ClientImport) -> bool:
    imp.refresh_from_db()
    assert imp.status != ImportStatus.FAILED, imp.error
    return imp.status == ImportStatus.DONE


def test_a_check_that_fails_at_its_end_keeps_the_rejected_rows_file_and_leaves_no_other(
    as_owner, world, monkeypatch, django_capture_on_commit_callbacks
):
    nameless = fresha_row(3, **{"First Name": "", "Last Name": "", "Full Name": ""})
    content = csv_bytes(FRESHA_HEADERS, [*rows(2), nameless])
    imp = run_import(as_owner, world, "f.csv", content, confirm=False)
    first = imp.rejected_file.name
    assert imp.status == ImportStatus.PREVIEWED and first

    save = ClientImport.save

    def fail_when_previewed(self, *args, **kwargs):
        if self.status == ImportStatus.PREVIEWED:
            raise RuntimeError("lost the database at the last moment")
        return save(self, *args, **kwargs)

    folder = first.rsplit("/", 1)[0]
    stored = default_storage.listdir(folder)
    monkeypatch.setattr(ClientImport, "save", fail_when_previewed)
    as_owner.post(import_url(world, "import-map", imp), mapping_post(imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.FAILED and imp.failed_step == "analyse"
    # The check was rolled back: the import still names the first file, which is still there,
    # and the file the failed check wrote is gone with it (it holds the file's personal data).
    assert imp.rejected_file.name == first and default_storage.exists(first)
    assert default_storage.listdir(folder) == stored

    monkeypatch.setattr(ClientImport, "save", save)
    with django_capture_on_commit_callbacks(execute=True):
        as_owner.post(import_url(world, "import-map", imp), mapping_post(imp))
    imp.refresh_from_db()
    assert imp.status == ImportStatus.PREVIEWED
    assert imp.rejected_file.name != first and default_storage.exists(imp.rejected_file.name)
    assert not default_storage.exists(first)  # replaced, once committed
