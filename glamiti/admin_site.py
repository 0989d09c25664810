from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse

from audit.context import Source, audit_context
from glamiti.rls import platform_access


class PlatformAdminSite(admin.AdminSite):
    """The Django admin is for platform admins and works across tenants, explicitly: through
    the platform connection, whose role bypasses row-level security."""

    site_header = "Glamiti platform admin"
    site_title = "Glamiti admin"
    index_title = "All businesses"

    def admin_view(self, view: Callable, cacheable: bool = False) -> Callable:
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def across_tenants(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            with platform_access(), audit_context(Source.ADMIN, actor=request.user):
                response = inner(request, *args, **kwargs)
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
            return response

        return across_tenants


class PlatformAdminConfig(AdminConfig):
    default_site = "glamiti.admin_site.PlatformAdminSite"
