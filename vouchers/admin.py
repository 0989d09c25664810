from django.contrib import admin

from glamiti.admin import TenantAdmin
from vouchers.models import Voucher, VoucherLedgerEntry


class LedgerInline(admin.TabularInline):
    model = VoucherLedgerEntry
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "amount", "balance_after", "note", "created_by", "created_at"]
    exclude = ["business"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # balances change only through the voucher services


@admin.register(Voucher)
class VoucherAdmin(TenantAdmin):
    list_display = ["code", "business", "original_value", "balance", "issued_on", "expires_on"]
    search_fields = ["code"]
    raw_id_fields = ["purchaser", "recipient", "created_by"]
    readonly_fields = ["balance"]
    inlines = [LedgerInline]


@admin.register(VoucherLedgerEntry)
class VoucherLedgerEntryAdmin(TenantAdmin):
    list_display = ["voucher", "business", "kind", "amount", "balance_after", "created_at"]
    raw_id_fields = ["voucher", "created_by"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a ledger is append-only
