import pytest
from django.core.management import call_command

from clients.models import Client
from glamiti.models import Business, Membership, TeamMember
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    with all_tenants():
        return {
            "businesses": sorted(Business.objects.values_list("slug", flat=True)),
            "memberships": Membership.objects.count(),
            "team": TeamMember.objects.count(),
            "clients": sorted(
                Client.objects.values_list("business__slug", "first_name", "last_name", "email")
            ),
        }


def test_seed_demo_is_idempotent_and_deterministic(django_user_model):
    call_command("seed_demo", "--history-days=10", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = snapshot()
    call_command("seed_demo", "--history-days=10", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert snapshot() == first
    assert first["businesses"] == ["bella", "northside"]
    assert len(first["clients"]) == 480
    assert django_user_model.objects.filter(username="olivia").get().check_password("glamiti-demo")


def test_demo_owner_logs_in_and_lands_on_the_business(client):
    call_command("seed_demo", "--history-days=10", stdout=open("/dev/null", "w"))  # noqa: SIM115
    response = client.post(
        "/accounts/login/", {"username": "olivia", "password": "glamiti-demo"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/bella/clients/"
    assert b"clients" in response.content


def test_seed_demo_history_has_every_kind_of_record():
    call_command("seed_demo", "--history-days=20", stdout=open("/dev/null", "w"))  # noqa: SIM115
    from appointments.models import Appointment
    from sales.models import Sale, TipAllocation
    from vouchers.models import Voucher

    with all_tenants():
        statuses = set(Appointment.objects.values_list("status", flat=True))
        assert {"booked", "completed"} <= statuses
        assert Sale.objects.filter(status="completed").exists()
        assert Sale.objects.filter(status="voided").exists()
        assert TipAllocation.objects.exists()
        voucher_statuses = {v.status for v in Voucher.objects.all()}
        assert {"active", "expired"} <= voucher_statuses
