import pytest
from django.urls import reverse

from glamiti.models import Business, TeamMember
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def settings_url(world) -> str:
    return reverse("settings:index", kwargs={"business": world.business.slug})


def business_data(**overrides) -> dict:
    data = {
        "name": "Bella Renamed",
        "time_zone": "Europe/Paris",
        "currency": "EUR",
        "country": "fr",
        "locale": "fr-FR",
    }
    return data | overrides


def test_owner_changes_business_settings(as_owner, world):
    response = as_owner.post(settings_url(world), business_data())
    assert response.status_code == 302
    world.business.refresh_from_db()
    assert (world.business.name, world.business.country) == ("Bella Renamed", "FR")
    assert world.business.time_zone == "Europe/Paris"


def test_bad_settings_are_explained_on_the_page(as_owner, world):
    response = as_owner.post(settings_url(world), business_data(country="ZZ", time_zone="Mars"))
    assert response.status_code == 200
    assert b"not a two-letter country code" in response.content
    assert b"Select a valid choice" in response.content
    assert Business.objects.get(pk=world.business.pk).country == "GB"


@pytest.mark.parametrize("role", ["manager", "staff"])
def test_only_owners_change_business_settings(world, role, as_manager, as_staff):
    http = {"manager": as_manager, "staff": as_staff}[role]
    assert http.get(settings_url(world)).status_code == 200
    assert http.post(settings_url(world), business_data()).status_code == 403
    assert Business.objects.get(pk=world.business.pk).name == "Bella Test Salon"


def test_manager_adds_a_team_member(as_manager, world):
    url = reverse("settings:team-create", kwargs={"business": world.business.slug})
    data = {"name": "Priya Shah", "job_title": "Colourist", "color": "#ec4899", "is_active": "on"}
    assert as_manager.post(url, data).status_code == 302
    with all_tenants():
        member = TeamMember.objects.get(name="Priya Shah")
    assert member.business == world.business


def test_staff_cannot_add_team_members(as_staff, world):
    url = reverse("settings:team-create", kwargs={"business": world.business.slug})
    assert as_staff.get(url).status_code == 403
    assert as_staff.post(url, {"name": "Mallory", "color": "#000000"}).status_code == 403
    with all_tenants():
        assert not TeamMember.objects.filter(name="Mallory").exists()
