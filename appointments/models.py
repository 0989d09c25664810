from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from glamiti.models import SAME_BUSINESS_KEY, TeamMember, TenantModel, business_key, tenant_manager


class Service(TenantModel):
    """A service the business offers, with its current price and duration."""

    name = models.CharField(max_length=120)
    category = models.CharField(max_length=80, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager()

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["business", "name"], name="service_unique_name"),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="service_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0), name="service_duration_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    COMPLETED = "completed", "Completed"
    CANCELED = "canceled", "Canceled"
    NO_SHOW = "no_show", "No-show"


# Statuses that occupy the team member's time (the double-booking rule applies to them).
OCCUPYING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)


class AppointmentQuerySet(models.QuerySet):
    def upcoming(self, now=None) -> AppointmentQuerySet:
        return self.filter(status=AppointmentStatus.BOOKED, start_at__gte=now or timezone.now())

    def on_day(self, start, end) -> AppointmentQuerySet:
        return self.filter(start_at__lt=end, end_at__gt=start)

    def occupying(self) -> AppointmentQuerySet:
        """Appointments that hold their team member's time (the no-double-booking rule)."""
        return self.filter(status__in=OCCUPYING_STATUSES)


class Appointment(TenantModel):
    business = business_key("appointments")
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="appointments",
        db_constraint=SAME_BUSINESS_KEY,
    )
    team_member = models.ForeignKey(
        TeamMember,
        on_delete=models.PROTECT,
        related_name="appointments",
        db_constraint=SAME_BUSINESS_KEY,
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    notes = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    no_show_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    canceled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = tenant_manager(AppointmentQuerySet)

    class Meta:
        ordering = ["start_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__gt=models.F("start_at")),
                name="appointment_ends_after_start",
            ),
        ]
        # The no-double-booking exclusion constraint is PostgreSQL-only: see migrations.
        indexes = [
            models.Index(fields=["business", "client", "status"], name="appt_client_status_idx"),
            models.Index(fields=["business", "client", "start_at"], name="appt_client_start_idx"),
            models.Index(fields=["business", "start_at"], name="appt_start_idx"),
            models.Index(
                fields=["business", "team_member", "start_at"], name="appt_member_start_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} with {self.team_member} at {self.start_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse(
            "appointments:detail", kwargs={"business": self.business.slug, "pk": self.pk}
        )

    @property
    def duration_minutes(self) -> int:
        return int((self.end_at - self.start_at).total_seconds() // 60)

    def _refuse_unless_booked(self, action: str) -> tuple[bool, str]:
        if self.status != AppointmentStatus.BOOKED:
            status = self.get_status_display().lower()
            return False, f"Only a booked appointment can be {action}; this one is {status}."
        return True, ""

    def can_complete(self) -> tuple[bool, str]:
        ok, reason = self._refuse_unless_booked("completed")
        if ok and timezone.localtime(self.start_at).date() > timezone.localdate():
            return False, "An appointment can't be completed before the day it is booked for."
        return ok, reason

    def can_cancel(self) -> tuple[bool, str]:
        return self._refuse_unless_booked("canceled")

    def can_mark_no_show(self) -> tuple[bool, str]:
        ok, reason = self._refuse_unless_booked("marked as a no-show")
        if ok and self.start_at > timezone.now():
            return False, "A client can't miss an appointment that hasn't started yet."
        return ok, reason

    def can_reschedule(self) -> tuple[bool, str]:
        return self._refuse_unless_booked("moved")


class AppointmentService(TenantModel):
    """A service on an appointment, with its price and duration as they were at booking."""

    business = business_key()
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        related_name="services",
        db_constraint=SAME_BUSINESS_KEY,
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="+", db_constraint=SAME_BUSINESS_KEY
    )
    name = models.CharField(max_length=120)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    duration_minutes = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    objects = tenant_manager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["business", "appointment"], name="apptservice_appt_idx"),
        ]

    def __str__(self) -> str:
        return self.name
