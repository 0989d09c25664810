"""PostgreSQL itself keeps tenants apart: the catalogue has forced row-level security and a
policy on every tenant table, same-business foreign keys and per-business unique
constraints; the application's role cannot bypass any of it; and the tenant setting never
outlives the block that set it."""

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse

from glamiti.rls import PLATFORM_ALIAS, POLICY_NAME, RLS_EXEMPT, current_tenant_setting
from glamiti.tenancy import TenantSwitchError, tenant_context
from tests import rls
from tests.factories import ClientFactory, TagFactory
from tests.rls import all_tenants, platform_db_mark

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]

# Unique indexes on a tenant table that need not name the business: the primary key, and
# one-to-one links to another tenant row (whose id is already one business's, and which
# the same-business foreign key keeps in that business).
ONE_TO_ONE = {
    ("sales_feedbacklink", "sale_id"),
    ("sales_stripecustomer", "client_id"),
    ("sales_cardcharge", "payment_id"),
    ("vouchers_voucherledgerentry", "reverses_id"),
}


def rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def tables_with_business_id():
    return {
        table
        for (table,) in rows(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'business_id'"
        )
    }


def test_every_tenant_table_has_forced_rls_and_the_policy(db):
    tenant_tables = tables_with_business_id() - set(RLS_EXEMPT)
    assert len(tenant_tables) > 20
    flags = {
        name: (enabled, forced)
        for name, enabled, forced in rows(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        )
    }
    policies = {
        table: (cmd, qual, check)
        for table, cmd, qual, check in rows(
            "SELECT tablename, cmd, qual, with_check FROM pg_policies WHERE policyname = %s",
            [POLICY_NAME],
        )
    }
    missing = sorted(t for t in tenant_tables if flags.get(t) != (True, True))
    assert not missing, f"tables without forced row-level security: {missing}"
    for table in tenant_tables:
        assert table in policies, f"{table} has no {POLICY_NAME} policy"
        cmd, qual, check = policies[table]
        assert cmd == "ALL"
        for expression in (qual, check):
            assert "business_id" in expression and "app.business_id" in expression, table
            assert "NULLIF" in expression, table


def test_exemptions_are_real_tables_with_a_reason(db):
    tables = tables_with_business_id()
    for table, reason in RLS_EXEMPT.items():
        assert table in tables and reason


def foreign_keys(columns: int) -> set[tuple[str, str]]:
    """(table, its key columns joined by commas) of the foreign keys of that width."""
    return set(
        rows(
            """
            SELECT c.conrelid::regclass::text,
                   array_to_string(ARRAY(SELECT attname FROM pg_attribute
                     WHERE attrelid = c.conrelid AND attnum = ANY(c.conkey)
                     ORDER BY array_position(c.conkey, attnum)), ',')
            FROM pg_constraint c
            WHERE c.contype = 'f' AND array_length(c.conkey, 1) = %s
              AND c.connamespace = 'public'::regnamespace
            """,
            [columns],
        )
    )


def test_foreign_keys_between_tenant_tables_cannot_cross_businesses(db):
    tenant_tables = tables_with_business_id()
    relations = [
        (model._meta.db_table, field.column, field.db_constraint)
        for model in apps.get_models()
        if model._meta.db_table in tenant_tables
        for field in model._meta.local_fields
        if field.is_relation
        and field.name != "business"
        and field.related_model._meta.db_table in tenant_tables
    ]
    assert len(relations) > 40
    composite, single = foreign_keys(2), foreign_keys(1)
    # The one key left unchecked on purpose (its reason is on ConsentRecord.client_import).
    unchecked = {("clients_consentrecord", "client_import_id")}
    missing = [
        (t, c)
        for t, c, _ in relations
        if (t, f"business_id,{c}") not in composite and (t, c) not in unchecked
    ]
    assert not missing, f"foreign keys without a same-business constraint: {missing}"
    # The composite key proves the row exists too: a single-column one would double every
    # check (glamiti.models.SAME_BUSINESS_KEY).
    doubled = [(t, c) for t, c, _ in relations if (t, c) in single]
    assert not doubled, f"single-column keys beside the same-business ones: {doubled}"
    declared = [(t, c) for t, c, checked in relations if checked]
    assert not declared, f"declare these with db_constraint=SAME_BUSINESS_KEY: {declared}"


def test_every_tenant_row_has_its_business_checked(db):
    """By a key to the business, or through a required same-business key to a row whose
    business is checked (business_key(through=...))."""
    direct = {table for table, columns in foreign_keys(1) if columns == "business_id"}
    composite = foreign_keys(2)
    unchecked = []
    for model in apps.get_models():
        table = model._meta.db_table
        if table not in tables_with_business_id() or table in direct:
            continue
        business = model._meta.get_field("business")
        through = getattr(business, "business_through", "")
        field = model._meta.get_field(through) if through else None
        if not (
            field is not None
            and not field.null
            and (table, f"business_id,{field.column}") in composite
            and field.related_model._meta.db_table in direct
        ):
            unchecked.append(table)
    assert not unchecked, f"tenant tables whose business nothing checks: {unchecked}"
    assert len(direct) > 20


def test_every_unique_constraint_on_a_tenant_table_includes_the_business(db):
    tenant_tables = tables_with_business_id() - set(RLS_EXEMPT)
    offenders = []
    for table, columns, primary in rows(
        """
        SELECT t.relname,
               ARRAY(SELECT attname FROM pg_attribute
                     WHERE attrelid = t.oid AND attnum = ANY(i.indkey)),
               i.indisprimary
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE i.indisunique AND t.relnamespace = 'public'::regnamespace
        """
    ):
        if table not in tenant_tables or primary or "business_id" in columns:
            continue
        if len(columns) == 1 and (table, columns[0]) in ONE_TO_ONE:
            continue
        offenders.append((table, columns))
    assert not offenders, f"unique constraints that ignore the business: {offenders}"


