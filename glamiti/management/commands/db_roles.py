"""Create (if missing) and grant the PostgreSQL roles the application and the platform admin
connect as; run by the table owner after `migrate`. See README, "Database roles"."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from glamiti.rls import PLATFORM_ALIAS, grant_roles_sql


class Command(BaseCommand):
    help = "Set up the application (row-level security) and platform (BYPASSRLS) roles."

    def handle(self, *args, **options):
        owner_alias = "owner" if "owner" in settings.DATABASES else "default"
        connection = connections[owner_alias]
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are for PostgreSQL; nothing to do on SQLite.")
        app = settings.DATABASES["default"]
        platform = settings.DATABASES.get(PLATFORM_ALIAS, app)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tableowner, current_database() FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename = 'django_migrations'"
            )
            found = cursor.fetchone()
            if found is None:
                raise CommandError("Run `manage.py migrate` first: there are no tables yet.")
            owner, database = found
            if app["USER"] in (owner, platform["USER"]):
                raise CommandError(
                    "DATABASE_URL must connect as its own role, neither the owner "
                    "(DATABASE_OWNER_URL) nor the platform role (DATABASE_ADMIN_URL)."
                )
            self._ensure_role(cursor, app, bypass=False)
            self._ensure_role(cursor, platform, bypass=True)
            for statement in grant_roles_sql(database, app["USER"], platform["USER"], owner):
                cursor.execute(statement)
        self.stdout.write(
            f"Roles ready: {app['USER']} (application, row-level security), "
            f"{platform['USER']} (platform admin, BYPASSRLS); tables owned by {owner}."
        )

    def _ensure_role(self, cursor, database: dict, *, bypass: bool) -> None:
        role, password = database["USER"], database.get("PASSWORD") or None
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            login = "LOGIN PASSWORD %s" if password else "LOGIN"
            attributes = "BYPASSRLS" if bypass else "NOBYPASSRLS"
            cursor.execute(
                f'CREATE ROLE "{role}" WITH {login} NOSUPERUSER NOCREATEDB NOCREATEROLE '
                f"{attributes}",
                [password] if password else [],
            )
            return
        superuser, bypasses = found
        if not bypass and (superuser or bypasses):
            raise CommandError(
                f"{role} (DATABASE_URL) is a superuser or bypasses row-level security: the "
                "application must connect as a role that does neither."
            )
        if bypass and not (bypasses or superuser):
            raise CommandError(f"{role} (DATABASE_ADMIN_URL) needs BYPASSRLS.")
