"""Baseline for every test: two businesses, an owner, a manager and a staff member of the
first, an owner of the second, and an outsider who belongs to neither."""

from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from glamiti.models import Business, Role
from tests.factories import BusinessFactory, MembershipFactory, UserFactory


@dataclass
class World:
    business: Business
    other_business: Business
    owner: object
    manager: object
    staff: object
    other_owner: object
    outsider: object


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
    with scopes_disabled():
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
