from django.urls import path

from glamiti import views

app_name = "settings"

urlpatterns = [
    path("", views.business_settings, name="index"),
    path("team/new/", views.team_member_create, name="team-create"),
    path("team/<int:pk>/", views.team_member_edit, name="team-edit"),
]
