from django.urls import path

from appointments import views

app_name = "appointments"

urlpatterns = [path("", views.calendar, name="calendar")]
