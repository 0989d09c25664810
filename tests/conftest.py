"""Baseline for every test: two businesses, an owner, a manager and a staff member of the
first, an owner of the second, and an outsider who belongs to neither."""

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client as HttpClient

from glamiti.models import Business, Role
from glamiti.rls import PLATFORM_ALIAS, grant_roles_sql
from tests import rls
from tests.factories import BusinessFactory, MembershipFactory, UserFactory
from tests.rls import all_tenants


@dataclass
class World:
    business: Business
    other_business: Business
    owner: object
    manager: object
    staff: object
    other_owner: object
    outsider: object


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the owner has created and migrated the test database, run as the app role."""
    with django_db_blocker.unblock():
        connection = connections["default"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_user, current_database()")
                owner, database = cursor.fetchone()
                roles = ((rls.APP_ROLE, "NOBYPASSRLS"), (rls.PLATFORM_ROLE, "BYPASSRLS"))
                for role, bypass in roles:
                    # Roles are shared by the cluster's databases: another run may create it.
                    cursor.execute(
                        f"DO $$ BEGIN CREATE ROLE {role} NOSUPERUSER {bypass}; "
                        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                    )
                    # Workers that tests start as processes log in as the app role itself.
                    cursor.execute(f"ALTER ROLE {role} LOGIN")
                for statement in grant_roles_sql(database, rls.APP_ROLE, rls.PLATFORM_ROLE, owner):
                    cursor.execute(statement)
            rls.enable()
            settings.MIDDLEWARE = ["tests.rls.AppRoleMiddleware", *settings.MIDDLEWARE]
            for alias in ("default", PLATFORM_ALIAS):
                if alias in connections:
                    connections[alias].close()
    yield


# Every test runs the application as the app role (tests/rls.py).
tenant_blocks_as_app_role = rls.tenant_blocks_as_app_role
django_assert_num_queries = rls.django_assert_num_queries
django_assert_max_num_queries = rls.django_assert_max_num_queries


@pytest.fixture(autouse=True)
def _fast_and_private_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def world(db) -> World:
    with all_tenants():
        business = BusinessFactory(name="Bella Test Salon", slug="bella-test")
        other = BusinessFactory(name="Other Test Barbers", slug="other-test")
        owner = MembershipFactory(business=business, role=Role.OWNER).user
        manager = MembershipFactory(business=business, role=Role.MANAGER).user
        staff = MembershipFactory(business=business, role=Role.STAFF).user
        other_owner = MembershipFactory(business=other, role=Role.OWNER).user
        outsider = UserFactory()
    return World(business, other, owner, manager, staff, other_owner, outsider)


def logged_in(user) -> HttpClient:
    http = HttpClient()
    http.force_login(user)
    return http


@pytest.fixture
def as_owner(world) -> HttpClient:
    return logged_in(world.owner)


@pytest.fixture
def as_manager(world) -> HttpClient:
    return logged_in(world.manager)


@pytest.fixture
def as_staff(world) -> HttpClient:
    return logged_in(world.staff)


@pytest.fixture
def as_outsider(world) -> HttpClient:
    return logged_in(world.outsider)
