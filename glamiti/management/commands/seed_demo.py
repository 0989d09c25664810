"""Create the demo salons: deterministic, and safe to run again (it only adds what is missing)."""

import random
import unicodedata
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from clients.consent import CHANNELS as CONSENT_CHANNELS
from clients.consent import Answer, consent_record_bulk
from clients.models import Client, ClientTag
from glamiti.models import Business, Membership, Role, TeamMember
from glamiti.tenancy import tenant_context
from sales.demo import seed_history

DEMO_PASSWORD = "glamiti-demo"  # noqa: S105 - printed for the demo on purpose

FIRST_NAMES = [
    "Amelia", "Olivia", "Isla", "Ava", "Mia", "Grace", "Sophie", "Chloe", "Emily", "Lily",
    "Freya", "Ella", "Evie", "Poppy", "Ruby", "Harper", "Zara", "Leah", "Hannah", "Niamh",
    "Aisling", "Ciara", "Saoirse", "Priya", "Aaliyah", "Maya", "Yasmin", "Layla", "Nora",
    "Jack", "Oliver", "Noah", "Leo", "Harry", "George", "Oscar", "Liam", "Ethan", "Adam",
    "Cian", "Darragh", "Rohan", "Tomás", "Mateo", "Lucas", "Kai", "Finn", "Omar", "Sebastian",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson", "Thomas",
    "Roberts", "Johnson", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes",
    "Edwards", "Green", "Hall", "Murphy", "Kelly", "O'Sullivan", "Byrne", "Ryan", "O'Brien",
    "Walsh", "Patel", "Khan", "Nowak", "García", "Rossi", "Müller", "Dubois", "Okafor", "Chen",
]  # fmt: skip


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    roles: dict[str, str]  # business slug → role


@dataclass(frozen=True)
class DemoBusiness:
    slug: str
    name: str
    time_zone: str
    currency: str
    country: str
    locale: str
    team: tuple[tuple[str, str, str, str | None], ...]  # name, job title, colour, username
    client_count: int
    phone_prefix: str


DEMO_BUSINESSES = [
    DemoBusiness(
        slug="bella",
        name="Bella Hair & Beauty",
        time_zone="Europe/London",
        currency="GBP",
        country="GB",
        locale="en-GB",
        team=(
            ("Olivia Bennett", "Owner & senior stylist", "#8b5cf6", "olivia"),
            ("Sam Taylor", "Stylist", "#0ea5e9", "sam"),
            ("Priya Shah", "Colourist", "#ec4899", None),
            ("Jade Wilson", "Nail technician", "#f59e0b", None),
        ),
        client_count=320,
        phone_prefix="+447911123",
    ),
    DemoBusiness(
        slug="northside",
        name="Northside Barbers",
        time_zone="Europe/Dublin",
        currency="EUR",
        country="IE",
        locale="en-IE",
        team=(
            ("Noah Byrne", "Owner & barber", "#10b981", "noah"),
            ("Aoife Kelly", "Barber", "#6366f1", "aoife"),
            ("Conor Walsh", "Junior barber", "#ef4444", None),
        ),
        client_count=160,
        phone_prefix="+353851234",
    ),
]

DEMO_TAGS = [
    ("VIP", "#7c3aed"),
    ("Colour client", "#db2777"),
    ("Bridal", "#0ea5e9"),
    ("Student", "#10b981"),
    ("Sensitive scalp", "#f59e0b"),
]
DEMO_REFERRALS = ["Instagram", "Google", "Walk-in", "Friend or family", "Gift voucher"]
DEMO_ALERTS = [
    "Allergic to PPD hair dye — patch test required",
    "Latex allergy",
    "Prefers a quiet appointment",
    "Sensitive to fragrance",
    "Pregnant — no chemical treatments",
]
DEMO_CITIES = {
    "GB": ["London", "London", "Croydon", "Brighton", "Reading"],
    "IE": ["Dublin", "Dublin", "Swords", "Malahide", "Howth"],
}

DEMO_USERS = [
    DemoUser("olivia", "Olivia", "Bennett", {"bella": Role.OWNER, "northside": Role.MANAGER}),
    DemoUser("marco", "Marco", "Rossi", {"bella": Role.MANAGER}),
    DemoUser("sam", "Sam", "Taylor", {"bella": Role.STAFF}),
    DemoUser("noah", "Noah", "Byrne", {"northside": Role.OWNER}),
    DemoUser("aoife", "Aoife", "Kelly", {"northside": Role.STAFF}),
]


def ascii_handle(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "."))


