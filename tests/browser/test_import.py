"""Importing clients from the listing page, with the real background worker.

The worker is `manage.py db_worker`, started as a separate process against the live
server's database, exactly as in production: the import runs in another process while the
page polls its progress. (A thread inside the test process would share Django's state and
hide mistakes a real worker would hit.) SQLite's test database lives in memory, where no
other process can see it, so this test needs PostgreSQL.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from glamiti.models import Role
from tests.factories import PASSWORD, BusinessFactory, ClientFactory, MembershipFactory
from tests.factories_imports import FRESHA_HEADERS, fresha_row, xlsx_bytes
from tests.rls import all_tenants

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1500

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the worker process needs a shared database"
)


class Worker:
    def __init__(self, settings) -> None:
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "SECRET_KEY": "test-only",
            "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            # Small batches, so that the bar has steps to show.
            "GLAMITI_IMPORT_BATCH_SIZE": "10",
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
             "--interval", "0.2"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


@pytest.fixture
def worker(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    running = Worker(settings)
    yield running
    running.stop()


@pytest.fixture
def owner_page(transactional_db, page):
    with all_tenants():
        business = BusinessFactory(name="Import Salon", slug="import-salon", country="GB")
        ClientFactory(business=business, first_name="Already", email="anna1@example.com")
        owner = MembershipFactory(business=business, role=Role.OWNER).user
    page.goto("/accounts/login/")
    page.get_by_label("Username or e-mail").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/import-salon/clients/$"))
    return business


def client_file(tmp_path: Path) -> Path:
    rows = [fresha_row(n) for n in range(1, ROWS + 1)]
    rows[10] = fresha_row(11, **{"First Name": "", "Last Name": "", "Full Name": ""})
    rows[20] = fresha_row(21, **{"Email": "not-an-email"})
    path = tmp_path / "fresha-clients.xlsx"
    path.write_bytes(xlsx_bytes(FRESHA_HEADERS, rows, title_rows=["Clients export"]))
    return path


def test_import_an_xlsx_watch_it_and_undo_it(page, owner_page, worker, tmp_path, screenshot):
    business = owner_page
    page.get_by_role("link", name="Import clients").click()
    expect(page.get_by_role("heading", name="Import clients")).to_be_visible()
    expect(page.get_by_text("up to 50 MB or 1,000,000 rows").first).to_be_visible()
    page.get_by_label("Client file").set_input_files(client_file(tmp_path))
    page.get_by_role("button", name="Upload and continue").click()

    expect(page.get_by_role("heading", name=re.compile("Match the columns"))).to_be_visible()
    expect(page.get_by_text("This looks like a client export from")).to_be_visible()
    expect(page.get_by_label("Mobile Number")).to_have_value("mobile_phone")
    screenshot("map")
    worker.start()
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_text("The first rows, as they will be saved")).to_be_visible(timeout=60_000)
    stats = page.locator(".import-stats")
    expect(stats).to_contain_text(f"{ROWS - 2}new clients")
    expect(stats).to_contain_text("1duplicate skipped")
    expect(stats).to_contain_text("1row rejected")
    expect(page.get_by_text("No name: a client needs a first or last name.").first).to_be_visible()
    screenshot("preview")

    # With the worker stopped, the import waits at 0 %; started, the bar fills to 100 %.
    worker.stop()
    page.get_by_role("button", name=f"Import {ROWS - 2} clients").click()
    bar = page.get_by_role("progressbar", name="Import progress")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_text("Waiting for the background worker")).to_be_visible()
    screenshot("waiting")
    page.reload()  # the progress survives a reload
    expect(page.get_by_role("progressbar", name="Import progress")).to_be_visible()
    worker.start()
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if page.get_by_text("Imported.", exact=False).count() and "/result/" in page.url:
            break
        current = page.locator("[role=progressbar]")
        if current.count():
            value = current.first.get_attribute("aria-valuenow")
            if value is not None and (not seen or seen[-1] != int(value)):
                seen.append(int(value))
                if 0 < seen[-1] < 100:
                    screenshot("running")
        page.wait_for_timeout(100)
    expect(page.get_by_text("Imported.")).to_be_visible()
    # The bar moved from 0 to 100 (and through whatever steps the polling caught).
    assert seen[0] == 0 and seen[-1] == 100 and seen == sorted(seen), seen
    screenshot("result")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the rejected rows")).click()
    rejected = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert rejected.splitlines()[0].endswith(",Reason")
    assert "No name: a client needs a first or last name." in rejected
    assert len(rejected.splitlines()) == 2

    page.get_by_role("link", name="See the imported clients").click()
    expect(page).to_have_url(re.compile(r"/clients/\?tag=\d+$"))
    expect(page.locator("#results")).to_contain_text("Anna10 Smith")
    expect(page.locator("#results")).not_to_contain_text("Already")
    with all_tenants():
        assert business.clients.count() == ROWS - 1
    page.go_back()

    page.get_by_text("Undo this import…").click()
    page.get_by_role("button", name="Undo the import").click()
    expect(page.get_by_text("This import was undone")).to_be_visible(timeout=60_000)
    screenshot("undone")
    with all_tenants():
        assert list(business.clients.values_list("first_name", flat=True)) == ["Already"]
