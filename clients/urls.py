from django.urls import include, path

from clients import views

app_name = "clients"

urlpatterns = [
    path("", views.client_list, name="list"),
    path("new/", views.client_create, name="create"),
    path("picker/", views.client_picker, name="picker"),
    path("lists/", views.client_lists, name="lists"),
    path(
        "lists/<str:kind>/<int:pk>/delete/", views.client_list_item_delete, name="list-item-delete"
    ),
    path("<int:pk>/", views.client_detail, name="detail"),
    path("<int:pk>/edit/", views.client_edit, name="edit"),
    path("<int:pk>/archive/", views.client_archive, name="archive"),
    path("<int:pk>/restore/", views.client_restore, name="restore"),
    path("<int:pk>/delete/", views.client_delete, name="delete"),
    path("<int:pk>/photo/", views.client_photo, name="photo"),
    path("", include("clients.merge_urls")),
    path("", include("clients.import_urls")),
    path("", include("clients.privacy_urls")),
]
