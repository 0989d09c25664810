"""No double booking, enforced by PostgreSQL itself.

An exclusion constraint refuses two occupying appointments (booked or completed) of the same
team member whose time ranges overlap; '[)' ranges let one appointment start when another
ends. SQLite has no such constraint: there the booking service's own check is the guard.
"""

from django.db import migrations

CONSTRAINT = "appointment_no_double_booking"

EXTENSION = "CREATE EXTENSION IF NOT EXISTS btree_gist"
CREATE = f"""
ALTER TABLE appointments_appointment ADD CONSTRAINT {CONSTRAINT}
    EXCLUDE USING gist (
        business_id WITH =,
        team_member_id WITH =,
        tstzrange(start_at, end_at, '[)') WITH &&
    ) WHERE (status IN ('booked', 'completed'))
"""

# The extension stays: other tables may use it, and keeping it is harmless.
DROP = f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {CONSTRAINT}"


def create_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(EXTENSION, params=None)
        schema_editor.execute(CREATE, params=None)


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [migrations.RunPython(create_constraint, drop_constraint, elidable=False)]