def test_the_application_role_cannot_bypass_row_level_security(db):
    ((superuser, bypass, create_role),) = rows(
        "SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = %s",
        [rls.APP_ROLE],
    )
    assert (superuser, bypass, create_role) == (False, False, False)
    owned = rows(
        "SELECT relname FROM pg_class WHERE relowner = %s::regrole AND relkind = 'r'",
        [rls.APP_ROLE],
    )
    assert owned == []
    # Not a member of any role that could lift it (the owner, the platform role, a superuser).
    (member_of,) = rows(
        "SELECT array_agg(r.rolname) FROM pg_roles r "
        "WHERE pg_has_role(%s, r.oid, 'MEMBER') AND r.rolname <> %s",
        [rls.APP_ROLE, rls.APP_ROLE],
    )[0]
    assert not member_of or all(not name.startswith("glamiti") for name in member_of)
    ((platform_bypasses,),) = rows(
        "SELECT rolbypassrls FROM pg_roles WHERE rolname = %s", [rls.PLATFORM_ROLE]
    )
    assert platform_bypasses


def test_requests_and_tenant_blocks_run_as_the_application_role(world, as_owner):
    seen = []
    with tenant_context(world.business):
        seen.append(rls.current_role())
    assert seen == [rls.APP_ROLE]
    response = as_owner.get(reverse("clients:list", kwargs={"business": world.business.slug}))
    assert response.status_code == 200


def test_without_the_setting_the_application_sees_no_rows_and_writes_none(world):
    with all_tenants():
        ClientFactory(business=world.business, first_name="Ours")
        ClientFactory(business=world.other_business, first_name="Theirs")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'SET LOCAL ROLE "{rls.APP_ROLE}"')
        cursor.execute("SELECT count(*) FROM clients_client")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT set_config('app.business_id', %s, true)", [str(world.business.pk)])
        cursor.execute("SELECT first_name FROM clients_client")
        assert cursor.fetchall() == [("Ours",)]
        cursor.execute(
            "UPDATE clients_client SET first_name = 'Hijacked' WHERE business_id = %s",
            [world.other_business.pk],
        )
        assert cursor.rowcount == 0
        sid = transaction.savepoint()
        with pytest.raises(Exception, match="row-level security"):
            cursor.execute(
                "INSERT INTO clients_tag (business_id, name, color) VALUES (%s, 'x', '#000000')",
                [world.other_business.pk],
            )
        transaction.savepoint_rollback(sid)


def test_a_row_cannot_point_at_another_businesss_row(world):
    from clients.models import ClientTag

    with all_tenants():
        ours = ClientFactory(business=world.business)
        theirs = TagFactory(business=world.other_business)
        # As the owner, which row-level security does not restrict: only the same-business
        # foreign key can refuse it.
        with pytest.raises(IntegrityError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            ClientTag.objects.create(business=world.business, client=ours, tag=theirs)


def test_the_setting_does_not_survive_a_block_an_exception_or_a_request(world, as_owner):
    with transaction.atomic():  # a longer transaction around it, as in a job or a test
        with tenant_context(world.business):
            assert current_tenant_setting() == str(world.business.pk)
        assert current_tenant_setting() in ("", None)
        with pytest.raises(ZeroDivisionError), tenant_context(world.business):
            1 / 0  # noqa: B018
        assert current_tenant_setting() in ("", None)
        with tenant_context(world.business), transaction.atomic():
            assert current_tenant_setting() == str(world.business.pk)
        assert current_tenant_setting() in ("", None)
    as_owner.get(reverse("clients:list", kwargs={"business": world.business.slug}))
    assert current_tenant_setting() in ("", None)
    as_owner.get(reverse("clients:detail", kwargs={"business": world.business.slug, "pk": 0}))
    assert current_tenant_setting() in ("", None)


def test_entering_another_business_inside_one_is_refused(world):
    with tenant_context(world.business):
        with pytest.raises(TenantSwitchError), tenant_context(world.other_business):
            pass
        with tenant_context(world.business):  # the same one again is fine
            assert current_tenant_setting() == str(world.business.pk)


def test_a_view_error_rolls_back_what_the_view_wrote(world, as_owner, monkeypatch):
    from clients.models import Client

    with all_tenants():
        client = ClientFactory(business=world.business, first_name="Kept")

    def half_done(self):
        self.first_name = "HalfWritten"
        self.save()
        raise RuntimeError("boom")

    monkeypatch.setattr(Client, "archive", half_done)
    as_owner.raise_request_exception = False
    url = reverse("clients:archive", kwargs={"business": world.business.slug, "pk": client.pk})
    assert as_owner.post(url).status_code == 500
    client.refresh_from_db()
    assert client.first_name == "Kept"


@platform_db_mark()
@pytest.mark.skipif(PLATFORM_ALIAS not in connections.settings, reason="PostgreSQL only")
def test_the_platform_connection_bypasses_row_level_security(world):
    from glamiti.rls import platform_access

    with all_tenants():
        ClientFactory(business=world.business, first_name="Ours")
        ClientFactory(business=world.other_business, first_name="Theirs")
    from clients.models import Client

    with platform_access():
        names = sorted(Client.objects.values_list("first_name", flat=True))
    assert names == ["Ours", "Theirs"]
    assert rls.current_role(PLATFORM_ALIAS) == rls.PLATFORM_ROLE
