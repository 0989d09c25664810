from django.urls import path

from sales import views_public, webhooks

# Public pages (no login). The business is named `salon`, not `business`, so the tenant
# middleware neither requires a login nor a membership here; the view checks the token.
urlpatterns = [
    # Stripe's signed events (no login, no CSRF: the signature on the raw body is the check).
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe-webhook"),
    path("<slug:salon>/feedback/<str:token>/", views_public.feedback_form, name="public-feedback"),
]
