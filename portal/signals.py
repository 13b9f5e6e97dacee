"""Log-ins, log-outs and failed log-ins go to the audit trail (never the password)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal.audit import audit_record
from portal.models import AuditEvent


@receiver(user_logged_in, dispatch_uid="portal_audit_login")
def _logged_in(sender, request, user, **kwargs):
    audit_record(actor=user, action=AuditEvent.Action.LOGIN, obj=user, summary="Logged in")


@receiver(user_logged_out, dispatch_uid="portal_audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(actor=user, action=AuditEvent.Action.LOGOUT, obj=user, summary="Logged out")


@receiver(user_login_failed, dispatch_uid="portal_audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOGIN_FAILED,
        object_type="portal.user",
        summary=f"Failed login for username {username!r}",
    )
