"""The password backend: Django's ModelBackend, except that demo accounts work only in demo mode.

Every log-in goes through ``django.contrib.auth.authenticate`` and so through this backend: the log-in page,
the admin's log-in page and anything added later. Refusing here, not in one view, is what keeps a database
that `make run` once filled (demo accounts with the published password) from being usable when it is served
with PORTAL_DEMO off. ``user_can_authenticate`` is also what ``get_user`` asks on every request, so a session
a demo account opened in demo mode ends once the server runs without PORTAL_DEMO.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from portal.demo import demo_login_allowed

# Set on the request when a demo account was refused, so the log-in form can say why (see forms.LoginForm).
DEMO_REFUSED_ATTR = "portal_demo_account_refused"


class PortalModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not demo_login_allowed(username):
            # Before the password check: the answer is the same whatever the password, so it confirms nothing.
            if request is not None:
                setattr(request, DEMO_REFUSED_ATTR, True)
            raise PermissionDenied("Demo accounts are off.")  # stops authenticate(); user_login_failed is sent
        return super().authenticate(request, username=username, password=password, **kwargs)

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and demo_login_allowed(user.get_username())
