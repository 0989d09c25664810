from django.urls import path

from sales import views_public

# Public pages (no login). The business is named `salon`, not `business`, so the tenant
# middleware neither requires a login nor a membership here; the view checks the token.
urlpatterns = [
    path("<slug:salon>/feedback/<str:token>/", views_public.feedback_form, name="public-feedback"),
]
