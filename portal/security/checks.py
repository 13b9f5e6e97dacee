"""Deploy checks (``manage.py check --deploy``) for account safety."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError


@register(Tags.security, deploy=True)
def demo_accounts_check(app_configs=None, **kwargs) -> list[CheckMessage]:
    """portal.E001: active demo accounts (published password) in a database served with PORTAL_DEMO off.

    The log-in refuses them anyway (portal.security.backends); this makes the leftover visible before going
    live. Only in --deploy, because it reads the database; a database without the tables has no accounts.
    """
    if settings.PORTAL_DEMO:
        return []
    from portal.demo import DEMO_USERNAMES
    from portal.models import User

    try:
        found = sorted(
            User.objects.filter(username__in=DEMO_USERNAMES, is_active=True).values_list("username", flat=True)
        )
    except DatabaseError:  # not migrated (no accounts at all) or not reachable (the portal cannot run either)
        return []
    if not found:
        return []
    return [
        Error(
            f"Demo accounts with the published password exist while PORTAL_DEMO is off: {', '.join(found)}.",
            hint="Log-in refuses them, but deactivate them (Django admin: Users, untick 'Active') or use a fresh "
            "database; `make run` data is not meant for production.",
            id="portal.E001",
        )
    ]
