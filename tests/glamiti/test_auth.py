import pytest
from django.core import mail
from django.http import HttpRequest
from django.urls import reverse

from glamiti.models import Role
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Username or e-mail" in response.content


@pytest.mark.parametrize("identifier", ["username", "email", "EMAIL"])
def test_login_with_username_or_email_lands_on_the_business(client, world, identifier):
    user = world.owner
    login = {"username": user.username, "email": user.email, "EMAIL": user.email.upper()}
    response = client.post(
        reverse("login"), {"username": login[identifier], "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/{world.business.slug}/clients/"
    assert response.status_code == 200


def test_wrong_password_gets_a_clear_message(client, world):
    response = client.post(reverse("login"), {"username": world.owner.username, "password": "no"})
    assert response.status_code == 200
    assert b"don&#x27;t match" in response.content


def test_user_with_several_businesses_lands_on_the_last_one_used(client, world):
    MembershipFactory(user=world.owner, business=world.other_business, role=Role.MANAGER)
    client.force_login(world.owner)
    client.get(f"/{world.other_business.slug}/clients/")
    response = client.get(reverse("home"))
    assert response.url == f"/{world.other_business.slug}/"
    page = client.get(f"/{world.other_business.slug}/clients/")
    # The switcher offers both businesses.
    assert world.business.name.encode() in page.content
    assert world.other_business.name.encode() in page.content


def test_user_without_business_is_told_so(client, world):
    client.force_login(world.outsider)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"not part of a business" in response.content


def test_logout_is_a_post(client, world):
    client.force_login(world.staff)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(f"/{world.business.slug}/clients/").status_code == 302


def test_password_reset_sends_a_working_link(client, world):
    response = client.post(reverse("password_reset"), {"email": world.staff.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get("/" + path, follow=True)
    assert form_page.status_code == 200
    new = "a-brand-new-passphrase-42"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done.status_code == 302
    # django-axes (login throttling) needs the request that carries the attempt.
    assert client.login(request=HttpRequest(), username=world.staff.username, password=new)


def test_password_change(client, world):
    client.force_login(world.staff)
    new = "another-fresh-passphrase-7"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    world.staff.refresh_from_db()
    assert world.staff.check_password(new)
