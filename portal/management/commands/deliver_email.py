"""Send the emails waiting in the outbox (portal/outbox.py): what cron or a task queue runs every few minutes."""

from __future__ import annotations

from django.core.management import BaseCommand

from portal.outbox import outbox_deliver, outbox_retry_failed


class Command(BaseCommand):
    help = "Send due emails from the outbox; failed ones are retried with backoff, then marked failed."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="Send at most this many emails (default 500).")
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="First put emails that were given up on back in the queue (after fixing the mail server).",
        )

    def handle(self, *args, **options):
        if options["retry_failed"]:
            count = outbox_retry_failed()
            self.stdout.write(f"{count} failed email(s) queued again.")
        report = outbox_deliver(limit=options["limit"])
        self.stdout.write(report.summary())
        for line in report.problems():
            self.stderr.write(line)
