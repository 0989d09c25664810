"""Forms take only the fields they declare: a posted `business`, `id`, `role`, `total`,
`balance`, `created_at`... is ignored by the client, service, product, checkout, voucher,
settings, team, note, list and feedback forms."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Service
from clients.models import Client, ClientNote, ReferralSource, Tag
from glamiti.models import Business, Membership, Role, TeamMember
from sales.models import Feedback, FeedbackSource, Product, Sale, SaleStatus
from tests.conftest import logged_in
from tests.rls import all_tenants
from tests.security.input_support import build_site
from vouchers.models import Voucher

LONG_AGO = "2001-02-03T04:05:06Z"


@pytest.fixture
def site(world):
    return build_site(world)


@pytest.fixture
def extras(world, site) -> dict:
    """What an attacker adds to any form: another business, other rows, money, dates."""
    with all_tenants():
        other_note = ClientNote.objects.create(
            business=world.other_business, client=site.other_client, text="Theirs"
        )
    return {
        "business": world.other_business.pk,
        "business_id": world.other_business.pk,
        "id": site.duplicate.pk,
        "pk": site.duplicate.pk,
        "created_at": LONG_AGO,
        "updated_at": LONG_AGO,
        "created_by": world.other_owner.pk,
        "user": world.other_owner.pk,
        "role": Role.OWNER,
        "price": "0.01",
        "amount": "9999",
        "total": "0.01",
        "subtotal": "0.01",
        "balance": "9999",
        "original_value": "9999",
        "total_spend": "9999",
        "tip_total": "9999",
        "status": "voided",
        "code": "MINE-MINE-MINE",
        "slug": "hijacked",
        "client": site.other_client.pk,
        "sale": site.sale.pk,
        "note": other_note.pk,
        "source": FeedbackSource.CLIENT_LINK,
        "is_pinned": "on",
        "archived_at": LONG_AGO,
        "merged_into": site.duplicate.pk,
        "external_id": "X-1",
        "search_text": "hijacked",
        "last_visit_at": LONG_AGO,
        "purchaser": site.client.pk,
        "issued_on": "2001-02-03",
    }


def url(world, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"business": world.business.slug, **kwargs})


def recent(when: datetime.datetime) -> bool:
    return timezone.now() - when < datetime.timedelta(minutes=5)


def test_client_forms_ignore_undeclared_fields(world, site, extras):
    http = logged_in(world.owner)
    data = {**extras, "first_name": "Mallory", "email": "mallory@example.com"}
    data.pop("client")
    response = http.post(url(world, "clients:create"), data)
    assert response.status_code == 302
    with all_tenants():
        created = Client.objects.get(first_name="Mallory")
        duplicate = Client.objects.get(pk=site.duplicate.pk)
    assert created.business_id == world.business.pk and created.pk != site.duplicate.pk
    assert recent(created.created_at) and created.created_by_id == world.owner.pk
    assert created.total_spend == 0 and created.last_visit_at is None
    assert created.archived_at is None and created.merged_into_id is None
    assert created.external_id == "" and created.search_text != "hijacked"
    assert duplicate.first_name != "Mallory"

    response = http.post(url(world, "clients:edit", pk=created.pk), {**data, "first_name": "Mal"})
    assert response.status_code == 302
    with all_tenants():
        created.refresh_from_db()
        assert Client.objects.get(pk=site.duplicate.pk).first_name == duplicate.first_name
    assert created.first_name == "Mal" and created.business_id == world.business.pk
    assert created.archived_at is None and created.total_spend == 0


def test_service_and_product_forms_ignore_undeclared_fields(world, site, extras):
    http = logged_in(world.owner)
    data = {**extras, "name": "Sneaky", "duration_minutes": "30", "price": "10.00"}
    assert http.post(url(world, "appointments:service-create"), data).status_code == 302
    data = {**extras, "name": "Sneaky wax", "sku": "SNK", "price": "5.00", "is_active": "on"}
    assert http.post(url(world, "sales:product-create"), data).status_code == 302
    edit = {**extras, "name": "Renamed", "duration_minutes": "30", "price": "11.00"}
    response = http.post(url(world, "appointments:service-edit", pk=site.service.pk), edit)
    assert response.status_code == 302
    with all_tenants():
        service = Service.objects.get(name="Sneaky")
        product = Product.objects.get(name="Sneaky wax")
        assert service.business_id == product.business_id == world.business.pk
        assert recent(service.created_at) and recent(product.created_at)
        assert Service.objects.get(pk=site.service.pk).name == "Renamed"
        assert not Service.objects.filter(business=world.other_business).exists()


def test_checkout_computes_its_own_totals(world, site, extras):
    http = logged_in(world.staff)
    product = site.product
    data = {
        **extras,
        "idempotency_key": str(uuid.uuid4()),
        "client": site.client.pk,
        "appointment": "",
        "tip": "",
        "note": "Sneaky",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
        "items-0-item": f"product:{product.pk}",
        "items-0-quantity": "1",
        "items-0-total": "0.01",
        "payments-TOTAL_FORMS": "1",
        "payments-INITIAL_FORMS": "0",
        "payments-MIN_NUM_FORMS": "0",
        "payments-MAX_NUM_FORMS": "50",
        "payments-0-method": "cash",
        "payments-0-amount": str(product.price),
        "tips-TOTAL_FORMS": "0",
        "tips-INITIAL_FORMS": "0",
        "tips-MIN_NUM_FORMS": "0",
        "tips-MAX_NUM_FORMS": "50",
    }
    response = http.post(url(world, "sales:checkout"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with all_tenants():
        sale = Sale.objects.get(note="Sneaky")
        items = list(sale.items.values_list("total", flat=True))
    assert sale.business_id == world.business.pk and sale.client_id == site.client.pk
    assert sale.status == SaleStatus.COMPLETED and recent(sale.created_at)
    assert sale.total == sale.subtotal == product.price and items == [product.price]
    assert sale.tip_total == 0 and sale.created_by_id == world.staff.pk


def test_voucher_forms_ignore_undeclared_fields(world, site, extras):
    http = logged_in(world.owner)
    data = {**extras, "value": "25.00", "recipient": "", "recipient_name": "Gift", "note": "Hi"}
    assert http.post(url(world, "vouchers:issue"), data).status_code == 302
    with all_tenants():
        voucher = Voucher.objects.get(recipient_name="Gift")
    assert voucher.business_id == world.business.pk
    assert voucher.original_value == voucher.balance == Decimal("25.00")
    assert voucher.code != "MINE-MINE-MINE" and voucher.purchaser_id is None
    assert voucher.issued_on == timezone.localdate() and voucher.created_by_id == world.owner.pk

    before = site.voucher.balance
    data = {**extras, "amount": "-5.00", "note": "Paper voucher"}
    response = http.post(url(world, "vouchers:adjust", pk=site.voucher.pk), data)
    assert response.status_code == 302
    with all_tenants():
        site.voucher.refresh_from_db()
    assert site.voucher.balance == before - Decimal("5.00")
    assert site.voucher.original_value == before


def test_settings_forms_ignore_undeclared_fields(world, site, extras):
    http = logged_in(world.owner)
    data = {
        **extras,
        "id": world.other_business.pk,
        "name": "Renamed Salon",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "locale": "en-GB",
        "no_show_fee": "0",
    }
    assert http.post(url(world, "settings:index"), data).status_code == 302
    with all_tenants():
        business = Business.objects.get(pk=world.business.pk)
        other = Business.objects.get(pk=world.other_business.pk)
    assert business.name == "Renamed Salon" and business.slug == world.business.slug
    assert business.created_at == world.business.created_at
    assert other.name == world.other_business.name and other.slug == world.other_business.slug


def test_team_forms_ignore_undeclared_fields_and_roles(world, site, extras):
    http = logged_in(world.manager)
    data = {**extras, "name": "New Stylist", "color": "#123456", "is_active": "on"}
    data["user"] = world.manager.pk
    assert http.post(url(world, "settings:team-create"), data).status_code == 302
    edit = {**data, "name": "Sam Renamed"}
    response = http.post(url(world, "settings:team-edit", pk=site.team_member.pk), edit)
    assert response.status_code == 302
    with all_tenants():
        created = TeamMember.objects.get(name="New Stylist")
        edited = TeamMember.objects.get(pk=site.team_member.pk)
        role = Membership.objects.get(user=world.manager, business=world.business).role
        assert not TeamMember.objects.filter(business=world.other_business).exists()
    assert created.business_id == world.business.pk and created.user_id is None
    assert edited.name == "Sam Renamed" and edited.user_id is None
    assert role == Role.MANAGER
    # Only owners change settings: a manager posting `role` gets a refusal, not a promotion.
    response = http.post(url(world, "settings:index"), {**data, "name": "Mine"})
    assert response.status_code == 403
    with all_tenants():
        assert Membership.objects.get(user=world.manager, business=world.business).role == "manager"


def test_note_and_list_forms_ignore_undeclared_fields(world, site, extras):
    http = logged_in(world.staff)
    data = {**extras, "note-kind": "internal", "note-text": "Sneaky note"}
    response = http.post(url(world, "profile:note-add", pk=site.client.pk), data)
    assert response.status_code == 302
    with all_tenants():
        note = ClientNote.objects.get(text="Sneaky note")
    assert note.client_id == site.client.pk and note.business_id == world.business.pk
    assert note.created_by_id == world.staff.pk and not note.is_pinned

    http = logged_in(world.owner)
    for kind in ("tag", "source"):
        data = {
            **extras,
            "kind": kind,
            f"{kind}-name": f"Sneaky {kind}",
            f"{kind}-color": "#000000",
        }
        assert http.post(url(world, "clients:lists"), data).status_code == 302
    with all_tenants():
        assert Tag.objects.get(name="Sneaky tag").business_id == world.business.pk
        source = ReferralSource.objects.get(name="Sneaky source")
        assert source.business_id == world.business.pk


def test_feedback_forms_ignore_undeclared_fields(world, site, extras):
    from tests.factories_sales import make_sale

    with all_tenants():
        sale = make_sale(world.business, client=site.client)
    http = logged_in(world.staff)
    data = {**extras, "rating": "2", "comment": "Staff wrote this", "team_member": ""}
    response = http.post(url(world, "sales:feedback", pk=sale.pk), data)
    assert response.status_code == 302
    with all_tenants():
        staff_feedback = Feedback.objects.get(comment="Staff wrote this")
    assert staff_feedback.sale_id == sale.pk and staff_feedback.client_id == site.client.pk
    assert staff_feedback.source == FeedbackSource.STAFF
    assert staff_feedback.business_id == world.business.pk
    assert staff_feedback.created_by_id == world.staff.pk

    from django.test import Client as HttpClient

    public = reverse(
        "public-feedback", kwargs={"salon": world.business.slug, "token": site.link.token}
    )
    data = {**extras, "rating": "5", "comment": "Client wrote this", "source": "staff"}
    assert HttpClient().post(public, data).status_code == 200
    with all_tenants():
        left = Feedback.objects.get(comment="Client wrote this")
    assert left.sale_id == site.sale.pk and left.business_id == world.business.pk
    assert left.source == FeedbackSource.CLIENT_LINK and left.created_by_id is None
    assert left.client_id == site.client.pk
