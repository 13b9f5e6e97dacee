"""Send each clinic's nurses what is due and overdue, and escalate urgent alerts left unacknowledged.

Idempotent and ready for cron: each clinic's nurses get one digest a day (marked in the audit trail, so running
the command every 30 minutes sends it once), and an alert is escalated once (``escalated_at`` is set and audited).
A failed email is reported and does not stop the rest. Emails carry record numbers and opaque ids only, never
patient names.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.core.management import BaseCommand
from django.db.models import Count, Q
from django.utils import timezone

from monitoring.recipients import current_recipient
from monitoring.services import alerts_escalate
from portal import roles
from portal.models import AuditEvent, Clinic, User
from therapy.selectors import open_checks

logger = logging.getLogger(__name__)
DIGEST_SUMMARY = "Reminder digest sent for {}"


class Command(BaseCommand):
    help = "Email nurses their due and overdue checks per clinic, and escalate urgent alerts unacknowledged > N hours."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=4, help="Escalate urgent alerts open longer (default 4).")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be sent; change nothing.")

    def handle(self, *args, **options):
        today = timezone.localdate()
        sender = getattr(settings, "DEFAULT_FROM_EMAIL", "jak-portal@localhost")
        nurses = defaultdict(list)
        for nurse in User.objects.filter(groups__name=roles.NURSE, is_active=True, clinic__isnull=False):
            nurses[nurse.clinic_id].append(nurse)
        # Open checks due, less the baseline screening the patient's record satisfies by now (as on the worklist).
        due = open_checks(due_date__lte=today)
        counts = due.values("patient__clinic_id").annotate(
            overdue=Count("id", filter=Q(due_date__lt=today)), due=Count("id", filter=Q(due_date=today))
        )
        clinics = {c.pk: c for c in Clinic.objects.all()}
        already = set(
            AuditEvent.objects.filter(object_type="portal.clinic", summary=DIGEST_SUMMARY.format(today)).values_list(
                "object_id", flat=True
            )
        )
        for row in counts:
            clinic_id = row["patient__clinic_id"]
            if str(clinic_id) in already:
                self.stdout.write(f"Clinic {clinic_id}: today's digest was already sent")
                continue
            items = due.filter(patient__clinic_id=clinic_id).select_related("patient").order_by("due_date", "id")[:100]
            lines = [
                f"- {i.patient.record_number}: {i.check_type} due {i.due_date.isoformat()}"
                + (f" ({(today - i.due_date).days} days overdue)" if i.due_date < today else " (today)")
                for i in items
            ]
            body = (
                f"{clinics[clinic_id].name}: {row['overdue']} overdue and {row['due']} due today.\n\n"
                + "\n".join(lines)
                + "\n\nOpen the worklist in JAK Portal: /monitoring/worklist/\n"
            )
            recipients = [n.email for n in nurses.get(clinic_id, []) if n.email]
            self.stdout.write(f"Clinic {clinic_id}: {row['overdue']} overdue, {row['due']} due today")
            subject = "JAK Portal: checks due and overdue"
            if recipients and not options["dry_run"] and self._send(subject, body, sender, recipients):
                AuditEvent.objects.create(
                    action=AuditEvent.Action.CREATE,
                    object_type="portal.clinic",
                    object_id=str(clinic_id),
                    summary=DIGEST_SUMMARY.format(today),
                    changes={"recipients": len(recipients), "overdue": row["overdue"], "due": row["due"]},
                )
        if options["dry_run"]:
            self.stdout.write("Dry run: no alerts escalated.")
            return
        escalated = alerts_escalate(older_than=dt.timedelta(hours=options["hours"]))
        for alert in escalated:
            # To whom the alert is for now (never someone who left or moved to another clinic); an alert for
            # nobody in particular goes to the active dermatologists of the patient's clinic.
            current = current_recipient(alert)
            people = [current] if current else self._clinic_dermatologists(alert.patient.clinic_id)
            to = [p.email for p in people if p.email]
            body = (
                f"Urgent alert {alert.public_id} for record {alert.patient.record_number} has not been acknowledged "
                f"for more than {options['hours']} hours.\n\n{alert.title}\n\nWhat to do: {alert.advice}\n\n"
                f"Open it in JAK Portal: {alert.get_absolute_url()}\n"
            )
            self.stdout.write(f"Escalated alert {alert.public_id} (record {alert.patient.record_number})")
            if to:
                self._send("JAK Portal: URGENT alert not acknowledged", body, sender, to)
        self.stdout.write(self.style.SUCCESS(f"Reminders sent; {len(escalated)} urgent alert(s) escalated."))

    def _clinic_dermatologists(self, clinic_id: int) -> list[User]:
        return list(User.objects.dermatologists_of(clinic_id).filter(is_active=True))

    def _send(self, subject: str, body: str, sender: str, to: list[str]) -> bool:
        try:
            send_mail(subject, body, sender, to)
        except Exception as exc:  # noqa: BLE001  one failed email must not stop the others
            logger.error("send_reminders: email %r not sent: %s", subject, exc.__class__.__name__)
            self.stderr.write(f"Email not sent ({subject}): {exc.__class__.__name__}")
            return False
        return True
