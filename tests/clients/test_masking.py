"""Contact masking: with the business setting on, staff see "Jane Z.", `jo••@••••.uk` and
"•••• 7788" wherever a client is shown; owners and managers see everything; search by phone
and e-mail still works for staff."""

from __future__ import annotations

import datetime
import html
import json
import re
import zoneinfo
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from clients import masking
from clients.models import Client
from glamiti.models import Business
from glamiti.tenancy import tenant_context
from sales.models import CardSetup, Sale
from tests.conftest_stripe import localstripe, stripe_settings  # noqa: F401 (fixtures)
from tests.factories import ClientFactory, TeamMemberFactory
from tests.factories_profile import make_appointment, make_card, make_feedback, make_note, make_sale
from tests.factories_vouchers import make_voucher
from tests.rls import all_tenants

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
LONDON = zoneinfo.ZoneInfo("Europe/London")

# What staff must never see of the clients below, and what they see instead.
SECRETS = (
    "Zebedee",  # Jane's last name
    "jonquil",  # her e-mail's local part
    "hiddenmail",  # and its domain
    "247788",  # her mobile (+44 7911 247788)
    "7911 24",
    "120099",  # her other phone (+44 7911 120099)
    "7911 12",
    "Marchbanks",  # Oona, who referred her and received her voucher
    "oona.m",
    "Thistlewood",  # the voucher recipient named only in free text
)
JANE = "Jane Z."
JANE_EMAIL = "jo••@••••.uk"
JANE_MOBILE = "•••• 7788"
JANE_OTHER = "•••• 0099"
OONA = "Oona M."


@dataclass
class Scene:
    business: Business
    jane: Client
    oona: Client
    booked: Appointment
    no_show: Appointment
    sale: Sale
    setup: CardSetup
    vouchers: list


@pytest.fixture
def scene(world, settings) -> Scene:
    settings.STRIPE_SECRET_KEY = ""  # the card page says cards aren't set up, without Stripe
    settings.STRIPE_PUBLISHABLE_KEY = ""
    business = world.business
    today = timezone.localdate(timezone=LONDON)
    ten = datetime.datetime.combine(today, datetime.time(10), tzinfo=LONDON)
    with all_tenants():
        business.mask_contacts_from_staff = True
        business.save(update_fields=["mask_contacts_from_staff"])
        member = TeamMemberFactory(business=business, name="Priya Shah")
        oona = ClientFactory(
            business=business,
            first_name="Oona",
            last_name="Marchbanks",
            email="oona.marchbanks@example.net",
        )
        jane = ClientFactory(
            business=business,
            first_name="Jane",
            last_name="Zebedee",
            email="jonquil.private@hiddenmail.co.uk",
            mobile_phone="+447911247788",
            other_phone="+447911120099",
            referred_by=oona,
            alert="Allergic to latex",
        )
        booked = make_appointment(jane, member, ten, status=AppointmentStatus.BOOKED)
        no_show = make_appointment(
            jane, member, ten - datetime.timedelta(days=1), status=AppointmentStatus.NO_SHOW
        )
        done = make_appointment(jane, member, ten - datetime.timedelta(days=7))
        sale = make_sale(
            jane,
            ten - datetime.timedelta(days=7),
            services="40",
            tip="5",
            tips=[(member, "5")],
            appointment=done,
        )
        make_feedback(jane, rating=5, comment="Lovely", sale=sale, member=member)
        make_note(jane, text="Prefers mornings", pinned=True)
        make_card(jane, last4="4242", default=True)
        vouchers = [
            make_voucher(business, "50", purchaser=jane, recipient=oona),
            make_voucher(business, "30", purchaser=jane, recipient_name="Percy Thistlewood"),
        ]
        setup = CardSetup.objects.create(business=business, client=jane)
    return Scene(business, jane, oona, booked, no_show, sale, setup, vouchers)


def url(scene: Scene, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"business": scene.business.slug, **kwargs})


def everything(response) -> str:
    """The body and every header, unescaped, as one text to search."""
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    body = response.content.decode()
    return html.unescape(f"{headers}\n{body}")


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret.lower() in text.lower()]


