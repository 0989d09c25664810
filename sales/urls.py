from django.urls import path

from sales import billing_views, views

app_name = "sales"

urlpatterns = [
    path("", views.sale_list, name="list"),
    path("checkout/", views.checkout_page, name="checkout"),
    path("tips/", views.tips_report, name="tips"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product-create"),
    path("products/<int:pk>/edit/", views.product_edit, name="product-edit"),
    path("<int:pk>/", views.sale_detail, name="detail"),
    path("<int:pk>/feedback/", views.feedback_create, name="feedback"),
    path("<int:pk>/void/", views.sale_void, name="void"),
    path("no-show-fee/<int:appointment_pk>/", billing_views.no_show_fee, name="no-show-fee"),
]
