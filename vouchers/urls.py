from django.urls import path

from vouchers import views

app_name = "vouchers"

urlpatterns = [path("", views.voucher_list, name="list")]
