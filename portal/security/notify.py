"""Tell a user by email that a factor of their log-in changed, so a change they did not make is noticed.

Plain text, no secrets, no patient data. Every message goes through ``notify_factor_change`` so it can later be
routed through the reminder outbox. The mail is sent after the change commits; a failed mail is logged and never
undoes or blocks the change.
"""

from __future__ import annotations

import datetime
import enum
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from portal.models import User

logger = logging.getLogger(__name__)


class FactorChange(enum.Enum):
    ENROLLED = "An authenticator app was set up for your account."
    REPLACED = "The authenticator app of your account was replaced by a new one."
    RESET_BY_ADMIN = "An administrator removed the authenticator app and backup codes of your account."
    BACKUP_CODES = "New backup codes were made for your account; the old ones no longer work."
    ENROLMENT_CODE = "An administrator issued an enrolment code for setting up an authenticator app on your account."


_BODY = """Hello {name},

{what}

When: {when} (UTC)

If you made this change, or asked an administrator to, there is nothing to do.
If you did not, tell your portal administrator at once: someone may know your password.

JAK Portal
"""


def _send(user: User, what: FactorChange) -> None:
    if not user.email:
        logger.info("Second-factor change not emailed: the account has no address (user id %s)", user.pk)
        return
    body = _BODY.format(
        name=user.get_full_name() or user.get_username(),
        what=what.value,
        when=timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
    )
    try:
        send_mail("JAK Portal: your two-step log-in changed", body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:  # the change stands; the mail is best effort
        logger.exception("Second-factor change email failed (user id %s, %s)", user.pk, what.name)


def notify_factor_change(user: User, what: FactorChange) -> None:
    """Email ``user`` that ``what`` happened, once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: _send(user, what))
