from django.db import models
from django.urls import reverse

from glamiti.models import Business, TenantModel, tenant_manager


class ClientQuerySet(models.QuerySet):
    def active(self) -> "ClientQuerySet":
        return self.filter(archived_at__isnull=True)

    def archived(self) -> "ClientQuerySet":
        return self.filter(archived_at__isnull=False)


class Client(TenantModel):
    # The composite indexes below lead with business; a lone business index would mislead
    # the planner (DESIGN.md, "Indexes that the planner will actually use").
    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="clients", db_index=False
    )
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80, blank=True)
    email = models.EmailField(blank=True)
    mobile_phone = models.CharField(
        max_length=20, blank=True, help_text="E.164, e.g. +447700900123"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = tenant_manager(ClientQuerySet)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["business", "last_name", "first_name"], name="client_name_idx"),
            models.Index(fields=["business", "email"], name="client_email_idx"),
            models.Index(fields=["business", "mobile_phone"], name="client_mobile_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in (self.first_name, self.last_name) if part).upper()

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", kwargs={"business": self.business.slug, "pk": self.pk})
