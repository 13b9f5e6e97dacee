"""Send each clinic's nurses what is due and overdue, and escalate urgent alerts left unacknowledged.

Idempotent and ready for cron: an alert is escalated once (``escalated_at`` is set and audited); the lists are a
snapshot each run. Emails carry record numbers and opaque ids only, never patient names.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.core.management import BaseCommand
from django.db.models import Count, Q
from django.utils import timezone

from monitoring.models import ScheduledItem
from monitoring.services_monitoring import alerts_escalate
from portal import roles
from portal.models import Clinic, User


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
        counts = (
            ScheduledItem.objects.filter(status=ScheduledItem.Status.OPEN, due_date__lte=today)
            .values("patient__clinic_id")
            .annotate(overdue=Count("id", filter=Q(due_date__lt=today)), due=Count("id", filter=Q(due_date=today)))
        )
        clinics = {c.pk: c for c in Clinic.objects.all()}
        for row in counts:
            clinic_id = row["patient__clinic_id"]
            items = (
                ScheduledItem.objects.filter(
                    status=ScheduledItem.Status.OPEN, due_date__lte=today, patient__clinic_id=clinic_id
                )
                .select_related("patient")
                .order_by("due_date", "id")[:100]
            )
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
            if recipients and not options["dry_run"]:
                send_mail("JAK Portal: checks due and overdue", body, sender, recipients)
        if options["dry_run"]:
            self.stdout.write("Dry run: no alerts escalated.")
            return
        escalated = alerts_escalate(older_than=dt.timedelta(hours=options["hours"]))
        for alert in escalated:
            to = [a for a in (alert.recipient.email if alert.recipient else "",) if a]
            body = (
                f"Urgent alert {alert.public_id} for record {alert.patient.record_number} has not been acknowledged "
                f"for more than {options['hours']} hours.\n\n{alert.title}\n\nWhat to do: {alert.advice}\n\n"
                f"Open it in JAK Portal: {alert.get_absolute_url()}\n"
            )
            self.stdout.write(f"Escalated alert {alert.public_id} (record {alert.patient.record_number})")
            if to:
                send_mail("JAK Portal: URGENT alert not acknowledged", body, sender, to)
        self.stdout.write(self.style.SUCCESS(f"Reminders sent; {len(escalated)} urgent alert(s) escalated."))
