"""Queue each clinic's nurse digest and the escalation of urgent alerts left unacknowledged, then send due emails.

A thin wrapper of the reminder job (``monitoring.tasks``, README "Jobs"): by default it runs the job here and now
(for cron), with ``--enqueue`` it puts the same job on the queue for ``manage.py db_worker``. The worker also runs it
every 30 minutes by itself, so with a worker running no cron line is needed. Safe to run several at once and next
to the worker: each email is queued in the outbox (portal/outbox.py) under a unique key ("digest:<clinic>:<date>",
"escalation:<alert>") in the transaction of what it reports, so a clinic's nurses get one digest a day and an alert
is escalated and emailed once, however many runs overlap. Emails carry record numbers and opaque ids only, never
patient names.
"""

from __future__ import annotations

import datetime as dt

from django.core.management import BaseCommand
from django.utils import timezone

from monitoring.reminders import reminder_digests
from monitoring.tasks import ALREADY_QUEUED, ESCALATE_AFTER_HOURS, NOBODY, run_reminders, send_reminders_job


class Command(BaseCommand):
    help = "Email nurses their due and overdue checks per clinic, and escalate urgent alerts unacknowledged > N hours."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours",
            type=int,
            default=ESCALATE_AFTER_HOURS,
            help=f"Escalate urgent alerts open longer (default {ESCALATE_AFTER_HOURS}).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Print what would be sent; change nothing.")
        parser.add_argument(
            "--no-deliver", action="store_true", help="Only queue the emails; `manage.py deliver_email` sends them."
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Put the job on the queue for `manage.py db_worker` instead of running it here.",
        )

    def handle(self, *args, **options):
        if options["dry_run"]:
            for digest in reminder_digests(today=timezone.localdate()):
                self.stdout.write(f"Clinic {digest.clinic_id}: {digest.overdue} overdue, {digest.due} due today")
            self.stdout.write("Dry run: no alerts escalated, no emails queued or sent.")
            return
        if options["enqueue"]:
            result = send_reminders_job.enqueue(hours=options["hours"], deliver=not options["no_deliver"])
            self.stdout.write(f"Reminder job queued (task {result.id}); `manage.py db_worker` runs it.")
            return
        report = run_reminders(older_than=dt.timedelta(hours=options["hours"]), deliver=not options["no_deliver"])
        for digest, outcome in report.digests:
            self.stdout.write(f"Clinic {digest.clinic_id}: {digest.overdue} overdue, {digest.due} due today")
            if outcome == NOBODY:
                self.stderr.write(f"Clinic {digest.clinic_id}: no active nurse with an email address; no digest")
            elif outcome == ALREADY_QUEUED:
                self.stdout.write(f"Clinic {digest.clinic_id}: today's digest was already queued")
        for alert in report.escalated:
            self.stdout.write(f"Escalated alert {alert.public_id} (record {alert.patient.record_number})")
            if not alert.emailed_to:  # type: ignore[attr-defined]
                self.stderr.write(f"Alert {alert.public_id}: nobody to email (no email address)")
        self.stdout.write(self.style.SUCCESS(f"Reminders queued; {len(report.escalated)} urgent alert(s) escalated."))
        if report.delivery is not None:
            self.stdout.write(report.delivery.summary())
            for line in report.delivery.problems():
                self.stderr.write(line)
