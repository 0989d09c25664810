from django.urls import path  # noqa: F401

# Client profile tabs served by each app (see the profile work).
app_name = "profile"
urlpatterns: list = []
