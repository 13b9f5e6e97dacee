"""Single sign-on with OpenID Connect (mozilla-django-oidc), next to the local accounts.

- Settings: ``settings.PORTAL_OIDC`` (portal/env.py, from the PORTAL_OIDC_* variables; None = off). The endpoints
  are not settings: they come from the provider's discovery document, read on the first sign-in and kept for an
  hour (``provider_metadata``), so an operator sets one issuer URL and the endpoints can never disagree with it.
  mozilla-django-oidc reads everything through ``get_settings``; the backend and views below override it with
  ``oidc_setting``, which answers from PORTAL_OIDC and the discovery document.
- Users are found by issuer and ``sub`` (``portal.models.OidcIdentity``), never by email (see there).
- Roles and clinic come from the ID token and userinfo claims on every sign-in (``portal.oidc_claims``). The IdP
  never makes anyone staff or superuser; staff and superuser accounts cannot sign in through it at all.
- MFA: when the ID token asserts it (amr/acr), the identity is stored as the session's django-otp device, so the
  session is second-factor verified; otherwise the portal's own TOTP step follows (SecondFactorMiddleware).
- Refusals raise ``SignOnRefused``, failures ``SignOnFailed``: both out of ``authenticate`` (not PermissionDenied,
  so no password failure is counted), rendered and audited by the callback view.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import View
from django_otp import login as otp_login
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from portal import oidc_claims, roles
from portal.audit import audit_record
from portal.demo import demo_login_allowed, is_demo_username
from portal.models import AuditEvent, Clinic, OidcIdentity, User

logger = logging.getLogger(__name__)

BACKEND_PATH = "portal.security.oidc.PortalOIDCBackend"
ROLE_NAMES = {"dermatologist": roles.DERMATOLOGIST, "nurse": roles.NURSE, "catalogue_admin": roles.CATALOGUE_ADMIN}
METADATA_MAX_AGE_SECONDS = 3600


class SignOnRefused(Exception):
    """The provider vouched for the person, but the portal does not let them in (no role, no clinic, ...)."""

    def __init__(self, reason: str, *, user: User | None = None, username: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user
        self.username = username


class SignOnFailed(Exception):
    """The sign-in could not be completed or checked: provider unreachable, bad or tampered token, stale state."""


def config() -> dict | None:
    return getattr(settings, "PORTAL_OIDC", None)


def enabled() -> bool:
    return config() is not None


# --- Discovery ---------------------------------------------------------------------------------------------------

_metadata: dict[str, tuple[float, dict]] = {}
_metadata_lock = threading.Lock()
_REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


def provider_metadata() -> dict:
    """The provider's ``/.well-known/openid-configuration``, fetched once an hour per process.

    Its ``issuer`` must be the configured one (OpenID Connect Discovery 1.0, section 4.3), and it must offer RS256
    ID tokens. Failures are not cached: the next sign-in tries again.
    """
    cfg = config()
    if cfg is None:
        raise SignOnFailed("Single sign-on is not configured.")
    issuer = cfg["issuer"]
    with _metadata_lock:
        cached = _metadata.get(issuer)
        if cached is not None and time.monotonic() - cached[0] < METADATA_MAX_AGE_SECONDS:
            return cached[1]
    url = issuer + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=cfg["timeout"])
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        reason = type(exc).__name__
        raise SignOnFailed(f"The identity provider's discovery document could not be read ({reason}).") from None
    if not isinstance(data, dict) or str(data.get("issuer", "")).rstrip("/") != issuer:
        raise SignOnFailed("The identity provider's discovery document names another issuer.")
    if any(not isinstance(data.get(key), str) or not data[key] for key in _REQUIRED_ENDPOINTS):
        raise SignOnFailed("The identity provider's discovery document lacks an endpoint the portal needs.")
    if "RS256" not in data.get("id_token_signing_alg_values_supported", ["RS256"]):
        raise SignOnFailed("The identity provider does not sign ID tokens with RS256.")
    with _metadata_lock:
        _metadata[issuer] = (time.monotonic(), data)
    return data


def forget_provider_metadata() -> None:
    with _metadata_lock:
        _metadata.clear()


_FROM_METADATA = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


def oidc_setting(attr: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings, from PORTAL_OIDC and the discovery document (fixed protocol choices here:
    RS256 verified against the provider's JWKS, nonce, PKCE S256, bounded timeouts; only the ID token is kept in the
    session, for the logout at the provider)."""
    cfg = config()
    if cfg is not None:
        if attr in _FROM_METADATA:
            return provider_metadata()[_FROM_METADATA[attr]]
        fixed = {
            "OIDC_RP_CLIENT_ID": cfg["client_id"],
            "OIDC_RP_CLIENT_SECRET": cfg["client_secret"],
            "OIDC_RP_SCOPES": cfg["scopes"],
            "OIDC_TIMEOUT": cfg["timeout"],
            "OIDC_RP_SIGN_ALGO": "RS256",
            "OIDC_RP_IDP_SIGN_KEY": None,
            "OIDC_ALLOW_UNSECURED_JWT": False,
            "OIDC_VERIFY_SSL": True,
            "OIDC_VERIFY_KID": True,
            "OIDC_USE_NONCE": True,
            "OIDC_USE_PKCE": True,
            "OIDC_STORE_ACCESS_TOKEN": False,
            "OIDC_STORE_ID_TOKEN": True,  # session["oidc_id_token"]: the id_token_hint of the provider logout
            "OIDC_CREATE_USER": True,
        }
        if attr in fixed:
            return fixed[attr]
    return import_from_settings(attr, *default)


