"""Reads for therapy pages: courses, findings, events and schedules in a fixed number of queries."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import Http404

from drugs.models import Drug, Regimen
from patients.selectors import get_patient_for_user
from therapy.models import SafetyFinding, ScheduledItem, TreatmentCourse
from therapy.schedule import check_name


def get_course_for_user(user, public_id) -> TreatmentCourse:
    """The course if its patient is within the user's reach, else 404 (one helper per object type)."""
    course = TreatmentCourse.objects.select_related("drug", "patient", "prescriber").filter(public_id=public_id).first()
    if course is None:
        raise Http404
    get_patient_for_user(user, course.patient.public_id)
    return course


def regimen_options(jurisdiction: str | None = None) -> list[tuple[str, str]]:
    """Choices for the start form: every catalogue dose of every drug ("r<id>"), and "d<id>" for a drug with no
    dose rows (topicals and investigational drugs), so the prescriber never types a dose."""
    jurisdiction = jurisdiction or settings.PORTAL_JURISDICTION
    regimens = Regimen.objects.filter(Q(jurisdiction="ANY") | Q(jurisdiction=jurisdiction)).order_by("dose", "id")
    drugs = Drug.objects.prefetch_related(Prefetch("regimens", queryset=regimens, to_attr="here")).order_by(
        "generic_name"
    )
    options: list[tuple[str, str]] = []
    for drug in drugs:
        seen = set()
        doses = [r for r in drug.here if r.dose is not None]
        for regimen in doses:
            key = (regimen.dose, regimen.frequency)
            if key in seen or regimen.dose is None:  # never None here (see doses): narrows the type
                continue
            seen.add(key)
            options.append(
                (f"r{regimen.pk}", f"{drug} {regimen.dose.normalize():f} {drug.dose_unit} {regimen.frequency}")
            )
        if not doses:
            note = (
                "topical, as directed" if drug.route == "topical" else f"no catalogue dose in the {jurisdiction} label"
            )
            options.append((f"d{drug.pk}", f"{drug} ({note})"))
    return options


def course_page(course: TreatmentCourse) -> dict:
    findings = list(course.findings.select_related("acknowledged_by").order_by("-severity", "id"))
    for finding in findings:
        finding.severity_class = f"sev-{SafetyFinding.Severity(finding.severity).name.lower()}"  # type: ignore[attr-defined]  # for the template
    events = list(course.events.select_related("created_by").order_by("on", "id"))
    schedule = list(course.schedule.select_related("completed_by").order_by("due_date", "id"))
    for item in schedule:
        item.check_label = check_name(item.check_type)  # type: ignore[attr-defined]  # for the template
    return {
        "course": course,
        "findings": findings,
        "overrides": [f for f in findings if f.overridden],
        "events": events,
        "schedule": schedule,
        "open_items": [i for i in schedule if i.status == ScheduledItem.Status.OPEN],
    }


def patient_therapy(patient, user=None) -> dict:
    """The patient's courses (open first) with their next open check, for the patient page (2 queries)."""
    courses = list(
        TreatmentCourse.objects.filter(patient=patient)
        .select_related("drug", "prescriber")
        .prefetch_related(
            Prefetch(
                "schedule",
                queryset=ScheduledItem.objects.filter(status=ScheduledItem.Status.OPEN).order_by("due_date", "id"),
                to_attr="open_items",
            )
        )
        .order_by("-start_date", "-id")
    )
    for course in courses:
        next_item = course.open_items[0] if course.open_items else None
        if next_item:
            next_item.check_label = check_name(next_item.check_type)  # type: ignore[attr-defined]  # for the template
        course.next_item = next_item  # type: ignore[attr-defined]  # for the template
    courses.sort(key=lambda c: (not c.is_open,))
    can_start = user is not None and user.has_perm("therapy.add_treatmentcourse")
    return {"courses": courses, "can_start_therapy": can_start}
