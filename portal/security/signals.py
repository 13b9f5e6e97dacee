"""Log-ins, log-outs, failed log-ins and lockouts go to the audit trail (never the password)."""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal.audit import audit_record
from portal.models import AuditEvent

AUTH_TIME_KEY = "portal_auth_time"
NO_DEVICE_KEY = "portal_no_otp_device"


@receiver(user_logged_in, dispatch_uid="portal_audit_login")
def _logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        from portal.security import twofactor

        request.session[AUTH_TIME_KEY] = int(time.time())  # start of the 12-hour absolute limit
        # Checked once per log-in; the second-factor middleware uses it when 2FA is optional.
        request.session[NO_DEVICE_KEY] = not twofactor.has_confirmed_device(user)
    from portal.security.oidc import BACKEND_PATH

    via = " via single sign-on" if getattr(user, "backend", "") == BACKEND_PATH else ""
    audit_record(actor=user, action=AuditEvent.Action.LOGIN, obj=user, summary=f"Logged in{via}")


@receiver(user_logged_out, dispatch_uid="portal_audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action=AuditEvent.Action.LOGOUT, obj=user, summary="Logged out")


@receiver(user_login_failed, dispatch_uid="portal_audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    """One row per wrong password; the attempted username is kept so the per-username cap can count it.

    Attempts that django-axes refused before checking the password (the username is locked) are audited as
    "locked out" by ``_locked_out`` instead, so they do not extend the per-username cap. Axes' own receiver
    may run before this one (it is connected when axes.signals is first imported), so the failure that
    reaches a limit is told apart by the lockout handler's LOCK_REACHED_ATTR flag, and still counted here.
    """
    from portal.security import devices
    from portal.security.backends import DEMO_REFUSED_ATTR
    from portal.security.lockout import FAILURE_AUDITED_ATTR, LOCK_REACHED_ATTR

    if getattr(request, "axes_locked_out", False) and not getattr(request, LOCK_REACHED_ATTR, False):
        return

    username = str(credentials.get("username", ""))[:150]
    device_id = devices.device_id_for(request, username)
    if getattr(request, DEMO_REFUSED_ATTR, False):
        summary = f"Refused log-in for demo account {username!r} (PORTAL_DEMO is off)"
    else:
        summary = f"Failed login for username {username!r}"
    AuditEvent.objects.create(
        action=AuditEvent.Action.LOGIN_FAILED,
        actor_username=username,
        # A known device's failures are counted for that device, not towards the username's locks.
        object_type=devices.OBJECT_TYPE if device_id else "portal.user",
        object_id=device_id or "",
        summary=summary[:300],
    )
    if request is not None:
        setattr(request, FAILURE_AUDITED_ATTR, True)


@receiver(user_locked_out, dispatch_uid="portal_audit_locked_out")
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    if getattr(request, "_portal_lock_audited", False):
        return
    if request is not None:
        request._portal_lock_audited = True
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOCKED_OUT,
        object_type="axes.username",
        object_id=str(username or "")[:64],
        summary=f"Log-in locked for username {str(username or '')[:100]!r}",
    )
