"""Row-level security on every tenant table, and foreign keys that cannot cross tenants.

PostgreSQL only (SQLite has neither). A later migration that adds a tenant table must call
`glamiti.rls.enable_rls_sql` / `same_business_fk_sql` for it too; the catalogue test
(tests/glamiti/test_rls_catalogue.py) fails until it does.
"""

from django.db import migrations

from glamiti.rls import tenant_schema_sql


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in tenant_schema_sql(apps):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("glamiti", "0003_business_no_show_fee"),
        ("clients", "0003_imports"),
        ("appointments", "0002_no_double_booking"),
        ("sales", "0003_unique_per_business"),
        ("vouchers", "0002_ledger_reverses"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
