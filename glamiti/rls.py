"""Row-level security: PostgreSQL itself keeps each business's rows to that business.

django-scopes stops a forgotten filter in Python; these policies stop it in the database.
Every table with a `business_id` column (but the few listed in `RLS_EXEMPT`) has RLS enabled
and forced, with one policy for reads and writes: a row is visible and writable only while
`app.business_id` — set transaction-locally by `tenant_context` — names its business. With
no setting there are no rows.

Three PostgreSQL roles (settings.py, README "Database roles"): the application's role is
subject to the policies; the owner runs migrations; the platform role (BYPASSRLS) serves the
Django admin and the few platform lookups that must run before a tenant is known, through
the "platform" connection and `platform_access()`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django_scopes import scopes_disabled

TENANT_SETTING = "app.business_id"
POLICY_NAME = "tenant_isolation"
POLICY_CONDITION = f"business_id = NULLIF(current_setting('{TENANT_SETTING}', true), '')::bigint"
PLATFORM_ALIAS = "platform"

# Tables with a business column that are platform data, not a tenant's: read before a
# tenant is known, or not about one tenant at all.
RLS_EXEMPT = {
    "glamiti_membership": "who belongs to which business: read to decide the tenant",
    "sales_stripeevent": "webhook deliveries, deduplicated before the business is known",
}

_platform = ContextVar("glamiti_platform_access", default=False)


def is_postgresql(connection: BaseDatabaseWrapper) -> bool:
    return connection.vendor == "postgresql"


def set_tenant_setting(business_id: int | None, using: str = DEFAULT_DB_ALIAS) -> None:
    """Set `app.business_id` for the current transaction only (never session-wide)."""
    connection = connections[using]
    if not is_postgresql(connection):
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true)",
            [TENANT_SETTING, "" if business_id is None else str(business_id)],
        )


def current_tenant_setting(using: str = DEFAULT_DB_ALIAS) -> str | None:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [TENANT_SETTING])
        return cursor.fetchone()[0]


@contextmanager
def platform_access() -> Iterator[None]:
    """Work across tenants, explicitly: the Django admin and platform lookups.

    ORM queries go to the "platform" connection, whose role bypasses row-level security, and
    django-scopes is off. Where no such connection is configured (SQLite), only scopes go.
    """
    token = _platform.set(True)
    try:
        with scopes_disabled():
            yield
    finally:
        _platform.reset(token)


class PlatformRouter:
    """Send ORM queries on tenant tables made under `platform_access()` to the platform
    connection. Everything else (users, sessions, the admin log) stays on the default one."""

    def _route(self, model: Any, **hints: Any) -> str | None:
        if _platform.get() and PLATFORM_ALIAS in connections.settings and is_rls_table(model):
            return PLATFORM_ALIAS
        return None

    db_for_read = _route
    db_for_write = _route

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # Every alias is the same database, reached as a different role.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == PLATFORM_ALIAS else None


# --- Schema: used by migrations and checked by tests/glamiti/test_rls_catalogue.py --------


def constraint_name(*parts: str) -> str:
    """A PostgreSQL identifier (at most 63 bytes) that stays unique when truncated."""
    name = "_".join(parts)
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:54]}_{digest}"


def has_business_column(model) -> bool:
    return any(f.name == "business" and f.is_relation for f in model._meta.local_fields)


def is_rls_table(model) -> bool:
    """Whether row-level security guards the model's table."""
    return has_business_column(model) and model._meta.db_table not in RLS_EXEMPT


def tenant_models(apps) -> list:
    """Models whose table carries a `business` column and is not exempt."""
    return [
        model
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.managed and is_rls_table(model)
    ]


def enable_rls_sql(table: str) -> list[str]:
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"',
        f'CREATE POLICY {POLICY_NAME} ON "{table}" USING ({POLICY_CONDITION}) '
        f"WITH CHECK ({POLICY_CONDITION})",
    ]


def business_key_sql(table: str) -> str:
    """UNIQUE (business_id, id): the target of the same-business foreign keys."""
    name = constraint_name(table, "business_id_id_key")
    return f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" UNIQUE (business_id, id)'


def same_business_fk_sql(table: str, column: str, target_table: str) -> str:
    """FOREIGN KEY (business_id, x_id) → target (business_id, id).

    PostgreSQL checks foreign keys without row-level security, so this is the only thing
    that stops a row pointing at another business's row.
    """
    name = constraint_name(table, column, "same_business")
    return (
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY (business_id, "{column}") '
        f'REFERENCES "{target_table}" (business_id, id) DEFERRABLE INITIALLY DEFERRED'
    )


def tenant_schema_sql(apps) -> list[str]:
    """Everything the database needs so that tenants cannot reach each other's rows."""
    statements: list[str] = []
    models = [m for m in apps.get_models() if has_business_column(m) and not m._meta.proxy]
    targets = set()
    fks = []
    for model in models:
        for field in model._meta.local_fields:
            if not field.is_relation or field.name == "business":
                continue
            target = field.related_model
            if not has_business_column(target):
                continue
            targets.add(target._meta.db_table)
            fks.append((model._meta.db_table, field.column, target._meta.db_table))
    for model in tenant_models(apps):
        statements += enable_rls_sql(model._meta.db_table)
    statements += [business_key_sql(table) for table in sorted(targets)]
    statements += [same_business_fk_sql(*fk) for fk in sorted(fks)]
    return statements


# --- Roles -------------------------------------------------------------------------------


def grant_roles_sql(database: str, app_role: str, platform_role: str, owner: str) -> list[str]:
    """Privileges of the application and platform roles (both only read and write rows)."""
    statements = []
    for role in (app_role, platform_role):
        statements += [
            f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"',
            f'GRANT USAGE ON SCHEMA public TO "{role}"',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
            f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public '
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}"',
            f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA public '
            f'GRANT USAGE, SELECT ON SEQUENCES TO "{role}"',
        ]
    return statements
