"""Who an alert is for: the one rule, in Python (when an alert is raised or escalated) and in SQL (when alerts are
listed), so that both always agree.

An alert is for the course's prescriber if they can still sign in and still work at the patient's clinic. If not
(they left, or moved to another clinic), it falls to the patient's treating dermatologist on the same terms. If
neither qualifies, it is for nobody in particular: it shows to everyone at the patient's clinic (the clinic inbox
and the home page of each of its dermatologists), so that someone sees it. A stored ``recipient`` is never trusted
on its own: a recipient who has since moved to another clinic or left is re-checked every time alerts are read.
"""

from __future__ import annotations

from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When


def eligible(user, clinic_id: int | None) -> bool:
    """Whether ``user`` may receive an alert about a patient of ``clinic_id``."""
    return user is not None and user.is_active and clinic_id is not None and user.clinic_id == clinic_id


def recipient_for(patient, course=None):
    """The user an alert about ``patient`` (and ``course``) goes to, or None for the whole clinic."""
    for candidate in (course.prescriber if course is not None else None, patient.dermatologist):
        if eligible(candidate, patient.clinic_id):
            return candidate
    return None


def current_recipient(alert):
    """Whom a stored alert is for now: its recipient, re-checked, else the patient's dermatologist, else None
    (the whole clinic). The Python twin of ``effective_recipient``."""
    clinic_id = alert.patient.clinic_id
    for candidate in (alert.recipient, alert.patient.dermatologist):
        if eligible(candidate, clinic_id):
            return candidate
    return None


def _eligible_q(prefix: str) -> Q:
    return Q(**{f"{prefix}__is_active": True, f"{prefix}__clinic_id": F("patient__clinic_id")})


def effective_recipient() -> Case:
    """SQL for the user an alert is for now (same rule as ``recipient_for``, over the stored recipient then the
    patient's dermatologist), NULL when it is for the whole clinic."""
    return Case(
        When(_eligible_q("recipient"), then=F("recipient_id")),
        When(_eligible_q("patient__dermatologist"), then=F("patient__dermatologist_id")),
        default=Value(None),
        output_field=IntegerField(),
    )


def with_recipient(alerts: QuerySet) -> QuerySet:
    """Alerts annotated with ``for_user_id``: whom each is for now (None: the whole patient's clinic)."""
    return alerts.annotate(for_user_id=effective_recipient())


def for_user(alerts: QuerySet, user) -> QuerySet:
    """The alerts of the user's clinic that are for the user now (never another clinic's)."""
    if getattr(user, "clinic_id", None) is None:
        return alerts.none()
    return with_recipient(alerts.filter(patient__clinic_id=user.clinic_id)).filter(for_user_id=user.pk)


def for_user_or_unassigned(alerts: QuerySet, user) -> QuerySet:
    """The user's alerts and the ones of the user's clinic that are for nobody in particular."""
    if getattr(user, "clinic_id", None) is None:
        return alerts.none()
    scoped = with_recipient(alerts.filter(patient__clinic_id=user.clinic_id))
    return scoped.filter(Q(for_user_id=user.pk) | Q(for_user_id__isnull=True))
