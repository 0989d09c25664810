from django.urls import path  # noqa: F401

# The public (no login) feedback page lives here; see sales.
urlpatterns: list = []