class Command(BaseCommand):
    help = "Create two demo businesses with logins, team members and clients (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Only businesses, logins, team and clients: no year of appointments and sales.",
        )
        parser.add_argument(
            "--history-days",
            type=int,
            default=365,
            help="How many days of past appointments and sales to create (default 365).",
        )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        businesses = {spec.slug: self._business(spec) for spec in DEMO_BUSINESSES}
        users = {spec.username: self._user(spec, businesses) for spec in DEMO_USERS}
        for spec in DEMO_BUSINESSES:
            business = businesses[spec.slug]
            with tenant_context(business):
                self._team(business, spec, users)
                created = self._clients(business, spec)
                sales = (
                    0
                    if options["no_history"]
                    else seed_history(business, days_before=options["history_days"])
                )
            self.stdout.write(
                f"{business.name}: /{business.slug}/ ({created} clients, {sales} sales added)"
            )
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password: {DEMO_PASSWORD}):"))
        for spec in DEMO_USERS:
            roles = ", ".join(f"{role} of {slug}" for slug, role in spec.roles.items())
            self.stdout.write(f"  {spec.username:<8} {roles}")

    def _business(self, spec: DemoBusiness) -> Business:
        business, _ = Business.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "time_zone": spec.time_zone,
                "currency": spec.currency,
                "country": spec.country,
                "locale": spec.locale,
            },
        )
        return business

    def _user(self, spec: DemoUser, businesses: dict[str, Business]):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@demo.glamiti.test",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        for slug, role in spec.roles.items():
            Membership.objects.get_or_create(
                user=user, business=businesses[slug], defaults={"role": role}
            )
        return user

    def _team(self, business: Business, spec: DemoBusiness, users: dict) -> None:
        existing = set(business.teammembers.values_list("name", flat=True))
        for name, job_title, color, username in spec.team:
            if name not in existing:
                TeamMember.objects.create(
                    business=business,
                    name=name,
                    job_title=job_title,
                    color=color,
                    user=users.get(username) if username else None,
                )

    def _clients(self, business: Business, spec: DemoBusiness) -> int:
        rng = random.Random(f"glamiti-demo-{spec.slug}")  # noqa: S311 - demo data, not secrets
        tags = {
            name: business.tags.get_or_create(name=name, defaults={"color": color})[0]
            for name, color in DEMO_TAGS
        }
        sources = [business.referralsources.get_or_create(name=name)[0] for name in DEMO_REFERRALS]
        have = set(business.clients.values_list("external_id", flat=True))
        now = timezone.now()
        new_clients, new_tags = [], []
        for number in range(spec.client_count):
            client, client_tags = self._demo_client(rng, business, spec, number, now, sources)
            if client.external_id in have:
                continue
            client.refresh_derived_fields()
            new_clients.append(client)
            new_tags.append([tags[name] for name in client_tags])
        Client.objects.bulk_create(new_clients)
        ClientTag.objects.bulk_create(
            ClientTag(business=business, client=client, tag=tag)
            for client, client_tags in zip(new_clients, new_tags, strict=True)
            for tag in client_tags
        )
        # Every "yes" has its record, as if staff had asked (clients/consent.py).
        answers = [
            Answer(client.pk, channel, True, True)
            for client in new_clients
            for channel in CONSENT_CHANNELS
            if getattr(client, f"{channel}_marketing")
        ]
        consent_record_bulk(
            business_id=business.pk, answers=answers, source="form", by_id=None, now=now
        )
        return len(new_clients)

    def _demo_client(self, rng, business, spec, number, now, sources) -> tuple[Client, list]:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{ascii_handle(f'{first}.{last}')}.{number}@example.com"
        phone = f"{spec.phone_prefix}{number:03d}"
        if number % 97 == 5:
            # A few families share contact details, so the duplicate finder has work to do.
            email = f"{ascii_handle(last)}.family@example.com"
            phone = f"{spec.phone_prefix}999"
        has_birthday = rng.random() < 0.6
        consent_email = rng.random() < 0.55
        consent_sms = rng.random() < 0.35
        blocked = rng.random() < 0.03
        client = Client(
            business=business,
            external_id=f"demo-{number}",
            first_name=first,
            last_name=last,
            email=email if rng.random() < 0.88 else "",
            mobile_phone=phone if rng.random() < 0.92 else "",
            birth_day=rng.randint(1, 28) if has_birthday else None,
            birth_month=rng.randint(1, 12) if has_birthday else None,
            birth_year=rng.randint(1955, 2006) if has_birthday and rng.random() < 0.5 else None,
            gender=rng.choice(["female", "female", "male", "", "non_binary", "prefer_not_to_say"]),
            pronouns=rng.choice(["", "", "", "she/her", "he/him", "they/them"]),
            city=rng.choice(DEMO_CITIES[spec.country]),
            country=spec.country,
            referral_source=rng.choice(sources) if rng.random() < 0.5 else None,
            email_marketing=consent_email,
            email_marketing_at=now if consent_email else None,
            email_marketing_source="form" if consent_email else "",
            sms_marketing=consent_sms,
            sms_marketing_at=now if consent_sms else None,
            sms_marketing_source="form" if consent_sms else "",
            is_blocked=blocked,
            blocked_reason="Repeated no-shows; card required to book" if blocked else "",
            alert=rng.choice(DEMO_ALERTS) if rng.random() < 0.08 else "",
            archived_at=now if rng.random() < 0.04 else None,
        )
        client_tags = rng.sample([name for name, _ in DEMO_TAGS], k=rng.choice([0, 0, 1, 1, 2]))
        return client, client_tags
