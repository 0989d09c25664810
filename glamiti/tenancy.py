"""Tenancy: the one way in to a business's data.

Every tenant URL carries the business slug (`/<business>/...`). The middleware resolves it,
checks the user's membership (not a member → 404), and runs the whole request — view and
template rendering — inside `tenant_context(business)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django_scopes import scope

from audit.context import Source, audit_context
from glamiti.models import Business, Membership
from glamiti.rls import set_tenant_setting

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from glamiti.models import User

TENANT_URL_KWARG = "business"
LAST_BUSINESS_SESSION_KEY = "last_business"


class BusinessRequest(HttpRequest):
    """The request a tenant view receives (for type checkers; the middleware sets these)."""

    business: Business
    membership: Membership
    htmx: HtmxDetails
    user: User


class TenantSwitchError(RuntimeError):
    """Raised when code tries to enter another business while one is active."""


_active_business: ContextVar[int | None] = ContextVar("glamiti_active_business", default=None)


@contextmanager
def tenant_context(business: Business) -> Iterator[Business]:
    """Activate `business` as the tenant: a transaction, the database's row-level security
    setting, the django-scopes scope and the business's time zone.

    The request middleware, management commands, background jobs and webhooks all enter a
    tenant through here, so this is the one place that decides what "being inside a tenant"
    means. `app.business_id` is set transaction-locally and cleared on the way out (or
    restored by the rollback on an error), so it never outlives the block, even when the
    block runs inside a longer transaction. Entering another business while one is active is
    refused; entering the same one again is a no-op.
    """
    if not isinstance(business, Business) or business.pk is None:
        raise ValueError("tenant_context needs a saved Business.")
    active = _active_business.get()
    if active is not None:
        if active != business.pk:
            raise TenantSwitchError(
                f"Business {active} is active; business {business.pk} cannot be entered here."
            )
        yield business
        return
    token = _active_business.set(business.pk)
    connection = transaction.get_connection()
    inside_a_transaction = connection.in_atomic_block
    try:
        with transaction.atomic():
            set_tenant_setting(business.pk)
            with scope(business=business), timezone.override(business.time_zone):
                yield business
            # Our own transaction's end clears it; a longer one's would not.
            if inside_a_transaction and not connection.needs_rollback:
                set_tenant_setting(None)
    finally:
        _active_business.reset(token)


def active_business_id() -> int | None:
    return _active_business.get()


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug = self._business_slug(request)
        if slug is None:
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = (
            Membership.objects.select_related("business")
            .filter(user=request.user, business__slug=slug)
            .first()
        )
        if membership is None:
            # Never 403: whether a business exists is not for outsiders to learn.
            raise Http404("No such page.")
        request.business = membership.business
        request.membership = membership
        if request.session.get(LAST_BUSINESS_SESSION_KEY) != slug:
            request.session[LAST_BUSINESS_SESSION_KEY] = slug
        with tenant_context(membership.business), audit_context(Source.WEB, actor=request.user):
            response = self.get_response(request)
            # Lazy responses must render while the tenant is still active.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Django turns a view's exception into a response before it reaches __call__: undo
        # whatever the view wrote, as if the exception had left the tenant's transaction.
        if getattr(request, "business", None) is not None and active_business_id() is not None:
            transaction.set_rollback(True)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> None:
        # Views get the business as request.business, never as a raw slug argument.
        view_kwargs.pop(TENANT_URL_KWARG, None)

    @staticmethod
    def _business_slug(request: HttpRequest) -> str | None:
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return None
        return match.kwargs.get(TENANT_URL_KWARG)


def role_required(minimum: str) -> Callable:
    """Allow a tenant view to members whose role is `minimum` or above; others get 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = getattr(request, "membership", None)
            if membership is None:
                raise Http404("No such page.")
            if not membership.has_role(minimum):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        wrapper.minimum_role = minimum  # type: ignore[attr-defined]
        return wrapper

    return decorator
