from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from glamiti import views
from glamiti.forms import LoginForm

# Everything under /<business>/ runs inside that business's tenant scope (TenantMiddleware).
tenant_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("clients/", include("clients.urls")),
    path("clients/<int:pk>/", include("glamiti.profile_urls")),
    path("calendar/", include("appointments.urls")),
    path("sales/", include("sales.urls")),
    path("vouchers/", include("vouchers.urls")),
    path("settings/", include("glamiti.settings_urls")),
]

auth_patterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include(auth_patterns)),
    path("admin/", admin.site.urls),
    path("businesses/", views.business_list, name="business-list"),
    path("<slug:business>/", include(tenant_patterns)),
    # Public pages keyed by an unguessable token (no login); they name the business as
    # `salon`, not `business`, so the tenant middleware leaves them alone.
    path("", include("sales.public_urls")),
]
