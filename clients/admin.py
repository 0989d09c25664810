from django.contrib import admin

from clients.models import Client
from glamiti.admin import TenantAdmin


@admin.register(Client)
class ClientAdmin(TenantAdmin):
    list_display = ["__str__", "business", "email", "mobile_phone", "created_at", "archived_at"]
    search_fields = ["first_name", "last_name", "email", "mobile_phone"]