# --- Signing in: the identity, the account, its roles and clinic -------------------------------------------------

_USERNAME_CHARS = re.compile(r"[^\w.@+-]")


def _username_hint(claims: dict) -> str:
    for key in ("preferred_username", "email"):
        value = claims.get(key)
        if isinstance(value, str) and _USERNAME_CHARS.sub("", value)[:140]:
            return _USERNAME_CHARS.sub("", value)[:140]
    return "sso-" + hashlib.sha256(str(claims.get("sub", "")).encode()).hexdigest()[:12]


def _free_username(hint: str) -> str:
    """``hint``, or ``hint-2``, ``hint-3``...: never an existing account's name (a new identity gets a new account,
    it never takes one over) and never a demo account's."""
    for n in range(1, 50):
        candidate = hint if n == 1 else f"{hint}-{n}"
        if not is_demo_username(candidate) and not User.objects.filter(username__iexact=candidate).exists():
            return candidate
    return "sso-" + hashlib.sha256(hint.encode()).hexdigest()[:16]


def _text_claim(claims: dict, key: str, limit: int) -> str:
    value = claims.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


@transaction.atomic
def identity_sign_in(*, claims: dict) -> tuple[User, OidcIdentity, bool]:
    """The account for the verified ``claims`` (ID token over userinfo), created at the first sign-in, with its
    roles and clinic set from the claims; returns it, its identity and whether the ID token asserted MFA.

    Raises SignOnRefused (nothing written) when the claims give no role or clinic, or the account may not sign in
    this way. Audited: account created, roles or clinic changed.
    """
    cfg = config()
    assert cfg is not None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignOnFailed("The ID token has no usable subject (sub).")
    decision = oidc_claims.decide(
        claims,
        groups_claim=cfg["groups_claim"],
        role_map=cfg["role_map"],
        clinic_claim=cfg["clinic_claim"],
        clinic_map=cfg["clinic_map"],
        amr_values=cfg["mfa_amr"],
        acr_values=cfg["mfa_acr"],
    )
    identity = (
        OidcIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=cfg["issuer"], subject=subject)
        .first()
    )
    existing = identity.user if identity is not None else None
    hint = _username_hint(claims)
    if decision.refusal is not None:
        raise SignOnRefused(decision.refusal.value, user=existing, username=hint)
    if existing is not None and (existing.is_staff or existing.is_superuser):
        raise SignOnRefused(
            "administrator accounts log in with their password and second factor", user=existing, username=hint
        )
    if existing is not None and not existing.is_active:
        raise SignOnRefused("this account is deactivated", user=existing, username=hint)
    clinic = None
    if decision.clinic is not None:
        clinic = Clinic.objects.filter(name=decision.clinic).first()
        if clinic is None:
            raise SignOnRefused(
                f"the clinic {decision.clinic!r} is not set up in JAK Portal", user=existing, username=hint
            )

    if identity is None:
        user = User(username=_free_username(hint))
        user.set_unusable_password()  # signs in through the provider only
        user.full_clean(exclude=["password"])
        user.save()
        identity = OidcIdentity(user=user, issuer=cfg["issuer"], subject=subject, confirmed=True)
        identity.name = f"Single sign-on ({cfg['name']})"[:64]
        identity.save()
        audit_record(
            actor=None, action=AuditEvent.Action.CREATE, obj=user, summary="Account created at first single sign-on"
        )
    else:
        user = identity.user

    changes: dict[str, Any] = {}
    for field, key, limit in (("first_name", "given_name", 150), ("last_name", "family_name", 150)):
        value = _text_claim(claims, key, limit)
        if value and getattr(user, field) != value:
            setattr(user, field, value)
    email = _text_claim(claims, "email", 254)
    if email and user.email != email:
        user.email = email
    if clinic is not None and user.clinic_id != clinic.pk:
        changes["clinic"] = {"from": str(user.clinic) if user.clinic_id else "", "to": clinic.name}
        user.clinic = clinic
    user.save()

    wanted = {ROLE_NAMES[key] for key in decision.roles}
    current = set(user.groups.filter(name__in=roles.ROLES).values_list("name", flat=True))
    if wanted != current:
        user.groups.remove(*Group.objects.filter(name__in=current - wanted))
        user.groups.add(*Group.objects.filter(name__in=wanted - current))
        changes["roles"] = {"from": ", ".join(sorted(current)), "to": ", ".join(sorted(wanted))}
    if changes:
        audit_record(
            actor=None,
            action=AuditEvent.Action.CHANGE,
            obj=user,
            summary="Roles or clinic set from the identity provider",
            changes=changes,
        )
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["last_login_at"])
    return user, identity, decision.mfa


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's code flow, with the checks it leaves out: ``iss`` and ``aud`` of the ID token, and
    the userinfo ``sub`` against the ID token's (OpenID Connect Core 1.0, 3.1.3.7 and 5.3.2)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds every backend for each authenticate() and get_user(); mozilla's __init__ reads the
        # endpoints, which would fetch the discovery document on every page. They are read in authenticate().
        self.UserModel = auth.get_user_model()

    def authenticate(self, request, nonce, code_verifier=None):
        """Only the callback view's call matches this signature (``nonce`` is required), so password log-ins never
        reach it. Returns the user, or raises SignOnRefused / SignOnFailed; never None (which would send
        user_login_failed, a wrong password to the audit trail and django-axes)."""
        if request is None or not enabled():
            raise SignOnFailed("Single sign-on is not configured.")
        super().__init__()  # the endpoints, from the discovery document
        try:
            user = super().authenticate(request, nonce=nonce, code_verifier=code_verifier)
        except (
            requests.RequestException,
            jwt.PyJWTError,
            SuspiciousOperation,
            ValidationError,
            ValueError,
            KeyError,
        ) as exc:
            raise SignOnFailed(f"The sign-in could not be checked ({type(exc).__name__}: {exc}).") from None
        if user is None:  # mozilla logged why (a SuspiciousOperation from get_or_create_user)
            raise SignOnFailed("The identity provider's answer did not check out.")
        return user

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)  # RS256 signature against the JWKS, expiry, nonce
        cfg = config()
        assert cfg is not None
        if str(payload.get("iss", "")).rstrip("/") != cfg["issuer"]:
            raise SuspiciousOperation("The ID token comes from another issuer.")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        if cfg["client_id"] not in audiences:
            raise SuspiciousOperation("The ID token is not meant for this portal (aud).")
        if len(audiences) > 1 and payload.get("azp") != cfg["client_id"]:
            raise SuspiciousOperation("The ID token is not meant for this portal (azp).")
        if "exp" not in payload:
            raise SuspiciousOperation("The ID token has no expiry.")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if not isinstance(userinfo, dict) or userinfo.get("sub") != payload.get("sub"):
            raise SignOnFailed("The identity provider's userinfo is about someone else (sub).")
        claims = {**userinfo, **payload}  # the signed ID token wins over userinfo
        try:
            user, identity, mfa = identity_sign_in(claims=claims)
        except IntegrityError:
            # The same identity's first sign-in in two tabs at once: the unique (issuer, sub) constraint let one
            # create the account, and this one, run again, finds it.
            user, identity, mfa = identity_sign_in(claims=claims)
        user.portal_oidc_identity = identity  # type: ignore[attr-defined]  # read by the callback view
        user.portal_oidc_mfa = mfa  # type: ignore[attr-defined]
        return user

    def get_user(self, user_id):
        # ModelBackend's: refuses inactive users (mozilla's does not), and demo accounts outside demo mode.
        # With single sign-on switched off, its sessions end.
        if not enabled():
            return None
        return ModelBackend.get_user(self, user_id)

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and demo_login_allowed(user.get_username())


