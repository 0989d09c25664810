"""Duplicate finder and merges; included by clients/urls.py inside the `clients` namespace."""

from django.urls import path

from clients import merge_views

urlpatterns = [
    path("duplicates/", merge_views.duplicates, name="duplicates"),
    path("merge/", merge_views.merge, name="merge"),
    path("merges/<int:pk>/undo/", merge_views.merge_undo, name="merge-undo"),
]
