"""Covering indexes for the client profile (PostgreSQL only).

The overview counts a client's appointments by status and sums their sales by kind in one
aggregate each; with these indexes PostgreSQL answers both from the index alone (an
index-only scan) instead of visiting thousands of table rows. The sales index on
`created_at` gives the profile's lists and timeline their newest-first order for free.
SQLite has no INCLUDE and needs none of this for a small salon.
"""

from django.db import migrations

INDEXES = {
    "appt_client_profile_idx": (
        "appointments_appointment (business_id, client_id, status, start_at)"
    ),
    "sale_client_profile_idx": (
        "sales_sale (business_id, client_id, status)"
        " INCLUDE (total, services_total, products_total, vouchers_total, tip_total, created_at)"
    ),
    "sale_client_created_idx": "sales_sale (business_id, client_id, created_at)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, target in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}", params=None)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("glamiti", "0001_initial"),
        ("appointments", "0002_no_double_booking"),
        ("sales", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
