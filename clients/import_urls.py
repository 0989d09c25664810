from django.urls import path

from clients import import_views

# Included inside the "clients" namespace (no app_name here).
urlpatterns = [
    path("export/", import_views.client_export, name="export"),
    path("import/", import_views.client_import, name="import"),
    path("import/<int:pk>/", import_views.client_import_detail, name="import-detail"),
    path("import/<int:pk>/map/", import_views.client_import_map, name="import-map"),
    path("import/<int:pk>/preview/", import_views.client_import_preview, name="import-preview"),
    path("import/<int:pk>/confirm/", import_views.client_import_confirm, name="import-confirm"),
    path("import/<int:pk>/progress/", import_views.client_import_progress, name="import-progress"),
    path("import/<int:pk>/result/", import_views.client_import_result, name="import-result"),
    path(
        "import/<int:pk>/rejected.csv", import_views.client_import_rejected, name="import-rejected"
    ),
    path("import/<int:pk>/undo/", import_views.client_import_undo, name="import-undo"),
    path("import/<int:pk>/discard/", import_views.client_import_discard, name="import-discard"),
]
