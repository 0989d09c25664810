from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def tenant(request: HttpRequest) -> dict:
    """The current business and, lazily, the user's other businesses for the switcher."""
    user = getattr(request, "user", None)

    def memberships() -> list:
        if user is None or not user.is_authenticated:
            return []
        return list(user.memberships.select_related("business"))

    return {
        "current_business": getattr(request, "business", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": SimpleLazyObject(memberships),
    }
