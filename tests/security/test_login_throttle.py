"""Login throttling (django-axes): failures counted per identity and IP address together,
a lockout with a cool-off, and answers that never reveal whether an account exists."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client as HttpClient
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

LIMIT = 5
COOL_OFF = timedelta(minutes=15)
HOME_IP = "203.0.113.7"
OTHER_IP = "198.51.100.20"
LOCKED = b"Too many unsuccessful attempts to log in"
NO_MATCH = b"That username or e-mail and password don&#x27;t match"


@pytest.fixture(autouse=True)
def _throttling(settings):
    # Stated here, not taken from the environment, so the tests don't depend on it.
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = COOL_OFF


@pytest.fixture
def olivia(db):
    with all_tenants():
        return UserFactory(username="olivia", email="olivia@example.com")


def log_in(client, username, password="not-the-password", ip=HOME_IP, url=None):  # noqa: S107
    return client.post(
        url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def fail(client, username, times, ip=HOME_IP, url=None):
    responses = [log_in(client, username, ip=ip, url=url) for _ in range(times)]
    return responses[-1]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def comparable(response, *typed: str) -> str:
    """The page without what legitimately differs between two clients: CSRF tokens and the
    identifier the person typed (echoed back in the form)."""
    text = response.content.decode()
    text = re.sub(r"[A-Za-z0-9]{64}", "<token>", text)
    for value in typed:
        text = text.replace(f'value="{value}"', 'value="<typed>"')
    return text


def test_failures_below_the_limit_get_the_generic_error(client, olivia):
    for _ in range(LIMIT - 1):
        response = log_in(client, "olivia")
        assert response.status_code == 200
        assert NO_MATCH in response.content
        assert LOCKED not in response.content
    response = log_in(client, "olivia", PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_the_limit_locks_out_with_a_message_on_the_login_page(client, olivia):
    response = fail(client, "olivia", LIMIT)
    assert response.status_code == 429
    assert response["Retry-After"] == str(int(COOL_OFF.total_seconds()))
    page = response.content
    assert LOCKED in page and b"try again later" in page and b"15 minutes" in page
    assert NO_MATCH not in page
    # The login page itself, with its form, not a bare error page.
    assert b"Username or e-mail" in page and b'name="password"' in page
    assert b"Forgot your password?" in page

    # Even the right password is refused while locked out.
    response = log_in(client, "olivia", PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content
    assert not logged_in(client)


def test_unknown_user_and_wrong_password_get_the_same_answers(olivia):
    known, unknown = HttpClient(), HttpClient()
    for attempt in range(1, LIMIT + 2):
        a = log_in(known, "olivia")
        b = log_in(unknown, "nobody-by-this-name")
        assert a.status_code == b.status_code == (200 if attempt < LIMIT else 429)
        assert comparable(a, "olivia") == comparable(b, "nobody-by-this-name")
        assert a.get("Retry-After") == b.get("Retry-After")


@pytest.mark.parametrize(
    "variants",
    [
        ["olivia", "Olivia", "OLIVIA", "  olivia ", "oLiViA"],
        ["olivia@example.com", "Olivia@Example.com", " OLIVIA@EXAMPLE.COM"],
    ],
    ids=["username", "email"],
)
def test_case_and_spaces_count_as_one_identity(client, olivia, variants):
    for attempt in range(LIMIT):
        response = log_in(client, variants[attempt % len(variants)])
    assert response.status_code == 429
    response = log_in(client, variants[0].strip().lower(), PASSWORD)
    assert response.status_code == 429
    assert not logged_in(client)


def test_lockout_is_for_that_identity_from_that_address(olivia):
    with all_tenants():
        UserFactory(username="marco")
    attacker = HttpClient()
    assert fail(attacker, "olivia", LIMIT).status_code == 429

    # Olivia herself, from another address, still gets in.
    elsewhere = HttpClient()
    assert log_in(elsewhere, "olivia", PASSWORD, ip=OTHER_IP).status_code == 302
    # Someone else, from the locked-out address, too.
    colleague = HttpClient()
    assert log_in(colleague, "marco", PASSWORD, ip=HOME_IP).status_code == 302


def age_attempts(by: timedelta) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


def test_lockout_ends_after_the_cool_off(client, olivia):
    assert fail(client, "olivia", LIMIT).status_code == 429
    age_attempts(COOL_OFF - timedelta(minutes=1))
    assert log_in(client, "olivia", PASSWORD).status_code == 429

    age_attempts(timedelta(minutes=2))
    response = log_in(client, "olivia", PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_attempts_while_locked_out_do_not_extend_the_cool_off(client, olivia):
    assert fail(client, "olivia", LIMIT).status_code == 429
    age_attempts(COOL_OFF - timedelta(minutes=1))
    assert fail(client, "olivia", 3).status_code == 429
    age_attempts(timedelta(minutes=2))
    assert log_in(client, "olivia", PASSWORD).status_code == 302


def test_a_successful_login_resets_the_count(client, olivia):
    fail(client, "olivia", LIMIT - 1)
    assert log_in(client, "olivia", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert fail(client, "olivia", LIMIT - 1).status_code == 200
    assert log_in(client, "olivia").status_code == 429


def test_a_successful_login_by_email_resets_the_count_typed_as_email(client, olivia):
    fail(client, "Olivia@example.com", LIMIT - 1)
    assert log_in(client, "olivia@example.com", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert fail(client, "olivia@example.com", LIMIT - 1).status_code == 200


def test_admin_login_is_throttled_too(client, django_user_model):
    with all_tenants():
        django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    url = reverse("admin:login")
    for _ in range(LIMIT - 1):
        response = log_in(client, "root", url=url)
        assert response.status_code == 200
    response = log_in(client, "root", url=url)
    assert response.status_code == 429
    assert LOCKED in response.content
    # The admin's own login page, with its form.
    assert b'id="login-form"' in response.content
    response = log_in(client, "root", PASSWORD, url=url)
    assert response.status_code == 429
    assert not logged_in(client)


def test_admin_and_app_logins_share_the_count(client, olivia):
    fail(client, "olivia", LIMIT - 1)
    assert log_in(client, "olivia", url=reverse("admin:login")).status_code == 429
    assert log_in(client, "olivia", PASSWORD).status_code == 429


def test_the_login_page_still_opens_while_locked_out(client, olivia):
    fail(client, "olivia", LIMIT)
    response = client.get(reverse("login"), REMOTE_ADDR=HOME_IP)
    assert response.status_code == 200
    assert LOCKED not in response.content


@pytest.mark.parametrize(
    "data",
    [
        {"username": "x" * 2000, "password": "pw"},
        {"username": "olivia\x00", "password": "pw"},
        {"username": "olivia"},
        {"password": "pw"},
        {},
    ],
    ids=["too-long", "nul-byte", "no-password", "no-username", "empty"],
)
def test_bad_login_input_is_answered_without_an_error(client, olivia, data):
    for _ in range(LIMIT + 1):
        response = client.post(reverse("login"), data, REMOTE_ADDR=HOME_IP)
        assert response.status_code == 200
    # Malformed posts never reach authentication: they don't lock anyone out.
    assert log_in(client, "olivia", PASSWORD).status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(client, olivia):
    for n in range(LIMIT):
        response = client.post(
            reverse("login"),
            {"username": "olivia", "password": "not-the-password"},
            REMOTE_ADDR=HOME_IP,
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, olivia, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"

    def via_proxy(client_address, password="not-the-password"):  # noqa: S107
        return client.post(
            reverse("login"),
            {"username": "olivia", "password": password},
            REMOTE_ADDR=proxy,
            # The client may send its own (forged) entries first; the proxy appends the real one.
            HTTP_X_FORWARDED_FOR=f"1.2.3.4, {client_address}",
        )

    for _ in range(LIMIT):
        response = via_proxy(HOME_IP)
    assert response.status_code == 429
    assert via_proxy(OTHER_IP, PASSWORD).status_code == 302


def test_a_lockout_without_a_login_page_to_reuse_shows_ours(rf):
    # Axes answers any locked-out authenticate() through the middleware; a view other than a
    # login view (none today) would get our login page rather than its own response.
    from glamiti.auth import lockout_response

    request = rf.post("/somewhere/", {"username": "olivia", "next": "/bella/"})
    response = lockout_response(request, None, {"username": "olivia"})
    assert response.status_code == 429
    assert LOCKED in response.content
    assert b'name="next" value="/bella/"' in response.content
