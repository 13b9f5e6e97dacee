"""The reminder and escalation job (README "Jobs"): what `manage.py send_reminders` runs, as a background job.

``run_reminders`` is the one implementation: queue each clinic's nurse digest, escalate the urgent alerts left
unacknowledged, then (unless told not to) send what is due from the outbox. The cron command calls it directly or
enqueues ``send_reminders_job``; the worker runs the job every 30 minutes (registered in ``MonitoringConfig.ready``).

Idempotent, so several workers, a retry and a cron run may overlap: a digest's outbox key names the clinic and the
day and an escalation's the alert (``monitoring.reminders``), both unique, so each is queued once, and the outbox
sends each row once (``portal.outbox``). A job that raises is run again with backoff (``portal.jobs``); an email the
mail server refuses is retried by the outbox with the same backoff, without failing the job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django_tasks import task

from monitoring.models import Alert
from monitoring.reminders import Digest, reminder_digests
from monitoring.services import alerts_escalate, reminder_digest_enqueue
from portal.jobs import retry_with_backoff
from portal.outbox import DeliveryReport, outbox_deliver

REMINDERS_EVERY = dt.timedelta(minutes=30)
ESCALATE_AFTER_HOURS = 4


@dataclass
class RemindersReport:
    """What one run did: each clinic's digest ("queued", "already queued" or "no recipients"), the alerts it
    escalated, and the delivery (None when not delivered)."""

    digests: list[tuple[Digest, str]] = field(default_factory=list)
    escalated: list[Alert] = field(default_factory=list)
    delivery: DeliveryReport | None = None

    def counts(self) -> dict:
        """Counts and clinic ids only: the job's stored result, which must not name a patient."""
        outcomes = [outcome for _, outcome in self.digests]
        counts: dict = {
            "digests_queued": outcomes.count(QUEUED),
            "digests_already_queued": outcomes.count(ALREADY_QUEUED),
            "clinics_without_nurse_email": sorted(d.clinic_id for d, outcome in self.digests if outcome == NOBODY),
            "alerts_escalated": len(self.escalated),
        }
        if self.delivery is not None:
            counts.update(
                emails_sent=len(self.delivery.sent),
                emails_retrying=len(self.delivery.retrying),
                emails_failed=len(self.delivery.failed),
            )
        return counts


QUEUED, ALREADY_QUEUED, NOBODY = "queued", "already queued", "no recipients"


def run_reminders(*, older_than: dt.timedelta, deliver: bool = True, today: dt.date | None = None) -> RemindersReport:
    """Queue today's digests, escalate urgent alerts open longer than ``older_than``, then deliver due emails."""
    report = RemindersReport()
    for digest in reminder_digests(today=today or timezone.localdate()):
        if not digest.recipients:
            report.digests.append((digest, NOBODY))
        else:
            report.digests.append((digest, QUEUED if reminder_digest_enqueue(digest=digest) else ALREADY_QUEUED))
    report.escalated = alerts_escalate(older_than=older_than)
    if deliver:
        report.delivery = outbox_deliver()
    return report


@retry_with_backoff
@task()
def send_reminders_job(hours: int = ESCALATE_AFTER_HOURS, deliver: bool = True) -> dict:
    """The nurses' digests and the escalations, then delivery (see the module docstring)."""
    return run_reminders(older_than=dt.timedelta(hours=hours), deliver=deliver).counts()
