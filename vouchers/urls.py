from django.urls import path

from vouchers import views

app_name = "vouchers"

urlpatterns = [
    path("", views.voucher_list, name="list"),
    path("issue/", views.voucher_issue, name="issue"),
    path("<int:pk>/", views.voucher_detail, name="detail"),
    path("<int:pk>/adjust/", views.voucher_adjust, name="adjust"),
]
