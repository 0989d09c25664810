from django.contrib import admin

from clients.models import (
    Client,
    ClientDocument,
    ClientMerge,
    ClientNote,
    ClientTag,
    ReferralSource,
    Tag,
)
from glamiti.admin import TenantAdmin


class ClientTagInline(admin.TabularInline):
    model = ClientTag
    extra = 0
    raw_id_fields = ["tag"]
    exclude = ["business"]


@admin.register(Client)
class ClientAdmin(TenantAdmin):
    list_display = ["__str__", "business", "email", "mobile_phone", "created_at", "archived_at"]
    search_fields = ["first_name", "last_name", "email", "mobile_phone", "external_id"]
    raw_id_fields = ["referred_by", "referral_source", "merged_into", "created_by"]
    readonly_fields = ["search_text", "phone_digits", "last_visit_at", "total_spend"]
    show_full_result_count = False  # counting a million rows on every page is not worth it


@admin.register(Tag)
class TagAdmin(TenantAdmin):
    list_display = ["name", "business", "color"]
    search_fields = ["name"]


@admin.register(ReferralSource)
class ReferralSourceAdmin(TenantAdmin):
    list_display = ["name", "business", "is_active"]
    search_fields = ["name"]


@admin.register(ClientTag)
class ClientTagAdmin(TenantAdmin):
    list_display = ["client", "tag", "business"]
    raw_id_fields = ["client", "tag"]


@admin.register(ClientMerge)
class ClientMergeAdmin(TenantAdmin):
    list_display = ["kept", "merged", "business", "created_at", "undone_at"]
    raw_id_fields = ["kept", "merged", "merged_by", "undone_by"]


@admin.register(ClientNote)
class ClientNoteAdmin(TenantAdmin):
    list_display = ["client", "business", "kind", "is_pinned", "created_at"]
    raw_id_fields = ["client", "created_by", "updated_by"]


@admin.register(ClientDocument)
class ClientDocumentAdmin(TenantAdmin):
    list_display = ["__str__", "business", "client", "kind", "content_type", "size", "created_at"]
    raw_id_fields = ["client", "uploaded_by"]
    exclude = ["file"]  # downloads go through the app's checked view
