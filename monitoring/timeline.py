"""The monitoring app's events on the patient timeline: alerts raised and acknowledged (with what was done) and
symptom checks, in words (registered in ``MonitoringConfig.ready()``)."""

from __future__ import annotations

from django.utils import timezone

from monitoring.alerting import SYMPTOM_LABELS
from monitoring.selectors import patient_alerts, patient_symptom_checks
from patients.models import Patient
from patients.timeline import TimelineEvent
from portal.idurls import id_url


def _alert_events(patient: Patient) -> list[TimelineEvent]:
    events = []
    for alert in patient_alerts(patient):
        url = id_url("monitoring:alert", alert.public_id)  # one reverse for the timeline, not one per alert
        events.append(
            TimelineEvent(
                on=timezone.localtime(alert.created_at).date(),
                kind="alert",
                title=f"Alert raised: {alert.title}",
                detail=f"{alert.get_severity_display()}. {alert.reason}".strip(),
                url=url,
                at=alert.created_at,
            )
        )
        if alert.acknowledged_at is not None:
            done = alert.get_action_display() if alert.action else "Acknowledged with a comment"
            events.append(
                TimelineEvent(
                    on=timezone.localtime(alert.acknowledged_at).date(),
                    kind="alert",
                    title=f"Alert acknowledged: {alert.title}",
                    detail=". ".join(p for p in (done, alert.comment.strip()) if p),
                    url=url,
                    at=alert.acknowledged_at,
                )
            )
    return events


def _symptom_events(patient: Patient) -> list[TimelineEvent]:
    events = []
    for check in patient_symptom_checks(patient):
        reported = [SYMPTOM_LABELS.get(code, code.replace("_", " ")) for code in check.symptoms or []]
        title = "Symptom check: " + (", ".join(reported) if reported else "none of the warning signs")
        events.append(
            TimelineEvent(
                on=check.checked_on, kind="symptoms", title=title, detail=check.note.strip(), at=check.recorded_at
            )
        )
    return events


def monitoring_timeline_events(patient: Patient, user) -> list[TimelineEvent]:
    """The patient's alerts and symptom checks (two queries)."""
    return [*_alert_events(patient), *_symptom_events(patient)]
