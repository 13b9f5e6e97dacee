"""Queue each clinic's nurse digest and the escalation of urgent alerts left unacknowledged, then send due emails.

Ready for cron, and safe to run several at once: each email is queued in the outbox (portal/outbox.py) under a
unique key ("digest:<clinic>:<date>", "escalation:<alert>") in the transaction of what it reports, so a clinic's
nurses get one digest a day and an alert is escalated and emailed once, however many runs overlap. Delivery then
sends what is due, retrying a failed email with backoff (``manage.py deliver_email`` does only that step). Emails
carry record numbers and opaque ids only, never patient names.
"""

from __future__ import annotations

import datetime as dt

from django.core.management import BaseCommand
from django.utils import timezone

from monitoring.reminders import reminder_digests
from monitoring.services import alerts_escalate, reminder_digest_enqueue
from portal.outbox import outbox_deliver


class Command(BaseCommand):
    help = "Email nurses their due and overdue checks per clinic, and escalate urgent alerts unacknowledged > N hours."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=4, help="Escalate urgent alerts open longer (default 4).")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be sent; change nothing.")
        parser.add_argument(
            "--no-deliver", action="store_true", help="Only queue the emails; `manage.py deliver_email` sends them."
        )

    def handle(self, *args, **options):
        today = timezone.localdate()
        for digest in reminder_digests(today=today):
            self.stdout.write(f"Clinic {digest.clinic_id}: {digest.overdue} overdue, {digest.due} due today")
            if options["dry_run"]:
                continue
            if not digest.recipients:
                self.stderr.write(f"Clinic {digest.clinic_id}: no active nurse with an email address; no digest")
            elif not reminder_digest_enqueue(digest=digest):
                self.stdout.write(f"Clinic {digest.clinic_id}: today's digest was already queued")
        if options["dry_run"]:
            self.stdout.write("Dry run: no alerts escalated, no emails queued or sent.")
            return
        escalated = alerts_escalate(older_than=dt.timedelta(hours=options["hours"]))
        for alert in escalated:
            self.stdout.write(f"Escalated alert {alert.public_id} (record {alert.patient.record_number})")
            if not alert.emailed_to:  # type: ignore[attr-defined]
                self.stderr.write(f"Alert {alert.public_id}: nobody to email (no email address)")
        self.stdout.write(self.style.SUCCESS(f"Reminders queued; {len(escalated)} urgent alert(s) escalated."))
        if not options["no_deliver"]:
            report = outbox_deliver()
            self.stdout.write(report.summary())
            for line in report.problems():
                self.stderr.write(line)
