from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from audit.recording import AuditedQuerySet
from glamiti.models import (
    SAME_BUSINESS_KEY,
    Business,
    TeamMember,
    TenantModel,
    business_key,
    tenant_manager,
)


class Product(TenantModel):
    name = models.CharField(max_length=120)
    sku = models.CharField("SKU", max_length=40, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "sku"],
                condition=~models.Q(sku=""),
                name="product_unique_sku",
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="product_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SaleStatus(models.TextChoices):
    OPEN = "open", "Awaiting payment"
    COMPLETED = "completed", "Paid"
    VOIDED = "voided", "Voided"


class SaleQuerySet(AuditedQuerySet):
    def counted(self) -> SaleQuerySet:
        """Sales that count in totals: paid and not voided."""
        return self.filter(status=SaleStatus.COMPLETED)


class Sale(TenantModel):
    business = business_key("sales")
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales",
        help_text="Empty for a walk-in.",
        db_constraint=SAME_BUSINESS_KEY,
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sales",
        db_constraint=SAME_BUSINESS_KEY,
    )
    status = models.CharField(max_length=10, choices=SaleStatus.choices, default=SaleStatus.OPEN)
    # Totals are computed by the checkout service from the items, and stored so that
    # overviews can sum them with an index instead of re-adding every item.
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    services_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    products_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    vouchers_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tip_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # A checkout form carries one key: submitting it twice finds the sale made the first time.
    idempotency_key = models.UUIDField(default=uuid.uuid4)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.CharField(max_length=200, blank=True)

    objects = tenant_manager(SaleQuerySet)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "idempotency_key"], name="sale_unique_idempotency_key"
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="sale_total_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(tip_total__gte=0), name="sale_tip_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["business", "client", "status"], name="sale_client_status_idx"),
            models.Index(fields=["business", "created_at"], name="sale_created_idx"),
            models.Index(fields=["business", "appointment"], name="sale_appointment_idx"),
        ]

    def __str__(self) -> str:
        return f"Sale #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("sales:detail", kwargs={"business": self.business.slug, "pk": self.pk})

    @property
    def paid_total(self):
        return sum((p.amount for p in self.payments.all()), start=0)

    def can_void(self) -> tuple[bool, str]:
        if self.status == SaleStatus.VOIDED:
            return False, "This sale is already voided."
        return True, ""


class ItemKind(models.TextChoices):
    SERVICE = "service", "Service"
    PRODUCT = "product", "Product"
    VOUCHER = "voucher", "Voucher"


class SaleItem(TenantModel):
    business = business_key()
    sale = models.ForeignKey(
        Sale, on_delete=models.CASCADE, related_name="items", db_constraint=SAME_BUSINESS_KEY
    )
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    service = models.ForeignKey(
        "appointments.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=SAME_BUSINESS_KEY,
    )
    product = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=SAME_BUSINESS_KEY,
    )
    voucher = models.ForeignKey(
        "vouchers.Voucher",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sale_items",
        help_text="The voucher this item issued (voucher purchases).",
        db_constraint=SAME_BUSINESS_KEY,
    )
    team_member = models.ForeignKey(
        TeamMember,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=SAME_BUSINESS_KEY,
    )
    description = models.CharField(max_length=200)
    quantity = models.PositiveSmallIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["business", "sale"], name="saleitem_sale_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="saleitem_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="saleitem_total_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.description


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD_TERMINAL = "card_terminal", "Card (terminal)"
    VOUCHER = "voucher", "Voucher"
    SAVED_CARD = "saved_card", "Saved card"


class Payment(TenantModel):
    business = business_key()
    sale = models.ForeignKey(
        Sale, on_delete=models.CASCADE, related_name="payments", db_constraint=SAME_BUSINESS_KEY
    )
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    voucher = models.ForeignKey(
        "vouchers.Voucher",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        db_constraint=SAME_BUSINESS_KEY,
    )
    voucher_entry = models.ForeignKey(
        "vouchers.VoucherLedgerEntry",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=SAME_BUSINESS_KEY,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["business", "sale"], name="payment_sale_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount}"


class TipAllocation(TenantModel):
    """The part of a sale's tip that one team member received."""

    business = business_key()
    sale = models.ForeignKey(
        Sale, on_delete=models.CASCADE, related_name="tips", db_constraint=SAME_BUSINESS_KEY
    )
    team_member = models.ForeignKey(
        TeamMember, on_delete=models.PROTECT, related_name="tips", db_constraint=SAME_BUSINESS_KEY
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["business", "sale"], name="tip_sale_idx"),
            models.Index(fields=["business", "team_member", "created_at"], name="tip_member_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="tip_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} to {self.team_member}"


class FeedbackSource(models.TextChoices):
    STAFF = "staff", "Recorded by staff"
    CLIENT_LINK = "client_link", "Left by the client"


class Feedback(TenantModel):
    business = business_key("feedback")
    client = models.ForeignKey(
        "clients.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
        db_constraint=SAME_BUSINESS_KEY,
    )
    sale = models.ForeignKey(
        Sale,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="feedback",
        db_constraint=SAME_BUSINESS_KEY,
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="feedback",
        db_constraint=SAME_BUSINESS_KEY,
    )
    team_member = models.ForeignKey(
        TeamMember,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="feedback",
        db_constraint=SAME_BUSINESS_KEY,
    )
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=2000)
    source = models.CharField(max_length=12, choices=FeedbackSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "feedback"
        indexes = [
            models.Index(fields=["business", "client", "created_at"], name="feedback_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=models.Q(sale__isnull=False) | models.Q(appointment__isnull=False),
                name="feedback_refers_to_something",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}★"


def new_feedback_token() -> str:
    return secrets.token_urlsafe(32)


class FeedbackLink(TenantModel):
    """A private link a client opens without logging in, to leave feedback on a sale once."""

    business = business_key()
    sale = models.OneToOneField(
        Sale,
        on_delete=models.CASCADE,
        related_name="feedback_link",
        db_constraint=SAME_BUSINESS_KEY,
    )
    token = models.CharField(max_length=64, default=new_feedback_token)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["business", "token"], name="feedbacklink_unique_token")
        ]

    def __str__(self) -> str:
        return f"Feedback link for {self.sale}"