def pages(scene: Scene) -> list[tuple[str, str, dict, tuple[str, ...]]]:
    """(what, URL, headers, masked forms it must show) for every page showing a client."""
    jane, day = scene.jane.pk, timezone.localdate(timezone=LONDON).isoformat()
    profile = [(f"profile {tab}", url(scene, f"profile:{tab}", pk=jane), {}, (JANE,)) for tab in (
        "history", "appointments", "sales", "notes", "feedback", "tips", "cards", "vouchers"
    )]  # fmt: skip
    fragments = [(f"{what} (htmx)", link, HTMX, ()) for what, link, _, _ in profile]
    return [
        ("client list", url(scene, "clients:list"), {}, (JANE, JANE_EMAIL, JANE_MOBILE)),
        ("list search", url(scene, "clients:list") + "?q=Jane", HTMX, (JANE, JANE_EMAIL)),
        ("picker", url(scene, "clients:picker") + "?q=Jane", {}, (JANE, JANE_MOBILE, JANE_EMAIL)),
        ("picker, oona", url(scene, "clients:picker") + "?q=Oona", {}, (OONA,)),
        ("profile", url(scene, "clients:detail", pk=jane), {}, (JANE, JANE_EMAIL, JANE_MOBILE)),
        ("profile, other phone", url(scene, "clients:detail", pk=jane), {}, (JANE_OTHER, OONA)),
        ("referrer's profile", url(scene, "clients:detail", pk=scene.oona.pk), {}, (OONA,)),
        *profile,
        *fragments,
        ("calendar", url(scene, "appointments:calendar") + f"?date={day}", {}, (JANE,)),
        (
            "appointment",
            url(scene, "appointments:detail", pk=scene.booked.pk),
            {},
            (JANE, JANE_MOBILE),
        ),
        ("reschedule", url(scene, "appointments:reschedule", pk=scene.booked.pk), {}, (JANE,)),
        ("no-show", url(scene, "appointments:detail", pk=scene.no_show.pk), {}, (JANE,)),
        (
            "no-show fee",
            url(scene, "sales:no-show-fee", appointment_pk=scene.no_show.pk),
            {},
            (JANE,),
        ),
        ("book for", url(scene, "appointments:book") + f"?client={jane}", {}, (JANE,)),
        (
            "book dialog",
            url(scene, "appointments:book") + f"?client={jane}&dialog=1",
            HTMX,
            (JANE,),
        ),
        (
            "checkout",
            url(scene, "sales:checkout") + f"?appointment={scene.booked.pk}",
            {},
            (JANE,),
        ),
        ("checkout for", url(scene, "sales:checkout") + f"?client={jane}", {}, (JANE,)),
        ("sales", url(scene, "sales:list"), {}, (JANE,)),
        ("receipt", url(scene, "sales:detail", pk=scene.sale.pk), {}, (JANE,)),
        ("vouchers", url(scene, "vouchers:list"), {}, (JANE, OONA, "Percy T.")),
        ("voucher search", url(scene, "vouchers:list") + "?q=Jane", HTMX, (JANE,)),
        (
            "voucher",
            url(scene, "vouchers:detail", pk=scene.vouchers[0].pk),
            {},
            (JANE, OONA),
        ),
        (
            "voucher for a name",
            url(scene, "vouchers:detail", pk=scene.vouchers[1].pk),
            {},
            (JANE, "Percy T."),
        ),
        (
            "card page",
            url(scene, "profile:card-setup", pk=jane, setup_pk=scene.setup.pk),
            {},
            (JANE,),
        ),
        ("edit form", url(scene, "clients:edit", pk=jane), {}, (JANE,)),
        ("edit dialog", url(scene, "clients:edit", pk=jane) + "?dialog=1", HTMX, (JANE,)),
    ]


