"""`migrate`, connecting as the table owner (DATABASE_OWNER_URL) when one is configured.

The application's own role owns no table (row-level security would not bind an owner that
is also the one connecting), so schema changes must be made by the owner.
"""

from django.conf import settings
from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import DEFAULT_DB_ALIAS, connections

CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


class Command(MigrateCommand):
    def handle(self, *args, **options):
        owner = settings.DATABASES.get("owner")
        if owner is None or options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        connection = connections[DEFAULT_DB_ALIAS]
        saved = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
        connection.close()
        connection.settings_dict.update({key: owner.get(key) for key in CREDENTIALS})
        try:
            return super().handle(*args, **options)
        finally:
            connection.close()
            connection.settings_dict.update(saved)