class SavedCard(TenantModel):
    """A card kept at Stripe for a client. We hold only what identifies it, never the number."""

    business = business_key()
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="saved_cards",
        db_constraint=SAME_BUSINESS_KEY,
    )
    stripe_payment_method_id = models.CharField(max_length=255)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    cardholder_name = models.CharField(max_length=120, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        indexes = [models.Index(fields=["business", "client"], name="savedcard_client_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "stripe_payment_method_id"], name="savedcard_unique_pm"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"

    def is_expired_on(self, today) -> bool:
        return (self.exp_year, self.exp_month) < (today.year, today.month)


# --- Stripe: customers, card setups, charges, webhook events --------------------------------


class StripeCustomer(TenantModel):
    """The Stripe Customer that holds a client's cards, created the first time one is saved."""

    business = business_key()
    client = models.OneToOneField(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="stripe_customer",
        db_constraint=SAME_BUSINESS_KEY,
    )
    stripe_customer_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        indexes = [models.Index(fields=["business", "client"], name="stripecustomer_client_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "stripe_customer_id"], name="stripecustomer_unique_id"
            )
        ]

    def __str__(self) -> str:
        return self.stripe_customer_id


class CardSetupStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the card"
    SUCCEEDED = "succeeded", "Card saved"
    FAILED = "failed", "Failed"


class CardSetup(TenantModel):
    """One "add a card" request: a Stripe SetupIntent the card field confirms in the browser.

    Its id makes the SetupIntent's idempotency key, and its metadata lets the webhook find it.
    """

    business = business_key()
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=SAME_BUSINESS_KEY,
    )
    stripe_setup_intent_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=10, choices=CardSetupStatus.choices, default=CardSetupStatus.PENDING
    )
    card = models.ForeignKey(
        SavedCard,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=SAME_BUSINESS_KEY,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = tenant_manager()

    class Meta:
        indexes = [
            models.Index(fields=["business", "client"], name="cardsetup_client_idx"),
            models.Index(fields=["stripe_setup_intent_id"], name="cardsetup_intent_idx"),
        ]

    def __str__(self) -> str:
        return f"Card setup #{self.pk}"


class ChargePurpose(models.TextChoices):
    CHECKOUT = "checkout", "Checkout"
    NO_SHOW_FEE = "no_show_fee", "No-show fee"


class ChargeStatus(models.TextChoices):
    PENDING = "pending", "In progress"
    SUCCEEDED = "succeeded", "Paid"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class CardCharge(TenantModel):
    """One attempt to charge a saved card: a Stripe PaymentIntent, created off-session.

    The row is written before Stripe is called, so its idempotency key (derived from the sale
    or appointment and the attempt number) is the same if the request is retried.
    """

    business = business_key()
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=SAME_BUSINESS_KEY,
    )
    card = models.ForeignKey(
        SavedCard, on_delete=models.PROTECT, related_name="charges", db_constraint=SAME_BUSINESS_KEY
    )
    purpose = models.CharField(max_length=12, choices=ChargePurpose.choices)
    sale = models.ForeignKey(
        Sale,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="card_charges",
        db_constraint=SAME_BUSINESS_KEY,
    )
    appointment = models.ForeignKey(
        "appointments.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=SAME_BUSINESS_KEY,
    )
    payment = models.OneToOneField(
        Payment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="card_charge",
        db_constraint=SAME_BUSINESS_KEY,
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=120)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=10, choices=ChargeStatus.choices, default=ChargeStatus.PENDING
    )
    # What went wrong, written for staff (never card details).
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    amount_refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = tenant_manager(AuditedQuerySet)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "idempotency_key"], name="cardcharge_unique_key"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="cardcharge_amount_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["business", "sale"], name="cardcharge_sale_idx"),
            models.Index(fields=["business", "appointment"], name="cardcharge_appt_idx"),
            models.Index(fields=["stripe_payment_intent_id"], name="cardcharge_intent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.amount} {self.currency} ({self.status})"


class StripeEvent(models.Model):
    """A webhook event we have processed, so that a redelivery is not processed twice.

    Platform-level, not a tenant row: the id must be checked before we know which business
    the event is about (and for events about no client of ours there is no business at all).
    """

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    business = models.ForeignKey(
        Business, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