def test_staff_see_masked_contacts_on_every_page_that_shows_a_client(as_staff, scene):
    problems = []
    for what, link, headers, shown in pages(scene):
        response = as_staff.get(link, **headers)
        if response.status_code != 200:
            problems.append(f"{what}: status {response.status_code}")
            continue
        text = everything(response)
        if found := leaks(text):
            problems.append(f"{what} shows {found}")
        if missing := [form for form in shown if form not in text]:
            problems.append(f"{what} lacks {missing}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("who", ["as_owner", "as_manager"])
def test_owners_and_managers_see_everything(request, who, scene):
    http = request.getfixturevalue(who)
    for what, link, headers, _ in pages(scene):
        response = http.get(link, **headers)
        assert response.status_code == 200, what
        text = everything(response)
        assert JANE not in text, what
    profile = everything(http.get(url(scene, "clients:detail", pk=scene.jane.pk)))
    for full in ("Jane Zebedee", "jonquil.private@hiddenmail.co.uk", "07911 247788"):
        assert full in profile
    assert "07911 120099" in profile and "Oona Marchbanks" in profile
    assert 'href="tel:+447911247788"' in profile


def test_with_masking_off_staff_see_everything(as_staff, scene):
    with all_tenants():
        Business.objects.filter(pk=scene.business.pk).update(mask_contacts_from_staff=False)
    listing = everything(as_staff.get(url(scene, "clients:list")))
    assert "Jane Zebedee" in listing and "jonquil.private@hiddenmail.co.uk" in listing
    profile = everything(as_staff.get(url(scene, "clients:detail", pk=scene.jane.pk)))
    assert "07911 247788" in profile and "mailto:jonquil.private@hiddenmail.co.uk" in profile
    assert "•" not in profile


@pytest.mark.parametrize("term", ["07911 247788", "+44 7911 247788", "247788", "jonquil"])
def test_staff_still_find_a_client_by_phone_or_email_and_see_it_masked(as_staff, scene, term):
    for link, headers in [
        (url(scene, "clients:list"), HTMX),
        (url(scene, "clients:picker"), {}),
    ]:
        response = as_staff.get(link, {"q": term}, **headers)
        text = everything(response)
        assert JANE in text, (link, term)
        # Only what the staff member typed comes back (in the search box), nothing more.
        assert not [s for s in leaks(text) if s.lower() not in term.lower()], (link, term)
        assert "Zebedee" not in text


def test_profile_has_no_call_or_mail_links_for_masked_staff(as_staff, scene):
    body = as_staff.get(url(scene, "clients:detail", pk=scene.jane.pk)).content.decode()
    assert "tel:" not in body and "mailto:" not in body
    assert 'alt="Photo of' not in body or f'alt="Photo of {JANE}"' in body


def test_the_card_page_does_not_prefill_the_cardholder_name_for_masked_staff(
    request, as_staff, as_owner, scene
):
    request.getfixturevalue("stripe_settings")  # localstripe, after the scene cleared the keys
    link = url(scene, "profile:card-add", pk=scene.jane.pk)
    staff_page = as_staff.post(link, follow=True)
    text = everything(staff_page)
    assert "data-cardholder-name" in text and 'data-cardholder-name value=""' in text
    assert f"Add a card for {JANE}" in text and not leaks(text)
    owner_page = everything(as_owner.post(link, follow=True))
    assert 'data-cardholder-name value="Jane Zebedee"' in owner_page


# --- The client form ---------------------------------------------------------------------


def form_data(**overrides) -> dict:
    return {"first_name": "Jane", "last_name": "", "email": "", "mobile_phone": ""} | overrides


def stored(scene: Scene) -> Client:
    with tenant_context(scene.business):
        return Client.objects.get(pk=scene.jane.pk)


def test_staff_edit_form_hides_the_stored_values_and_shows_their_masks(as_staff, scene):
    body = as_staff.get(url(scene, "clients:edit", pk=scene.jane.pk)).content.decode()
    assert not leaks(html.unescape(body))
    for name, mask in [
        ("last_name", "Z."),
        ("email", JANE_EMAIL),
        ("mobile_phone", JANE_MOBILE),
        ("other_phone", JANE_OTHER),
    ]:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', body).group(0)
        assert 'value="' not in tag, tag
        assert f'placeholder="{mask}"' in tag
    assert "Leave it empty to keep it" in body


def test_staff_saving_the_form_untouched_keeps_the_hidden_values(as_staff, scene):
    data = form_data(other_phone="", alert="Allergic to nuts", dialog="1")
    response = as_staff.post(url(scene, "clients:edit", pk=scene.jane.pk), data, **HTMX)
    assert response.status_code == 200
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["clientSaved"]["name"] == JANE
    assert not leaks(response["HX-Trigger"])
    jane = stored(scene)
    assert jane.alert == "Allergic to nuts"
    assert (jane.last_name, jane.email) == ("Zebedee", "jonquil.private@hiddenmail.co.uk")
    assert (jane.mobile_phone, jane.other_phone) == ("+447911247788", "+447911120099")


def test_staff_may_replace_a_hidden_value_by_typing_a_new_one(as_staff, scene):
    data = form_data(email="Jane.New@Example.com", mobile_phone="07911 120055")
    response = as_staff.post(url(scene, "clients:edit", pk=scene.jane.pk), data, follow=True)
    assert response.status_code == 200
    jane = stored(scene)
    assert (jane.email, jane.mobile_phone) == ("jane.new@example.com", "+447911120055")
    assert (jane.last_name, jane.other_phone) == ("Zebedee", "+447911120099")
    text = everything(response)
    assert "Jane Z. saved." in text and not leaks(text)


def test_a_refused_edit_does_not_show_the_hidden_values_either(as_staff, scene):
    data = form_data(email="not-an-address")
    response = as_staff.post(url(scene, "clients:edit", pk=scene.jane.pk), data)
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert not leaks(everything(response))
    assert stored(scene).email == "jonquil.private@hiddenmail.co.uk"


def test_owners_edit_form_shows_the_values(as_owner, scene):
    body = as_owner.get(url(scene, "clients:edit", pk=scene.jane.pk)).content.decode()
    assert 'value="jonquil.private@hiddenmail.co.uk"' in body
    assert 'value="Zebedee"' in body and "Leave it empty to keep it" not in body


def test_duplicate_warning_shows_the_existing_client_masked(as_staff, scene):
    data = form_data(first_name="Jon", last_name="Other", email="jonquil.private@hiddenmail.co.uk")
    response = as_staff.post(url(scene, "clients:create"), data)
    body = html.unescape(response.content.decode())
    warning = re.search(r'<div class="alert alert-warning duplicate-warning".*?</div>', body, re.S)
    assert warning, "no duplicate warning"
    assert JANE in warning.group(0) and JANE_EMAIL in warning.group(0)
    assert JANE_MOBILE in warning.group(0)
    assert not leaks(warning.group(0))
    assert "Zebedee" not in body and "247788" not in body


def test_a_client_added_in_the_dialog_is_announced_masked(as_staff, scene):
    data = form_data(last_name="Vexillary", email="marta@vex.example", dialog="1")
    data["first_name"] = "Marta"
    response = as_staff.post(url(scene, "clients:create"), data, **HTMX)
    assert json.loads(response["HX-Trigger"])["clientSaved"]["name"] == "Marta V."


def test_messages_name_the_client_masked(as_staff, scene):
    archive = as_staff.post(url(scene, "clients:archive", pk=scene.jane.pk), follow=True)
    assert "Jane Z. archived." in html.unescape(archive.content.decode())
    restore = as_staff.post(url(scene, "clients:restore", pk=scene.jane.pk), follow=True)
    text = everything(restore)
    assert "Jane Z. restored." in text and not leaks(text)


def test_booking_errors_name_the_client_masked(as_staff, scene):
    with all_tenants():
        Client.objects.filter(pk=scene.oona.pk).update(is_blocked=True, blocked_reason="Rude")
        service = scene.booked.services.first().service
    data = {
        "client": scene.oona.pk,
        "team_member": scene.booked.team_member_id,
        "date": (timezone.localdate(timezone=LONDON) + datetime.timedelta(days=2)).isoformat(),
        "start_time": "11:00",
        "services": [service.pk],
    }
    response = as_staff.post(url(scene, "appointments:book"), data)
    text = everything(response)
    assert "Oona M. is blocked from booking" in text
    assert not leaks(text)


# --- The setting -------------------------------------------------------------------------


def test_owner_turns_masking_on_in_settings(as_owner, as_staff, world):
    link = reverse("settings:index", kwargs={"business": world.business.slug})
    page = as_owner.get(link).content.decode()
    assert "Hide client contact details from staff" in page
    data = {
        "name": world.business.name,
        "time_zone": "Europe/London",
        "currency": "GBP",
        "country": "GB",
        "locale": "en-GB",
        "no_show_fee": "0",
        "mask_contacts_from_staff": "on",
    }
    assert as_owner.post(link, data).status_code == 302
    world.business.refresh_from_db()
    assert world.business.mask_contacts_from_staff is True
    assert as_staff.post(link, {**data, "mask_contacts_from_staff": ""}).status_code == 403
    world.business.refresh_from_db()
    assert world.business.mask_contacts_from_staff is True


# --- The masks themselves ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "mask"),
    [
        ("joanna@example.com", "jo••@••••.com"),
        ("jane@mail.co.uk", "ja••@••••.uk"),
        ("a@b.io", "a••@••••.io"),
        ("x@localhost", "x••@••••"),
        ("", ""),
    ],
)
def test_masked_email(email, mask):
    assert masking.masked_email(email) == mask


@pytest.mark.parametrize(
    ("phone", "mask"),
    [("+447911123456", "•••• 3456"), ("+353 85 123 4567", "•••• 4567"), ("12", "••••"), ("", "")],
)
def test_masked_phone(phone, mask):
    assert masking.masked_phone(phone) == mask


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [("Jane", "Doe", "Jane D."), ("Jane", "", "Jane"), ("Mary Ann", "van Dijk", "Mary Ann V.")],
)
def test_masked_name(first, last, shown):
    assert masking.masked_name(first, last) == shown
