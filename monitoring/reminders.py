"""What the reminder emails say and to whom: each clinic's nurse digest and the escalation of an urgent alert.

Reads only; the writes (queueing in the outbox, escalating) are in ``monitoring.services``. Emails carry record
numbers and opaque ids only, never patient names, and absolute links (``portal.outbox.absolute_url``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q
from django.urls import reverse

from monitoring.models import Alert
from monitoring.recipients import current_recipient
from portal import roles
from portal.models import Clinic, User
from portal.outbox import absolute_url
from therapy.selectors import open_checks

DIGEST_SUBJECT = "JAK Portal: checks due and overdue"
ESCALATION_SUBJECT = "JAK Portal: URGENT alert not acknowledged"
DIGEST_LINES = 100


@dataclass(frozen=True)
class Digest:
    """One clinic's digest for one day."""

    clinic_id: int
    day: dt.date
    overdue: int
    due: int
    recipients: list[str]
    subject: str
    body: str

    @property
    def key(self) -> str:
        return digest_key(self.clinic_id, self.day)


def digest_key(clinic_id: int, day: dt.date) -> str:
    return f"digest:{clinic_id}:{day.isoformat()}"


def escalation_key(alert: Alert) -> str:
    return f"escalation:{alert.pk}"


def reminder_digests(*, today: dt.date) -> list[Digest]:
    """Each clinic with checks due today or overdue: the counts, the first checks, and its active nurses' emails."""
    nurses: dict[int, list[str]] = defaultdict(list)
    for nurse in User.objects.filter(groups__name=roles.NURSE, is_active=True, clinic__isnull=False).order_by("pk"):
        if nurse.email and nurse.clinic_id is not None:
            nurses[nurse.clinic_id].append(nurse.email)
    # Open checks due, less the baseline screening the patient's record satisfies by now (as on the worklist).
    due = open_checks(due_date__lte=today)
    counts = (
        due.values("patient__clinic_id")
        .annotate(overdue=Count("id", filter=Q(due_date__lt=today)), due=Count("id", filter=Q(due_date=today)))
        .order_by("patient__clinic_id")
    )
    clinics = {c.pk: c for c in Clinic.objects.all()}
    worklist = absolute_url(reverse("monitoring:worklist"))
    digests = []
    for row in counts:
        clinic_id = row["patient__clinic_id"]
        items = due.filter(patient__clinic_id=clinic_id).select_related("patient").order_by("due_date", "id")
        lines = [
            f"- {i.patient.record_number}: {i.check_type} due {i.due_date.isoformat()}"
            + (f" ({(today - i.due_date).days} days overdue)" if i.due_date < today else " (today)")
            for i in items[:DIGEST_LINES]
        ]
        body = (
            f"{clinics[clinic_id].name}: {row['overdue']} overdue and {row['due']} due today.\n\n"
            + "\n".join(lines)
            + f"\n\nOpen the worklist in JAK Portal: {worklist}\n"
        )
        digests.append(
            Digest(
                clinic_id=clinic_id,
                day=today,
                overdue=row["overdue"],
                due=row["due"],
                recipients=nurses.get(clinic_id, []),
                subject=DIGEST_SUBJECT,
                body=body,
            )
        )
    return digests


def escalation_recipients(alert: Alert) -> list[str]:
    """Whom an escalated alert is emailed to: whom it is for now (never someone who left or moved to another
    clinic), or for an alert for nobody in particular the active dermatologists of the patient's clinic."""
    current = current_recipient(alert)
    if current is not None:
        people = [current]
    else:
        people = list(User.objects.dermatologists_of(alert.patient.clinic_id).filter(is_active=True))
    return [p.email for p in people if p.email]


def escalation_email(alert: Alert, *, older_than: dt.timedelta) -> tuple[str, str]:
    """The subject and body of the email escalating ``alert``."""
    hours = f"{older_than.total_seconds() / 3600:g}"
    body = (
        f"Urgent alert {alert.public_id} for record {alert.patient.record_number} has not been acknowledged "
        f"for more than {hours} hours.\n\n{alert.title}\n\nWhat to do: {alert.advice}\n\n"
        f"Open it in JAK Portal: {absolute_url(alert.get_absolute_url())}\n"
    )
    return ESCALATION_SUBJECT, body
