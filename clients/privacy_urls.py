"""GDPR requests (clients/privacy_views.py), inside the clients namespace."""

from django.urls import path

from clients import privacy_views

urlpatterns = [
    path("<int:pk>/data-export/", privacy_views.client_data_export_view, name="data-export"),
    path("<int:pk>/erase/", privacy_views.client_erase_view, name="erase"),
    path("retention/", privacy_views.retention_preview, name="retention"),
]
