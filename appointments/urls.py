from django.urls import path

from appointments import views

app_name = "appointments"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("new/", views.book, name="book"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/no-show/", views.no_show, name="no-show"),
    path("<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("services/", views.service_list, name="services"),
    path("services/new/", views.service_create, name="service-create"),
    path("services/<int:pk>/", views.service_edit, name="service-edit"),
]
