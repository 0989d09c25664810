from django.contrib import admin

from appointments.models import Appointment, AppointmentService, Service
from glamiti.admin import TenantAdmin


@admin.register(Service)
class ServiceAdmin(TenantAdmin):
    list_display = ["name", "business", "category", "duration_minutes", "price", "is_active"]
    search_fields = ["name", "category"]


class AppointmentServiceInline(admin.TabularInline):
    model = AppointmentService
    extra = 0
    raw_id_fields = ["service"]
    exclude = ["business"]


@admin.register(Appointment)
class AppointmentAdmin(TenantAdmin):
    list_display = ["start_at", "business", "client", "team_member", "status"]
    list_filter = ["business", "status"]
    raw_id_fields = ["client", "team_member", "canceled_by", "created_by"]
    date_hierarchy = "start_at"
    inlines = [AppointmentServiceInline]
    show_full_result_count = False


@admin.register(AppointmentService)
class AppointmentServiceAdmin(TenantAdmin):
    list_display = ["name", "business", "appointment", "price"]
    raw_id_fields = ["appointment", "service"]
