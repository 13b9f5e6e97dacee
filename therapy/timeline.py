"""The therapy app's events on the patient timeline: each course's start, dose changes, pauses, resumptions and
stop, in words (registered in ``TherapyConfig.ready()``)."""

from __future__ import annotations

from patients.models import Patient
from patients.timeline import TimelineEvent
from portal.formats import decimal_text
from portal.idurls import id_url
from therapy.models import CourseEvent, TreatmentCourse
from therapy.selectors import patient_course_events


def _dose(value, unit: str) -> str:
    return f"{decimal_text(value)} {unit}".strip() if value is not None else "—"


def _words(event: CourseEvent) -> tuple[str, str]:
    course = event.course
    drug = str(course.drug)
    note = event.note.strip()
    if event.kind == CourseEvent.Kind.START:
        dose = _dose(event.dose_after if event.dose_after is not None else course.dose, course.dose_unit)
        return f"{drug} started", " ".join(p for p in (dose, course.frequency) if p) + (f". {note}" if note else "")
    if event.kind == CourseEvent.Kind.DOSE_CHANGE:
        change = f"{_dose(event.dose_before, '')} → {_dose(event.dose_after, course.dose_unit)}"
        return f"{drug} dose changed", change + (f". {note}" if note else "")
    if event.kind == CourseEvent.Kind.INTERRUPTION:
        return f"{drug} paused", note
    if event.kind == CourseEvent.Kind.RESUMPTION:
        return f"{drug} resumed", note
    reason = TreatmentCourse.StopReason(event.reason).label if event.reason in TreatmentCourse.StopReason else ""
    return f"{drug} stopped", ". ".join(str(p) for p in (reason, note) if p)


def course_timeline_events(patient: Patient, user) -> list[TimelineEvent]:
    """Every course event of the patient (one query)."""
    shown = []
    for event in patient_course_events(patient):
        title, detail = _words(event)
        shown.append(
            TimelineEvent(
                on=event.on,
                kind="therapy",
                title=title,
                detail=detail,
                url=id_url("therapy:course", event.course.public_id),  # one reverse, not one per event
                at=event.created_at,
            )
        )
    return shown
