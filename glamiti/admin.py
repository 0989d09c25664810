from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from glamiti.models import Business, Membership, TeamMember, User


class TenantAdmin(admin.ModelAdmin):
    """Base for tenant models in the platform admin: always show and filter by business."""

    list_filter = ["business"]
    list_select_related = ["business"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class GlamitiUserAdmin(UserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_superuser"]


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "currency", "time_zone", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "business", "role", "created_at"]
    list_filter = ["role", "business"]
    autocomplete_fields = ["user", "business"]


@admin.register(TeamMember)
class TeamMemberAdmin(TenantAdmin):
    list_display = ["name", "business", "job_title", "user", "is_active"]
    search_fields = ["name", "email"]
