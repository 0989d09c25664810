"""Feedback: recorded by staff, or left once by the client through a private link."""

import datetime

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from appointments.models import AppointmentStatus
from glamiti.tenancy import tenant_context
from sales.models import Feedback, FeedbackLink, FeedbackSource
from sales.services import FeedbackError, feedback_record, sale_void
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_appointments import AppointmentFactory
from tests.factories_sales import make_sale
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale(world):
    with tenant_context(world.business):
        client = ClientFactory(business=world.business, first_name="Maya")
        return make_sale(world.business, client=client)


def link_of(sale) -> FeedbackLink:
    with all_tenants():
        return FeedbackLink.objects.select_related("business").get(sale_id=sale.pk)


def public_url(link, slug=None) -> str:
    slug = slug or link.business.slug
    return reverse("public-feedback", kwargs={"salon": slug, "token": link.token})


def feedback_count() -> int:
    with all_tenants():
        return Feedback.objects.count()


def test_the_client_leaves_feedback_once_without_logging_in(client, sale):
    link = link_of(sale)
    page = client.get(public_url(link))
    assert page.status_code == 200
    assert b"How was your visit?" in page.content and b"Bella Test Salon" in page.content
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert b'type="radio" name="rating" value="5"' in page.content
    done = client.post(public_url(link), {"rating": "4", "comment": "Lovely cut"})
    assert done.status_code == 200 and b"Thank you!" in done.content
    with all_tenants():
        feedback = Feedback.objects.get()
        link.refresh_from_db()
    assert (feedback.rating, feedback.comment) == (4, "Lovely cut")
    assert feedback.source == FeedbackSource.CLIENT_LINK
    assert feedback.sale_id == sale.pk and feedback.client.first_name == "Maya"
    assert link.used_at is not None
    again = client.post(public_url(link), {"rating": "1", "comment": "Changed my mind"})
    assert again.status_code == 200
    assert b"already been left" in again.content
    assert feedback_count() == 1
    assert b"already been left" in client.get(public_url(link)).content


def test_a_rating_is_required_and_nothing_typed_is_lost(client, sale):
    link = link_of(sale)
    response = client.post(public_url(link), {"comment": "Kept text"})
    assert b"Choose a rating from 1 to 5 stars." in response.content
    assert b"Kept text" in response.content
    assert feedback_count() == 0
    response = client.post(public_url(link), {"rating": "9"})
    assert b"Select a valid choice" in response.content


def test_the_link_expires_after_30_days(client, sale):
    link = link_of(sale)
    with all_tenants():
        assert link.expires_at - link.created_at >= datetime.timedelta(days=29, hours=23)
        FeedbackLink.objects.filter(pk=link.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    page = client.get(public_url(link))
    assert page.status_code == 200 and b"This link has expired" in page.content
    post = client.post(public_url(link), {"rating": "5"})
    assert post.status_code == 200 and b"expired" in post.content
    assert feedback_count() == 0


def test_another_business_slug_gives_404(client, world, sale):
    link = link_of(sale)
    assert client.get(public_url(link, slug=world.other_business.slug)).status_code == 404
    assert client.post(public_url(link, slug="no-such-salon"), {"rating": "5"}).status_code == 404
    assert feedback_count() == 0


def test_an_unknown_token_gives_404(client, world, sale):
    url = reverse("public-feedback", kwargs={"salon": world.business.slug, "token": "nope" * 10})
    assert client.get(url).status_code == 404


def test_the_public_page_is_csrf_protected(sale):
    link = link_of(sale)
    strict = HttpClient(enforce_csrf_checks=True)
    assert strict.post(public_url(link), {"rating": "5"}).status_code == 403
    assert feedback_count() == 0


def test_a_voided_sale_link_no_longer_takes_feedback(client, world, sale):
    with tenant_context(world.business):
        sale_void(sale=sale, by=world.owner, reason="Mistake")
    link = link_of(sale)
    assert b"no longer active" in client.get(public_url(link)).content
    client.post(public_url(link), {"rating": "5"})
    assert feedback_count() == 0


# --- Recorded by staff ----------------------------------------------------------------------


def test_staff_record_feedback_on_the_receipt(as_staff, world, sale):
    with all_tenants():
        member = TeamMemberFactory(business=world.business, name="Zoe")
    url = reverse("sales:feedback", kwargs={"business": world.business.slug, "pk": sale.pk})
    response = as_staff.post(
        url, {"rating": "5", "comment": "Said so at the desk", "team_member": member.pk}
    )
    assert response.status_code == 302
    with all_tenants():
        feedback = Feedback.objects.get()
    assert feedback.source == FeedbackSource.STAFF
    assert feedback.created_by == world.staff and feedback.team_member == member
    receipt = as_staff.get(sale.get_absolute_url())
    assert b"Said so at the desk" in receipt.content and b"about Zoe" in receipt.content


def test_staff_feedback_errors_show_on_the_receipt(as_staff, world, sale):
    url = reverse("sales:feedback", kwargs={"business": world.business.slug, "pk": sale.pk})
    response = as_staff.post(url, {"comment": "No stars"})
    assert response.status_code == 200
    assert b"Choose a rating from 1 to 5 stars." in response.content
    assert b"No stars" in response.content
    assert feedback_count() == 0


def test_staff_feedback_url_is_post_only_and_tenant_checked(as_staff, as_outsider, world, sale):
    url = reverse("sales:feedback", kwargs={"business": world.business.slug, "pk": sale.pk})
    assert as_staff.get(url).status_code == 405
    assert as_outsider.post(url, {"rating": "5"}).status_code == 404


def test_feedback_on_a_completed_appointment(world):
    with tenant_context(world.business):
        appointment = AppointmentFactory(
            business=world.business, status=AppointmentStatus.COMPLETED
        )
        feedback = feedback_record(
            business=world.business,
            rating=3,
            comment=" ok ",
            appointment=appointment,
            source=FeedbackSource.STAFF,
        )
        assert feedback.client == appointment.client
        assert feedback.team_member == appointment.team_member
        assert feedback.comment == "ok"
        booked = AppointmentFactory(business=world.business)
        with pytest.raises(FeedbackError, match="completed appointment"):
            feedback_record(
                business=world.business, rating=3, comment="", appointment=booked, source="staff"
            )
        with pytest.raises(FeedbackError, match="1 to 5"):
            feedback_record(business=world.business, rating=6, comment="", appointment=appointment)


def test_receipt_shows_the_link_and_its_state(as_staff, world, sale):
    link = link_of(sale)
    page = as_staff.get(sale.get_absolute_url())
    assert public_url(link).encode() in page.content
    assert b"Not used yet" in page.content
    with all_tenants():
        FeedbackLink.objects.filter(pk=link.pk).update(used_at=timezone.now())
    assert b"Used " in as_staff.get(sale.get_absolute_url()).content
    with all_tenants():
        FeedbackLink.objects.filter(pk=link.pk).update(
            used_at=None, expires_at=timezone.now() - datetime.timedelta(days=1)
        )
    assert b"Expired" in as_staff.get(sale.get_absolute_url()).content


def test_the_token_is_not_a_number_anyone_could_guess(sale):
    link = link_of(sale)
    assert str(sale.pk) != link.token and len(link.token) >= 40
