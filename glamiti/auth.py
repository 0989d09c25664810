"""Logging in: username or e-mail, and django-axes's login throttling (settings "AXES_*").

Failed logins are counted per (identity, IP address); after AXES_FAILURE_LIMIT failures that
pair is locked out for AXES_COOLOFF_TIME. Unknown usernames, wrong passwords and locked-out
identities all get the login page back, with one message that never says whether the account
exists.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


class UsernameOrEmailBackend(ModelBackend):
    """Log in with either the username or the e-mail address (case-insensitive)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs,
    ):
        if username is None or password is None:
            return None
        user_model = get_user_model()
        field = "email__iexact" if "@" in username else "username__iexact"
        user = user_model._default_manager.filter(**{field: username.strip()}).first()
        if user is None:
            # Spend the same time as a real check so response times don't reveal usernames.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def login_identity(request: HttpRequest | None, credentials: dict | None = None) -> str | None:
    """What django-axes counts failures against (AXES_USERNAME_CALLABLE): the identifier as
    typed in the login form, trimmed and lower-cased, so "Olivia" and " olivia" share one
    counter, as they share one account.

    The typed value is preferred to `credentials`: after a successful login axes passes the
    account's username, and the failures to reset were counted under what was typed (perhaps
    the e-mail address). An e-mail address is not resolved to its account's username: that
    would let a lockout reveal which address belongs to which username.
    """
    post = getattr(request, "POST", None)
    typed = post.get("username") if post is not None else None
    raw = typed or (credentials or {}).get("username")
    if not raw:
        return None
    return str(raw).strip().lower()[:255]


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for axes (AXES_CLIENT_IP_CALLABLE). Behind TRUSTED_PROXY_COUNT
    reverse proxies that each append to X-Forwarded-For, the address the outermost proxy
    saw; otherwise the socket's address (a header a client can forge is never trusted)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


def cool_off() -> timedelta:
    value = settings.AXES_COOLOFF_TIME
    return value if isinstance(value, timedelta) else timedelta(hours=value)


def lockout_message() -> str:
    minutes = max(1, round(cool_off().total_seconds() / 60))
    return (
        "Too many unsuccessful attempts to log in. For your security, logging in is paused "
        f"for {minutes} minute{'' if minutes == 1 else 's'}: please try again later."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """django-axes's answer to a locked-out attempt (AXES_LOCKOUT_CALLABLE): the login page
    that was about to be shown (ours or the admin's), with the lockout message in place of the
    form's error, and status 429 with Retry-After. The same for every identity, existing or
    not."""
    context = dict(getattr(original_response, "context_data", None) or {})
    template = getattr(original_response, "template_name", None)
    form = context.get("form")
    if form is None or template is None:
        from glamiti.forms import LoginForm  # forms imports models: not at module load

        form = LoginForm(request)
        template = "registration/login.html"
        context = {"form": form, "next": request.POST.get("next", "")}
    # `errors` validates a bound form (an unbound one gets an empty dict); replace whatever
    # it said about the password with the lockout message.
    form.errors[NON_FIELD_ERRORS] = form.error_class(
        [lockout_message()], error_class="nonfield", renderer=form.renderer
    )
    response = TemplateResponse(request, template, context, status=429)
    response["Retry-After"] = str(int(cool_off().total_seconds()))
    # Axes's middleware runs after Django rendered the view's response: render this one too.
    return response.render()
