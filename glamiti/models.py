"""Platform-level models (users, businesses, memberships) and the tenant model base."""

from __future__ import annotations

import zoneinfo
from functools import cache

import phonenumbers
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django_scopes import ScopedManager

# Top-level URL segments that a business slug must not shadow.
RESERVED_SLUGS = frozenset(
    {"accounts", "admin", "businesses", "static", "media", "api", "webhooks", "healthz", "f"}
)

CURRENCIES = [
    ("EUR", "Euro (EUR)"),
    ("GBP", "Pound sterling (GBP)"),
    ("USD", "US dollar (USD)"),
    ("CAD", "Canadian dollar (CAD)"),
    ("AUD", "Australian dollar (AUD)"),
    ("NZD", "New Zealand dollar (NZD)"),
    ("CHF", "Swiss franc (CHF)"),
    ("SEK", "Swedish krona (SEK)"),
    ("NOK", "Norwegian krone (NOK)"),
    ("DKK", "Danish krone (DKK)"),
    ("PLN", "Polish złoty (PLN)"),
    ("ZAR", "South African rand (ZAR)"),
]

LOCALES = [
    ("en-GB", "English (United Kingdom)"),
    ("en-US", "English (United States)"),
    ("en-IE", "English (Ireland)"),
    ("en-AU", "English (Australia)"),
    ("fr-FR", "Français (France)"),
    ("de-DE", "Deutsch (Deutschland)"),
    ("es-ES", "Español (España)"),
    ("it-IT", "Italiano (Italia)"),
    ("nl-NL", "Nederlands (Nederland)"),
    ("pt-PT", "Português (Portugal)"),
]


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
    return [(name, name.replace("_", " ")) for name in names]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone.")


def validate_country(value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"“{value}” is not a two-letter country code we can use for phones.")


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is reserved; choose another web address.")


class User(AbstractUser):
    """A person who logs in. Platform-level: one user may belong to several businesses."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_ci",
                condition=~models.Q(email=""),
                violation_error_message="A user with this e-mail already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Business(models.Model):
    """A salon, spa or barbershop: the tenant. Everything it owns carries its id."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        validators=[validate_slug_not_reserved],
        help_text="Used in web addresses: /<slug>/clients/",
    )
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    currency = models.CharField(max_length=3, choices=CURRENCIES, default="GBP")
    country = models.CharField(
        max_length=2,
        default="GB",
        validators=[validate_country],
        help_text="Two-letter country code; phone numbers without a +prefix are read as local.",
    )
    locale = models.CharField(max_length=10, choices=LOCALES, default="en-GB")
    no_show_fee = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        help_text="Charged to the client's default saved card when you ask, after a no-show. "
        "0 for no fee.",
    )
    mask_contacts_from_staff = models.BooleanField(
        "Hide client contact details from staff",
        default=False,
        help_text="Staff then see first names with the initial of the last name, masked "
        "e-mail addresses and only the last 4 digits of phone numbers.",
    )
    retention_years = models.PositiveSmallIntegerField(
        "Erase clients with no visit for N years",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "businesses"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("dashboard", kwargs={"business": self.slug})


# Every foreign key from one tenant table to another passes db_constraint=SAME_BUSINESS_KEY:
# PostgreSQL checks it with the composite key (business_id, x_id) → (business_id, id) that
# row-level security needs (glamiti.rls.same_business_fk_sql), which also proves the row
# exists. A second, single-column key would double every check (tests/glamiti/
# test_rls_catalogue.py holds both rules). SQLite, for development only, has neither.
SAME_BUSINESS_KEY = False


def business_key(related_name: str = "+", *, through: str = "") -> models.ForeignKey:
    """The `business` column of a tenant table whose composite indexes all lead with it.

    No lone index on it: PostgreSQL would prefer that index to the composite ones
    (DESIGN.md, "Indexes that the planner will actually use").

    `through`: a required same-business key of the row (say "client") that already proves
    the business exists: the row's business is its client's, whose own key to the business
    is checked. No key of its own to the business, so a bulk import checks one key a row
    fewer (tests/glamiti/test_rls_catalogue.py checks the named key).
    """
    field = models.ForeignKey(
        Business,
        on_delete=models.CASCADE,
        related_name=related_name,
        db_index=False,
        db_constraint=not through,
    )
    field.business_through = through
    return field


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Staff"


ROLE_RANK = {Role.STAFF: 1, Role.MANAGER: 2, Role.OWNER: 3}


class Membership(models.Model):
    """Gives a user a role in a business. Platform-level: it is read before a scope exists."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "business"], name="membership_unique_user")
        ]
        ordering = ["business__name"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.business}"

    def has_role(self, minimum: str) -> bool:
        """True if this membership's role is `minimum` or above (owner > manager > staff)."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]


def tenant_manager(queryset_class: type[models.QuerySet] | None = None) -> models.Manager:
    """A manager that refuses to query unless a business scope is active, and filters by it."""
    manager_class = (
        models.Manager.from_queryset(queryset_class) if queryset_class else models.Manager
    )
    return ScopedManager(business="business", _manager_class=manager_class)


class TenantModel(models.Model):
    """Base for every row a business owns: a `business` key and a scoped manager.

    Subclasses whose composite indexes lead with `business` redeclare the field with
    `business = business_key(...)` (no lone index on it).
    """

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="%(class)ss")

    objects = tenant_manager()

    class Meta:
        abstract = True


class TeamMember(TenantModel):
    """A person who performs services and receives tips; may or may not log in."""

    name = models.CharField(max_length=120)
    job_title = models.CharField(max_length=80, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    color = models.CharField(
        max_length=7, default="#8b5cf6", help_text="Colour of this person's calendar column."
    )
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="team_roles"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "user"],
                condition=models.Q(user__isnull=False),
                name="teammember_unique_user_per_business",
            )
        ]

    def __str__(self) -> str:
        return self.name
