"""Row-level security in the test suite.

The application under test runs as a restricted PostgreSQL role. Once the test database is
created and migrated (by the owner: the role in DATABASE_URL), the application's database
work runs as `glamiti_test_app` — neither superuser nor BYPASSRLS, owning no table:
- every HTTP request (test client and live server) and every `tenant_context` block;
- every connection opened by another thread or by the application itself (workers,
  the import's progress connection);
and the "platform" connection as `glamiti_test_platform` (BYPASSRLS), as in production.

The test's own code around them — creating rows for several businesses, checking the
database afterwards — runs as the owner, which row-level security does not restrict, like
the owner's `psql` would. `all_tenants()` also turns django-scopes off for such set-up and
checks (and steps back to the owner inside a tenant block). An HTTP request made inside
`all_tenants()` fails the test.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
from django.core.signals import request_started
from django.db import connections
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

APP_ROLE = "glamiti_test_app"
PLATFORM_ROLE = "glamiti_test_platform"

_state = {"enabled": False}
_local = threading.local()


def enabled() -> bool:
    return _state["enabled"]


def enable() -> None:
    _state["enabled"] = True


def inside_all_tenants() -> bool:
    return getattr(_local, "depth", 0) > 0


def _is_test_connection(connection) -> bool:
    """The main thread's default connection: the one the test's own code uses."""
    return (
        threading.current_thread() is threading.main_thread()
        and connection is connections["default"]
    )


def _execute(connection, sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


@receiver(connection_created)
def _connect_with_role(sender, connection, **kwargs) -> None:
    if not enabled() or connection.vendor != "postgresql" or connection.alias == NO_DB_ALIAS:
        return  # (the connection that creates and drops test databases stays the owner)
    if connection.alias == "platform":
        _execute(connection, f'SET ROLE "{PLATFORM_ROLE}"')
    elif not _is_test_connection(connection):
        _execute(connection, f'SET ROLE "{APP_ROLE}"')


def _test_connection_in_use(connection) -> bool:
    return enabled() and connection.vendor == "postgresql" and _is_test_connection(connection)


def _in_request() -> bool:
    return getattr(_local, "in_request", False)


class AppRoleMiddleware:
    """Test-only, first in the chain: a test-client request runs as the app role."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        connection = connections["default"]
        if not _test_connection_in_use(connection) or _in_request():
            return self.get_response(request)
        connection.ensure_connection()
        _execute(connection, f'SET ROLE "{APP_ROLE}"')
        _local.in_request = True
        try:
            return self.get_response(request)
        finally:
            _local.in_request = False
            if connection.connection is not None and not connection.needs_rollback:
                # In an aborted transaction this fails; its rollback restores the role.
                with contextlib.suppress(Exception):
                    _execute(connection, "RESET ROLE")


@receiver(request_started)
def _no_request_inside_all_tenants(sender, **kwargs) -> None:
    assert not inside_all_tenants(), "An HTTP request was made inside all_tenants()."


@pytest.fixture(autouse=True)
def tenant_blocks_as_app_role(monkeypatch):
    """A `tenant_context` block in a test runs as the app role, like the application.

    The role is set for the block's transaction only (SET LOCAL), and put back when the
    block clears its setting inside a longer transaction.
    """
    from glamiti import tenancy

    original = tenancy.set_tenant_setting

    def set_tenant_setting(business_id, using="default"):
        connection = connections[using]
        ours = _test_connection_in_use(connection)
        if business_id is not None and ours:
            _execute(connection, f'SET LOCAL ROLE "{APP_ROLE}"')
            if connection.savepoint_ids and connection.savepoint_ids[-1]:
                _tenant_savepoints.add(connection.savepoint_ids[-1])
        original(business_id, using)
        if business_id is None and ours:
            back = f'SET LOCAL ROLE "{APP_ROLE}"' if _in_request() else "SET LOCAL ROLE NONE"
            _execute(connection, back)

    monkeypatch.setattr(tenancy, "set_tenant_setting", set_tenant_setting)
    yield
    _local.in_request = False


@contextlib.contextmanager
def all_tenants() -> Iterator[None]:
    """For test set-up and checks only: every business's rows (as the owner), scopes off."""
    connection = connections["default"]
    step_back = (
        _test_connection_in_use(connection)
        and not inside_all_tenants()
        and current_role() == APP_ROLE
    )
    local = connection.in_atomic_block
    if step_back:
        _execute(connection, "SET LOCAL ROLE NONE" if local else "RESET ROLE")
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        with scopes_disabled():
            yield
    finally:
        _local.depth -= 1
        if step_back and not connection.needs_rollback:
            with contextlib.suppress(Exception):
                _execute(connection, f'SET {"LOCAL " if local else ""}ROLE "{APP_ROLE}"')


# --- Query counts: what the application asks for, not the tenant bookkeeping ---------------
#
# Every tenant block costs one `set_config` in production (its transaction's COMMIT clears
# it). In tests the block is a savepoint inside the test's transaction (in production a
# BEGIN, which is not a query), so it also clears the setting explicitly, and the harness
# switches roles. None of that depends on the data, so query-count tests leave it out.

_tenant_savepoints: set[str] = set()


def is_bookkeeping(sql: str) -> bool:
    if "set_config('app.business_id'" in sql or "set_config(%s" in sql:
        return True
    if sql.startswith(("SET ROLE", "RESET ROLE", "SET LOCAL ROLE", "SELECT current_user")):
        return True
    if sql.startswith(("SAVEPOINT ", "RELEASE SAVEPOINT ")):
        return sql.split('"')[1] in _tenant_savepoints if '"' in sql else False
    return False


class AppQueries(CaptureQueriesContext):
    @property
    def captured_queries(self):
        queries = self.connection.queries[self.initial_queries : self.final_queries]
        return [q for q in queries if not is_bookkeeping(q["sql"])]


def _query_count_fixture(exact: bool):
    @contextlib.contextmanager
    def check(num, connection=None, info=None):
        context = AppQueries(connection or connections["default"])
        with context:
            yield context
        done = len(context)
        failed = done != num if exact else done > num
        if failed:
            listing = "\n".join(f"  {q['sql']}" for q in context.captured_queries)
            bound = "" if exact else " or less"
            message = f"Expected to perform {num} queries{bound} but {done} were done"
            pytest.fail(f"{message}{' (' + info + ')' if info else ''}:\n{listing}")

    return check


@pytest.fixture
def django_assert_num_queries(django_db_blocker):
    return _query_count_fixture(exact=True)


@pytest.fixture
def django_assert_max_num_queries(django_db_blocker):
    return _query_count_fixture(exact=False)


def current_role(alias: str = "default") -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT current_user")
        return cursor.fetchone()[0]


def platform_db_mark():
    """The mark for tests that go through the platform connection (the admin, webhooks): it
    cannot see an uncommitted test transaction, so these tests commit (and are flushed)."""
    from django.conf import settings

    databases = ["default", *(["platform"] if "platform" in settings.DATABASES else [])]
    return pytest.mark.django_db(transaction=True, databases=databases)
