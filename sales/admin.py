from django.contrib import admin

from glamiti.admin import TenantAdmin
from sales.models import (
    CardCharge,
    CardSetup,
    Feedback,
    FeedbackLink,
    Payment,
    Product,
    Sale,
    SaleItem,
    SavedCard,
    StripeCustomer,
    StripeEvent,
    TipAllocation,
)


@admin.register(Product)
class ProductAdmin(TenantAdmin):
    list_display = ["name", "business", "sku", "price", "is_active"]
    search_fields = ["name", "sku"]


class SaleItemInline(admin.TabularInline):
    model = SaleItem
    extra = 0
    raw_id_fields = ["service", "product", "voucher", "team_member"]
    exclude = ["business"]


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    raw_id_fields = ["voucher", "voucher_entry"]
    exclude = ["business"]


class TipInline(admin.TabularInline):
    model = TipAllocation
    extra = 0
    raw_id_fields = ["team_member"]
    exclude = ["business"]


@admin.register(Sale)
class SaleAdmin(TenantAdmin):
    list_display = ["__str__", "business", "client", "status", "total", "tip_total", "created_at"]
    list_filter = ["business", "status"]
    raw_id_fields = ["client", "appointment", "created_by", "voided_by"]
    inlines = [SaleItemInline, PaymentInline, TipInline]
    show_full_result_count = False


@admin.register(SaleItem)
class SaleItemAdmin(TenantAdmin):
    list_display = ["description", "business", "sale", "kind", "total"]
    raw_id_fields = ["sale", "service", "product", "voucher", "team_member"]


@admin.register(Payment)
class PaymentAdmin(TenantAdmin):
    list_display = ["sale", "business", "method", "amount", "created_at"]
    raw_id_fields = ["sale", "voucher", "voucher_entry"]


@admin.register(TipAllocation)
class TipAllocationAdmin(TenantAdmin):
    list_display = ["sale", "business", "team_member", "amount", "created_at"]
    raw_id_fields = ["sale", "team_member"]


@admin.register(Feedback)
class FeedbackAdmin(TenantAdmin):
    list_display = ["rating", "business", "client", "team_member", "source", "created_at"]
    raw_id_fields = ["client", "sale", "appointment", "team_member", "created_by"]


@admin.register(FeedbackLink)
class FeedbackLinkAdmin(TenantAdmin):
    list_display = ["sale", "business", "expires_at", "used_at"]
    raw_id_fields = ["sale"]
    exclude = ["token"]  # a bearer secret: not shown


@admin.register(SavedCard)
class SavedCardAdmin(TenantAdmin):
    list_display = ["__str__", "business", "client", "exp_month", "exp_year", "is_default"]
    raw_id_fields = ["client"]


@admin.register(StripeCustomer)
class StripeCustomerAdmin(TenantAdmin):
    list_display = ["stripe_customer_id", "business", "client", "created_at"]
    raw_id_fields = ["client"]
    search_fields = ["stripe_customer_id"]


@admin.register(CardSetup)
class CardSetupAdmin(TenantAdmin):
    list_display = ["__str__", "business", "client", "status", "created_at"]
    list_filter = ["business", "status"]
    raw_id_fields = ["client", "card", "created_by"]


@admin.register(CardCharge)
class CardChargeAdmin(TenantAdmin):
    list_display = ["__str__", "business", "client", "purpose", "amount", "status", "created_at"]
    list_filter = ["business", "purpose", "status"]
    raw_id_fields = ["client", "card", "sale", "appointment", "payment", "created_by"]
    search_fields = ["stripe_payment_intent_id", "idempotency_key"]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "business", "outcome", "received_at"]
    list_filter = ["type"]
    search_fields = ["event_id"]
