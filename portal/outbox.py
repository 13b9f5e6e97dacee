"""The transactional email outbox: queue an email in the transaction of the change it reports, deliver it later.

``email_enqueue`` inserts an ``OutboundEmail`` row; its ``dedupe_key`` is unique, so a second enqueue of the same
key (another process, a re-run, a retried job) is a no-op, on PostgreSQL and SQLite alike. Because the row is
written in the caller's transaction, an email exists exactly when the change it reports was committed.

``outbox_deliver`` sends what is due. It claims one row at a time (PostgreSQL: ``SELECT … FOR UPDATE SKIP
LOCKED``; SQLite, which has no row locks: an ``UPDATE … WHERE status = 'pending'`` whose row count says who won),
so any number of deliverers can run at once and each email is sent by one of them. A failure is retried with the
backoff of ``portal.backoff`` and, after the last attempt, marked failed, logged and audited. A deliverer that dies
mid-send leaves its row "sending"; after ``CLAIM_LEASE`` another deliverer takes it again (at least once, never
lost). Both functions are plain service functions, callable from a management command or a task queue job.

Never log or audit a subject or body: only the key (``digest:<clinic id>:<date>``, ``escalation:<alert id>``) and
the exception class.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from portal.audit import audit_record
from portal.backoff import MAX_ATTEMPTS, retry_delay
from portal.env import join_url
from portal.models import AuditEvent, OutboundEmail

logger = logging.getLogger(__name__)

# How long a claimed row may stay "sending" before another deliverer assumes its deliverer died. Far longer than
# one message can take (EMAIL_TIMEOUT bounds each SMTP operation), so a slow send is not sent twice.
CLAIM_LEASE = dt.timedelta(minutes=15)


def absolute_url(path: str) -> str:
    """The absolute address of a portal path (``reverse(...)`` or ``get_absolute_url()``) for an email:
    PORTAL_BASE_URL plus the path. Every link in every email goes through here."""
    return join_url(settings.PORTAL_BASE_URL, path)


@transaction.atomic
def email_enqueue(
    *, key: str, to: list[str], subject: str, body: str, now: dt.datetime | None = None
) -> tuple[OutboundEmail, bool]:
    """Queue an email under ``key`` unless one with that key exists. Returns the row and whether it was new.

    Call it inside the transaction of the change the email reports; that change rolling back takes the email
    with it. ``key`` names what the email is about, not when it was queued, so that re-runs find it."""
    recipients = list(dict.fromkeys(address.strip() for address in to if address and address.strip()))
    if not recipients:
        raise ValidationError("An email needs at least one recipient.")
    if "\n" in subject or "\r" in subject:
        raise ValidationError("An email subject is one line.")
    now = now or timezone.now()
    candidate = OutboundEmail(
        dedupe_key=key, recipients=recipients, subject=subject, body=body, next_attempt_at=now, created_at=now
    )
    candidate.full_clean(validate_unique=False)
    # get_or_create inserts in a savepoint and, on the unique key's IntegrityError, reads the row the other
    # transaction committed: safe under concurrency (PostgreSQL waits for the other insert to commit or roll back).
    row, created = OutboundEmail.objects.get_or_create(
        dedupe_key=key,
        defaults={
            "recipients": recipients,
            "subject": subject,
            "body": body,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    return row, created


@dataclass
class DeliveryReport:
    """What one ``outbox_deliver`` run did, by dedupe key."""

    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"Emails: {len(self.sent)} sent, {len(self.retrying)} to retry later, {len(self.failed)} given up."

    def problems(self) -> list[str]:
        """One line per email not sent (for stderr, which cron mails)."""
        return [f"Email not sent, will retry: {key}" for key in self.retrying] + [
            f"Email failed after the last attempt (see admin, Outbound emails): {key}" for key in self.failed
        ]


def _due(now: dt.datetime) -> Q:
    pending = Q(status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now)
    abandoned = Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=now - CLAIM_LEASE)
    return pending | abandoned


def _claim_next(now: dt.datetime) -> OutboundEmail | None:
    """Take the next due row for this deliverer (status "sending"), or None when nothing is due."""
    order = ("next_attempt_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            row = OutboundEmail.objects.select_for_update(skip_locked=True).filter(_due(now)).order_by(*order).first()
            if row is None:
                return None
            OutboundEmail.objects.filter(pk=row.pk).update(status=OutboundEmail.Status.SENDING, claimed_at=now)
    else:
        while True:
            pk = OutboundEmail.objects.filter(_due(now)).order_by(*order).values_list("pk", flat=True).first()
            if pk is None:
                return None
            # Whoever flips the row wins; the others see a row count of 0 and look for the next one.
            won = OutboundEmail.objects.filter(_due(now), pk=pk).update(
                status=OutboundEmail.Status.SENDING, claimed_at=now
            )
            if won:
                row = OutboundEmail.objects.get(pk=pk)
                break
    row.status, row.claimed_at = OutboundEmail.Status.SENDING, now
    return row


def _mine(row: OutboundEmail):
    """The row, if this deliverer still holds its claim (not taken over after the lease)."""
    return OutboundEmail.objects.filter(pk=row.pk, status=OutboundEmail.Status.SENDING, claimed_at=row.claimed_at)


def _audit(row: OutboundEmail, summary: str, attempts: int) -> None:
    audit_record(
        actor=None,
        action=AuditEvent.Action.CHANGE,
        object_type="portal.outboundemail",
        object_id=str(row.pk),
        summary=summary,
        changes={"key": row.dedupe_key, "recipients": len(row.recipients), "attempts": attempts},
    )


@transaction.atomic
def _record_sent(row: OutboundEmail, now: dt.datetime) -> None:
    attempts = row.attempts + 1
    _mine(row).update(
        status=OutboundEmail.Status.SENT, sent_at=now, attempts=F("attempts") + 1, last_error="", claimed_at=None
    )
    _audit(row, "Email sent", attempts)


@transaction.atomic
def _record_failure(row: OutboundEmail, exc: Exception, now: dt.datetime, report: DeliveryReport) -> None:
    attempts = row.attempts + 1
    error = exc.__class__.__name__[:100]
    delay = retry_delay(attempts)
    if delay is None:
        _mine(row).update(
            status=OutboundEmail.Status.FAILED, attempts=F("attempts") + 1, last_error=error, claimed_at=None
        )
        logger.error("outbox: email %s gave up after %d attempts (%s)", row.dedupe_key, attempts, error)
        _audit(row, f"Email failed: gave up after {attempts} attempts", attempts)
        report.failed.append(row.dedupe_key)
        return
    _mine(row).update(
        status=OutboundEmail.Status.PENDING,
        attempts=F("attempts") + 1,
        last_error=error,
        next_attempt_at=now + delay,
        claimed_at=None,
    )
    logger.warning(
        "outbox: email %s not sent (%s), attempt %d of %d; next try in %s",
        row.dedupe_key,
        error,
        attempts,
        MAX_ATTEMPTS,
        delay,
    )
    report.retrying.append(row.dedupe_key)


def outbox_deliver(*, now: dt.datetime | None = None, limit: int = 500) -> DeliveryReport:
    """Send up to ``limit`` due emails; a failed one is scheduled again (or given up), and never stops the rest.

    Not one transaction: each claim and each outcome commits on its own, so a crash loses at most the outcome of
    the email being sent (it is then sent again after ``CLAIM_LEASE``)."""
    now = now or timezone.now()
    report = DeliveryReport()
    backend = get_connection()
    for _ in range(limit):
        row = _claim_next(now)
        if row is None:
            break
        message = EmailMessage(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, row.recipients, connection=backend)
        try:
            message.send()
        except Exception as exc:  # noqa: BLE001  any backend error: retry later, go on with the next email
            _record_failure(row, exc, now, report)
        else:
            _record_sent(row, now)
            report.sent.append(row.dedupe_key)
    return report


@transaction.atomic
def outbox_retry_failed(*, now: dt.datetime | None = None) -> int:
    """Queue the emails that were given up on again, from their first attempt (after the mail server is fixed)."""
    now = now or timezone.now()
    rows = list(OutboundEmail.objects.select_for_update().filter(status=OutboundEmail.Status.FAILED))
    for row in rows:
        _audit(row, "Email queued again after failing", row.attempts)
    return OutboundEmail.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=OutboundEmail.Status.PENDING, attempts=0, next_attempt_at=now, claimed_at=None
    )
