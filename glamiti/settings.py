"""Glamiti settings: one module, configured by environment variables.

Defaults are safe for production (DEBUG off, no hosts allowed, secure cookies);
`make run` and `make test` set the development values they need.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Set the {name} environment variable.")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from error


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "django-insecure-development-only-key")  # noqa: S105
else:
    SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "glamiti.admin_site.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_htmx",
    "template_partials",
    "import_export",
    "axes",
    "csp",
    "glamiti",
    "clients",
    "appointments",
    "sales",
    "vouchers",
    "auditlog",
    "audit",
]

# The audit trail (audit/__init__.py): django-auditlog writing our tenant entry model.
AUDITLOG_LOGENTRY_MODEL = "audit.AuditEntry"
AUDITLOG_STORE_JSON_CHANGES = True  # values keep their type: a revert needs None vs ""
AUDITLOG_USE_BASE_MANAGER = True  # its "value before" read must not need a scope
AUDITLOG_DISABLE_REMOTE_ADDR = True  # staff IP addresses are not needed here
# auditlog's own migrations would create its stock (swapped, never used) LogEntry table.
MIGRATION_MODULES = {"auditlog": None}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "glamiti.security.StripeAwareCSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "glamiti.tenancy.TenantMiddleware",
    # Inside the tenant: makes the membership the viewer that contact masking follows.
    "clients.masking.ContactMaskingMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "glamiti.urls"
WSGI_APPLICATION = "glamiti.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "glamiti.context_processors.tenant",
            ],
            "builtins": [
                "template_partials.templatetags.partials",
                "glamiti.templatetags.glamiti_tags",
                "clients.templatetags.clients_tags",
            ],
        },
    },
]


def _database(url: str) -> dict:
    return dj_database_url.parse(
        url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
    )


# On PostgreSQL three roles share one database (see README, "Database roles"):
# DATABASE_URL — the application: neither superuser nor BYPASSRLS, owns no table, so
#   row-level security decides what it sees (nothing outside `tenant_context`);
# DATABASE_OWNER_URL — owns the tables; `migrate` connects with it (default: DATABASE_URL);
# DATABASE_ADMIN_URL — BYPASSRLS, used only by the platform admin and platform lookups through
#   the "platform" alias (default: DATABASE_URL, for a single-role development database).
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["platform"] = _database(env_str("DATABASE_ADMIN_URL", "") or DATABASE_URL)
    DATABASES["platform"]["TEST"] = {"MIRROR": "default"}  # the same database, another role
    if env_str("DATABASE_OWNER_URL", ""):
        DATABASES["owner"] = _database(env_str("DATABASE_OWNER_URL"))
DATABASE_ROUTERS = ["glamiti.rls.PlatformRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "glamiti.User"
# AxesStandaloneBackend first: it refuses a locked-out identity before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "glamiti.auth.UsernameOrEmailBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# Uploaded files are private: there is no MEDIA_URL route; downloads go through views
# that check the tenant and the role.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local")
if STORAGE_BACKEND == "s3":
    from botocore.config import Config  # only here: local storage needn't load botocore

    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            # Give up within seconds (botocore's defaults wait 60 s, up to 5 times): a store
            # that is down or hangs becomes an error the user sees, not a stuck request.
            "client_config": Config(
                connect_timeout=env_int("AWS_S3_CONNECT_TIMEOUT", 3),
                read_timeout=env_int("AWS_S3_READ_TIMEOUT", 3),
                retries={
                    "mode": "standard",
                    "total_max_attempts": env_int("AWS_S3_MAX_ATTEMPTS", 2),
                },
            ),
        },
    }
elif STORAGE_BACKEND == "local":
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    }
else:
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 's3'.")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Glamiti <no-reply@localhost>")

# Stripe (the saved-cards issue uses these); STRIPE_API_BASE points tests at a local server.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_JS_URL = env_str("STRIPE_JS_URL", "https://js.stripe.com/v3/")
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
# Worst case a request waits (retries + 1) × read timeout on a Stripe that accepts and never
# answers: keep the web server's worker timeout above it (README: gunicorn --timeout 90).
STRIPE_READ_TIMEOUT = env_int("STRIPE_READ_TIMEOUT", 20)

# HTTPS and headers. Production sets SECURE_SSL_REDIRECT=1 and SECURE_HSTS_SECONDS=31536000
# (README, "Security settings for production"); `manage.py check --deploy --fail-level
# WARNING` passes then (tests/security/test_deploy_check.py).
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# A load balancer may probe the health check over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Asking to be on browsers' preload list is a commitment: opt in explicitly.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Reverse proxies in front of the app that append the client's address to X-Forwarded-For
# (0: none, use the socket's address). Login throttling counts failures per address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Content-Security-Policy (django-csp). Scripts come only from our static files and Stripe:
# no inline <script>, no on…= handlers, no eval (htmx's allowEval is off in base.html).
# glamiti.security.StripeAwareCSPMiddleware adds the origin of STRIPE_JS_URL to script-src,
# frame-src and connect-src. Styles: stylesheets only from us (htmx's indicator styles are in
# glamiti.css), but style="" attributes are allowed: templates use them for per-row values
# (colours, calendar positions, bar widths). Browsers without style-src-elem/-attr (CSP 3)
# fall back to style-src.
STRIPE_HOSTS = ["https://js.stripe.com", "https://*.js.stripe.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, *STRIPE_HOSTS],
        "frame-src": [*STRIPE_HOSTS, "https://hooks.stripe.com"],
        "connect-src": [SELF, "https://api.stripe.com"],
        "img-src": [SELF, "https://*.stripe.com"],
        "style-src": [SELF, UNSAFE_INLINE],
        "style-src-elem": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Login throttling (django-axes, glamiti/auth.py): failures are counted per identity (as
# typed, case-insensitive) and IP address together; after AXES_FAILURE_LIMIT of them that
# pair is locked out for the cool-off, then may try again. A success resets the count.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout: more attempts while locked out don't extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "glamiti.auth.login_identity"
AXES_CLIENT_IP_CALLABLE = "glamiti.auth.client_ip"
AXES_LOCKOUT_CALLABLE = "glamiti.auth.lockout_response"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Background jobs (client imports): django-tasks with its database backend. A separate
# process runs them: `manage.py db_worker` (`make run` starts one). Tests may set
# TASKS_BACKEND=django_tasks.backends.immediate.ImmediateBackend to run them inline.
INSTALLED_APPS += ["django_tasks", "django_tasks_db"]
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

FORM_RENDERER = "glamiti.forms.GlamitiFormRenderer"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
