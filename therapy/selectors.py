"""Reads for therapy pages: courses, findings, events and schedules in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404

from drugs.label import DoseOption
from drugs.models import Drug
from drugs.selectors import dosing_labels
from patients import risk
from patients.facts import CourseTaken, OpenAlert, PatientFacts
from patients.models import Patient
from patients.selectors import get_patient_for_user, patient_facts, record_patient_view
from therapy.models import SafetyFinding, ScheduledItem, TreatmentCourse
from therapy.schedule import check_name


def get_course_for_user(user, public_id) -> TreatmentCourse:
    """The course if its patient is within the user's reach, else 404 (one helper per object type)."""
    course = TreatmentCourse.objects.select_related("drug", "patient", "prescriber").filter(public_id=public_id).first()
    if course is None:
        raise Http404
    get_patient_for_user(user, course.patient.public_id)
    return course


def get_course_for_request(request, public_id) -> TreatmentCourse:
    """The course a page shows (404 outside the user's clinic), its patient's view audited."""
    course = get_course_for_user(request.user, public_id)
    record_patient_view(request, course.patient)
    return course


KIND_NOTE = {
    "advised": "a dose the label's adjustments name",
    "escalation": "escalation",
    "reduced": "reduced dose",
    "maintenance": "maintenance",
}


def dose_option_value(option: DoseOption, options: list[DoseOption]) -> str:
    """The form value of a dose: "200", or "5@once daily" when the same dose is offered at two frequencies."""
    dose = f"{option.dose.normalize():f}"
    twice = sum(1 for o in options if o.dose == option.dose) > 1
    return f"{dose}@{option.frequency}" if twice else dose


def dose_option_label(drug: Drug, option: DoseOption) -> str:
    notes = [n for n in (option.band, KIND_NOTE.get(option.kind, "")) if n]
    if option.off_label:
        notes.append("off-label: a dose the label gives for other indications")
    extra = f" ({'; '.join(notes)})" if notes else ""
    return f"{drug} {option.dose.normalize():f} {drug.dose_unit} {option.frequency}{extra}"


def start_options(patient: Patient, *, on: dt.date, jurisdiction: str | None = None) -> tuple[list, list[str]]:
    """The start form's choices, "<drug id>:<dose>", exactly the doses the check accepts for this patient (their age
    and weight band, advised and off-label doses), and a note for each drug with no dose for them (5 queries)."""
    jurisdiction = jurisdiction or settings.PORTAL_JURISDICTION
    age, weight = risk.age_on(patient.date_of_birth, on), patient.weight_kg
    choices: list[tuple[str, str]] = []
    not_offered: list[str] = []
    open_drugs = set(
        TreatmentCourse.objects.filter(patient=patient, status__in=TreatmentCourse.OPEN_STATUSES).values_list(
            "drug_id", flat=True
        )
    )
    for drug, label in dosing_labels().items():
        if drug.pk in open_drugs:
            not_offered.append(f"{drug}: already open for this patient (change it on its course page).")
            continue
        options = label.dose_options(jurisdiction, age, weight)
        for option in options:
            choices.append((f"{drug.pk}:{dose_option_value(option, options)}", dose_option_label(drug, option)))
        if options:
            continue
        if drug.route == "topical" or not any(r.dose is not None for r in label.regimens):
            note = (
                "topical, as directed" if drug.route == "topical" else f"no catalogue dose in the {jurisdiction} label"
            )
            choices.append((f"{drug.pk}:", f"{drug} ({note})"))
        elif weight is None:
            not_offered.append(f"{drug}: the dose depends on weight at age {age}; record the weight first.")
        else:
            not_offered.append(
                f"{drug}: no {jurisdiction} dose for this patient (age {age}, {weight.normalize():f} kg)."
            )
    return choices, not_offered


def course_page(course: TreatmentCourse) -> dict:
    findings = list(
        course.findings.select_related("acknowledged_by", "event").order_by(
            "-event__on", "-event_id", "-severity", "id"
        )
    )
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


# --- The patient's own therapy as the safety check sees it (clinical reference §9.1) -------------------------------

# Apps above therapy (monitoring) tell the check about the patient's open alerts without therapy importing them:
# each source is a function (patient) -> tuple[OpenAlert, ...], registered in its AppConfig.ready().
AlertSource = Callable[[Patient], tuple[OpenAlert, ...]]
_ALERT_SOURCES: list[AlertSource] = []


def register_alert_source(source: AlertSource) -> AlertSource:
    if source not in _ALERT_SOURCES:
        _ALERT_SOURCES.append(source)
    return source


def open_courses_of(patient: Patient, *, exclude: TreatmentCourse | None = None) -> tuple[CourseTaken, ...]:
    """The patient's open courses (planned, active, interrupted) other than ``exclude`` (one query)."""
    courses = TreatmentCourse.objects.filter(patient=patient, status__in=TreatmentCourse.OPEN_STATUSES).select_related(
        "drug"
    )
    if exclude is not None:
        courses = courses.exclude(pk=exclude.pk)
    return tuple(
        CourseTaken(
            drug_slug=c.drug.slug,
            drug_name=str(c.drug),
            route=c.drug.route,
            drug_class=c.drug.drug_class,
            status=c.get_status_display().lower(),
            dose_text=f"{c.dose.normalize():f} {c.dose_unit}" if c.dose is not None else "",
        )
        for c in courses.order_by("start_date", "id")
    )


def therapy_facts(patient: Patient, *, today: dt.date, exclude: TreatmentCourse | None = None) -> PatientFacts:
    """The record's facts plus the patient's other open courses and open alerts: what the safety check reads for
    a start, a dose change or a resumption (``exclude`` is the course being changed)."""
    alerts = tuple(alert for source in _ALERT_SOURCES for alert in source(patient))
    return replace(
        patient_facts(patient, today=today), courses=open_courses_of(patient, exclude=exclude), open_alerts=alerts
    )