def provider_logout_url(request) -> str | None:
    """Where the portal's logout sends a single sign-on session next: the provider's ``end_session_endpoint``
    (OpenID Connect RP-Initiated Logout 1.0) with the ID token as hint and the log-in page to come back to. None for
    a local session, or when the provider has no such endpoint or cannot be reached (the portal session ends anyway).
    Read before the portal's logout flushes the session."""
    id_token = request.session.get("oidc_id_token")
    cfg = config()
    if cfg is None or not isinstance(id_token, str) or not id_token:
        return None
    try:
        endpoint = provider_metadata().get("end_session_endpoint")
    except SignOnFailed:
        return None
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return None
    params = {
        "id_token_hint": id_token,
        "client_id": cfg["client_id"],
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


# --- Views -------------------------------------------------------------------------------------------------------


def _failure_page(request, message: str, *, status: int):
    cfg = config() or {}
    context = {"message": message, "provider": cfg.get("name", "single sign-on")}
    return render(request, "registration/sso_failed.html", context, status=status)


@method_decorator([login_not_required, never_cache], name="dispatch")
class SignOnStartView(OIDCAuthenticationRequestView):
    """GET: off to the provider's authorization endpoint (state, nonce and PKCE in the session)."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # mozilla's __init__ reads the endpoint; get() does, once configured

    def get(self, request):
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except SignOnFailed as exc:
            logger.warning("Single sign-on could not start: %s", exc)
            return _failure_page(request, "The identity provider cannot be reached just now.", status=503)
        self.OIDC_RP_CLIENT_ID = oidc_setting("OIDC_RP_CLIENT_ID")
        return super().get(request)


@method_decorator([login_not_required, never_cache], name="dispatch")
class SignOnCallbackView(OIDCAuthenticationCallbackView):
    """The provider sends the browser back here with a code; mozilla's view checks the state and calls the
    backend. Refusals and failures get a page of their own and a row in the audit trail."""

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except SignOnRefused as refusal:
            audit_record(
                actor=refusal.user,
                action=AuditEvent.Action.LOGIN_FAILED,
                object_type="portal.oidcidentity",
                summary=f"Refused single sign-on for {refusal.username!r}: {refusal.reason}",
            )
            cfg = config() or {}
            context = {"reason": refusal.reason, "provider": cfg.get("name", "single sign-on")}
            return render(request, "registration/sso_refused.html", context, status=403)
        except (SignOnFailed, SuspiciousOperation) as exc:
            logger.warning("Single sign-on failed: %s", exc)
            audit_record(
                actor=None,
                action=AuditEvent.Action.LOGIN_FAILED,
                object_type="portal.oidcidentity",
                summary=f"Failed single sign-on: {str(exc)[:200]}",
            )
            return _failure_page(request, "The sign-in could not be completed. Please try again.", status=400)

    def login_failure(self):
        # The provider answered with an error (the person cancelled, or it refused), or the state was missing.
        return _failure_page(self.request, "The sign-in was not completed at the identity provider.", status=400)

    def login_success(self):
        request = self.request
        auth.login(request, self.user)  # always a fresh session key; the audit row says "via single sign-on"
        if getattr(self.user, "portal_oidc_mfa", False):
            # The provider's MFA is this session's second factor: the identity is the verifying device.
            otp_login(request, self.user.portal_oidc_identity)
            audit_record(
                actor=self.user,
                action=AuditEvent.Action.OTP_VERIFIED,
                obj=self.user,
                summary="Second factor passed at the identity provider",
            )
        return HttpResponseRedirect(self.success_url)
