"""Content-Security-Policy: django-csp's middleware, plus the origin Stripe.js comes from."""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

# Where the page needs Stripe.js's origin: to load it, to show its card field (an iframe) and
# to let it call its API (the local fake Stripe serves both from one origin).
STRIPE_JS_DIRECTIVES = ("script-src", "frame-src", "connect-src")


def stripe_js_origin() -> str | None:
    """The scheme://host[:port] of settings.STRIPE_JS_URL, or None when it has none."""
    parts = urlsplit(getattr(settings, "STRIPE_JS_URL", "") or "")
    if parts.scheme in {"http", "https"} and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


class StripeAwareCSPMiddleware(CSPMiddleware):
    """settings.CONTENT_SECURITY_POLICY, with the origin of settings.STRIPE_JS_URL added to
    script-src, frame-src and connect-src. The setting is read on every response, not once at
    start-up: tests point it at a local fake Stripe server on a port chosen at run time."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origin = stripe_js_origin()
        if origin is None:
            return parts
        update = dict(parts.update or {})
        for directive in STRIPE_JS_DIRECTIVES:
            existing = update.get(directive) or ()
            if isinstance(existing, str):
                existing = (existing,)
            update[directive] = (*existing, origin)
        parts.update = update
        return parts
