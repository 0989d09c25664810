from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from audit.recording import AuditedQuerySet
from glamiti.models import SAME_BUSINESS_KEY, TenantModel, business_key, tenant_manager


class VoucherStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PARTIALLY_USED = "partially_used", "Partially used"
    FULLY_REDEEMED = "fully_redeemed", "Fully redeemed"
    EXPIRED = "expired", "Expired"


class VoucherQuerySet(AuditedQuerySet):
    """Status is derived from balance and expiry, never stored: these filters mirror `status`."""

    def redeemable(self, on: datetime.date | None = None) -> VoucherQuerySet:
        on = on or timezone.localdate()
        return self.filter(balance__gt=0, expires_on__gte=on)

    def with_status(self, status: str, on: datetime.date | None = None) -> VoucherQuerySet:
        on = on or timezone.localdate()
        if status == VoucherStatus.FULLY_REDEEMED:
            return self.filter(balance=0)
        if status == VoucherStatus.EXPIRED:
            return self.filter(balance__gt=0, expires_on__lt=on)
        live = self.filter(balance__gt=0, expires_on__gte=on)
        if status == VoucherStatus.ACTIVE:
            return live.filter(balance=models.F("original_value"))
        if status == VoucherStatus.PARTIALLY_USED:
            return live.filter(balance__lt=models.F("original_value"))
        return self.none()


class Voucher(TenantModel):
    business = business_key("vouchers")
    code = models.CharField(max_length=20, help_text="Easy to read aloud, hard to guess.")
    original_value = models.DecimalField(max_digits=12, decimal_places=2)
    balance = models.DecimalField(max_digits=12, decimal_places=2)
    purchaser = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vouchers_bought",
        db_constraint=SAME_BUSINESS_KEY,
    )
    recipient = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vouchers_received",
        db_constraint=SAME_BUSINESS_KEY,
    )
    recipient_name = models.CharField(max_length=120, blank=True)
    issued_on = models.DateField()
    expires_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager(VoucherQuerySet)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["business", "code"], name="voucher_unique_code"),
            # The last line of defence against overspending under concurrency.
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="voucher_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(original_value__gt=0), name="voucher_value_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__gte=models.F("issued_on")),
                name="voucher_expires_after_issue",
            ),
        ]
        indexes = [
            models.Index(fields=["business", "purchaser"], name="voucher_purchaser_idx"),
            models.Index(fields=["business", "recipient"], name="voucher_recipient_idx"),
            models.Index(fields=["business", "expires_on"], name="voucher_expiry_idx"),
        ]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("vouchers:detail", kwargs={"business": self.business.slug, "pk": self.pk})

    def status_on(self, on: datetime.date) -> VoucherStatus:
        if self.balance <= 0:
            return VoucherStatus.FULLY_REDEEMED
        if on > self.expires_on:
            return VoucherStatus.EXPIRED
        if self.balance < self.original_value:
            return VoucherStatus.PARTIALLY_USED
        return VoucherStatus.ACTIVE

    @property
    def status(self) -> VoucherStatus:
        return self.status_on(timezone.localdate())

    def is_redeemable(self, amount: Decimal, on: datetime.date | None = None) -> tuple[bool, str]:
        """Whether `amount` can be paid with this voucher, and if not, why (for staff)."""
        on = on or timezone.localdate()
        if amount <= 0:
            return False, "Enter an amount greater than zero."
        if on > self.expires_on:
            return False, f"Voucher {self.code} expired on {self.expires_on:%d %b %Y}."
        if self.balance <= 0:
            return False, f"Voucher {self.code} has been fully used."
        if amount > self.balance:
            return False, f"Voucher {self.code} has only {self.balance} left."
        return True, ""


class LedgerKind(models.TextChoices):
    ISSUED = "issued", "Issued"
    REDEEMED = "redeemed", "Redeemed"
    ADJUSTED = "adjusted", "Adjusted"
    EXPIRED = "expired", "Expired"
    REFUNDED = "refunded", "Refunded (sale voided)"


class VoucherLedgerEntry(TenantModel):
    """Every change to a voucher's balance, so that the balance can always be explained."""

    business = business_key()
    voucher = models.ForeignKey(
        Voucher, on_delete=models.CASCADE, related_name="ledger", db_constraint=SAME_BUSINESS_KEY
    )
    kind = models.CharField(max_length=12, choices=LedgerKind.choices)
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Signed: negative when the balance goes down."
    )
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    # A refund points at the redemption it gives back; one-to-one, so the database itself
    # refuses to refund the same redemption twice.
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="reversal",
        db_constraint=SAME_BUSINESS_KEY,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "voucher ledger entries"
        indexes = [
            models.Index(fields=["business", "voucher", "created_at"], name="ledger_voucher_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0), name="ledger_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.voucher} {self.get_kind_display()} {self.amount}"
