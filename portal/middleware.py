"""Cross-cutting request guards: no caching of staff pages, session limits, the second factor."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers

from portal.security.signals import AUTH_TIME_KEY


class NoStoreMiddleware:
    """Pages for signed-in staff are never cached, so the back button after logout shows no patient data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            add_never_cache_headers(response)
        return response


class SessionLimitMiddleware:
    """Absolute session limit: sign in again PORTAL_SESSION_ABSOLUTE_SECONDS after the password step.

    The idle limit is Django's own (SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST): an expired session
    row no longer loads, so the user is anonymous on the next request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(AUTH_TIME_KEY)
            if not isinstance(started, int) or time.time() - started > settings.PORTAL_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, "Your session reached its time limit. Please log in again.")
                return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


def _exempt_prefixes() -> tuple[str, ...]:
    names = (
        "login",
        "logout",
        "otp_verify",
        "otp_enrol",
        "healthz",
        "oidc_authentication_init",
        "oidc_authentication_callback",
    )
    return (*(reverse(name) for name in names), "/" + settings.STATIC_URL.lstrip("/"))


class SecondFactorMiddleware:
    """A session that passed the password but not the second factor reaches only the OTP and enrolment pages.

    Users with a confirmed authenticator always get the OTP step. Users without one are sent to enrolment when
    settings.PORTAL_REQUIRE_2FA is on (the default in production). Demo accounts are exempt only while
    settings.PORTAL_DEMO is on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        target = self._redirect_target(request)
        if target is not None:
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    def _redirect_target(self, request) -> str | None:
        from portal.security import twofactor

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        if request.path.startswith(_exempt_prefixes()) or _is_public_view(request):
            return None
        return twofactor.session_second_step(request)


def _is_public_view(request) -> bool:
    """Views marked ``login_not_required`` (the machine interfaces, which answer a half-signed-in session with
    their own 401 rather than an HTML redirect) decide for themselves, through ``twofactor.session_second_step``."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return getattr(match.func, "login_required", True) is False
