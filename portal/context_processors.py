from django.conf import settings

from portal.navigation import nav_for


def portal(request):
    user = getattr(request, "user", None)
    return {
        "nav_items": nav_for(user, request.path) if user is not None else [],
        "portal_demo": settings.PORTAL_DEMO,
        "portal_jurisdiction": settings.PORTAL_JURISDICTION,
        "session_idle_seconds": settings.SESSION_COOKIE_AGE,
        "session_warning_seconds": settings.PORTAL_SESSION_WARNING_SECONDS,
        "user_roles": ", ".join(user.role_names) if user is not None and user.is_authenticated else "",
    }
