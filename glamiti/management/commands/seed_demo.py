"""Create the demo salons: deterministic, and safe to run again (it only adds what is missing)."""

import random
import unicodedata
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from clients.models import Client
from glamiti.models import Business, Membership, Role, TeamMember
from glamiti.tenancy import tenant_context

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
        client_count=120,
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
        client_count=60,
        phone_prefix="+353851234",
    ),
]

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

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        businesses = {spec.slug: self._business(spec) for spec in DEMO_BUSINESSES}
        users = {spec.username: self._user(spec, businesses) for spec in DEMO_USERS}
        for spec in DEMO_BUSINESSES:
            business = businesses[spec.slug]
            with tenant_context(business):
                self._team(business, spec, users)
                created = self._clients(business, spec)
            self.stdout.write(f"{business.name}: /{business.slug}/ ({created} clients added)")
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
        wanted = []
        for number in range(spec.client_count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            handle = ascii_handle(f"{first}.{last}")
            wanted.append(
                Client(
                    business=business,
                    first_name=first,
                    last_name=last,
                    email=f"{handle}.{number}@example.com" if rng.random() < 0.85 else "",
                    mobile_phone=f"{spec.phone_prefix}{number:03d}" if rng.random() < 0.9 else "",
                )
            )
        have = set(business.clients.values_list("first_name", "last_name", "email"))
        missing = [c for c in wanted if (c.first_name, c.last_name, c.email) not in have]
        Client.objects.bulk_create(missing)
        return len(missing)
