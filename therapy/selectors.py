"""Reads for therapy pages: courses, findings, events and schedules in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404

from drugs import units
from drugs.label import DoseOption
from drugs.models import BoxedWarning, Drug, LabTest, LabThreshold
from drugs.selectors import dosing_labels, handout, monitoring_timeline
from patients import risk, screening
from patients.facts import CourseTaken, OpenAlert, PatientFacts
from patients.models import LabResult, Patient
from patients.selectors import (
    patient_facts,
    patient_medicines,
    record_patient_view,
    screening_statuses,
)
from portal.memo import rows_once
from portal.models import Clinic
from therapy import letters
from therapy.models import CourseEvent, SafetyFinding, ScheduledItem, TreatmentCourse
from therapy.schedule import BASELINE, check_name


def get_course_for_user(user, public_id) -> TreatmentCourse:
    """The course if its patient is within the user's reach, else 404 (one helper per object type). One query: the
    reach is ``Patient.objects.visible_to``, the filter ``get_patient_for_user`` applies, as a subquery."""
    course = (
        TreatmentCourse.objects.select_related("drug", "patient", "prescriber")
        .filter(public_id=public_id, patient__in=Patient.objects.visible_to(user))
        .first()
    )
    if course is None:
        raise Http404
    return course


def get_course_for_request(request, public_id, *, shows_record: bool = True) -> TreatmentCourse:
    """The course a page shows (404 outside the user's clinic), its patient's view audited. ``shows_record=False``
    only for a page that shows nothing of the record (the PDF letter's "cannot be made here" page): still a 404
    outside the clinic, and no view is audited because nothing was seen."""
    course = get_course_for_user(request.user, public_id)
    if shows_record:
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


# --- Baseline screening checks and the record ----------------------------------------------------------------------

SCREENING_CHECKS = frozenset(screening.CATALOGUE_ITEMS)  # the check types of baseline screening items


def baseline_done_by_record(items: Iterable[ScheduledItem]) -> dict[int, str]:
    """The open baseline screening checks that the patient's record satisfies by now: item id -> where from
    ("Risk profile: tuberculosis negative, 2026-11-02"). A course lists at its start what the record lacked; the
    fact may come later from a lab result, a screening record or the risk profile, and the record, read by
    ``patients.selectors.screening_statuses``, is what says it is done. Three queries for any number of items
    (none when there is no such open check)."""
    candidates = [
        i
        for i in items
        if i.status == ScheduledItem.Status.OPEN and i.kind == BASELINE and i.check_type in SCREENING_CHECKS
    ]
    if not candidates:
        return {}
    statuses = screening_statuses({i.patient_id for i in candidates})
    done = {}
    for item in candidates:
        evidence = statuses[item.patient_id].catalogue_evidence(item.check_type)
        if len(evidence) == 1:
            done[item.pk] = evidence[0].label
        elif evidence:  # hepatitis B: say which marker each record is
            done[item.pk] = "; ".join(f"{screening.ITEM_LABELS[e.item]} – {e.label}" for e in evidence)
    return done


def open_checks(**filters) -> QuerySet[ScheduledItem]:
    """The open checks matching ``filters`` (e.g. ``patient__clinic_id``), less the baseline screening checks the
    record already satisfies: what the worklist, its counts and the reminders list. No query by itself: the checks
    the record satisfies are marked when the fact is written (``services.record_checks_sync``), so the database
    leaves them out in the same query whatever the clinic's size."""
    return ScheduledItem.objects.filter(status=ScheduledItem.Status.OPEN, satisfied_by_record=False, **filters)


def course_page(course: TreatmentCourse) -> dict:
    findings = list(
        course.findings.select_related("acknowledged_by", "event").order_by(
            "-event__on", "-event_id", "-severity", "id"
        )
    )
    for finding in findings:
        finding.severity_class = f"sev-{SafetyFinding.Severity(finding.severity).name.lower()}"  # type: ignore[attr-defined]  # for the template
    events = list(course.events.select_related("created_by").order_by("on", "id"))
    schedule = list(course.schedule.order_by("due_date", "id"))
    by_record = baseline_done_by_record(schedule)
    for item in schedule:
        item.check_label = check_name(item.check_type)  # type: ignore[attr-defined]  # for the template
        item.done_by_record = by_record.get(item.pk, "")  # type: ignore[attr-defined]  # for the template
    return {
        "course": course,
        "findings": findings,
        "overrides": [f for f in findings if f.overridden],
        "events": events,
        "schedule": schedule,
        "open_items": [i for i in schedule if i.status == ScheduledItem.Status.OPEN and i.pk not in by_record],
    }


def patient_course_events(patient: Patient) -> list[CourseEvent]:
    """Every course event of the patient, oldest first, with its course and drug (read once per request: the
    timeline and the trend charts' event markers share it)."""
    return rows_once(
        patient,
        "course_events",
        lambda: CourseEvent.objects.filter(course__patient=patient).select_related("course__drug").order_by("on", "id"),
    )


def patient_courses(patient: Patient) -> list[TreatmentCourse]:
    """The patient's courses with their drugs and prescribers, newest first (read once per request: the therapy
    and monitoring sections of the patient page share them)."""
    return rows_once(
        patient,
        "courses",
        lambda: (
            TreatmentCourse.objects.filter(patient=patient)
            .select_related("drug", "prescriber")
            .order_by("-start_date", "-id")
        ),
    )


def patient_therapy(patient, user=None) -> dict:
    """The patient's courses (open first) with their next open check, for the patient page (2 queries; 3 more when
    a course has open baseline screening checks, to leave out those the record satisfies)."""
    courses: list[Any] = list(patient_courses(patient))  # open_items and next_item are set here for the template
    prefetch_related_objects(
        courses,
        Prefetch(
            "schedule",
            queryset=ScheduledItem.objects.filter(status=ScheduledItem.Status.OPEN).order_by("due_date", "id"),
            to_attr="open_items",
        ),
    )
    by_record = baseline_done_by_record(i for course in courses for i in course.open_items)
    for course in courses:
        course.open_items = [i for i in course.open_items if i.pk not in by_record]
        next_item = course.open_items[0] if course.open_items else None
        if next_item:
            next_item.check_label = check_name(next_item.check_type)  # for the template
        course.next_item = next_item  # for the template
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
        patient_facts(patient, today=today),
        courses=open_courses_of(patient, exclude=exclude),
        open_alerts=alerts,
        display_units=clinic_display_units(patient.clinic_id),
    )


def clinic_display_units(clinic_id: int | None) -> dict[str, units.DisplayUnit]:
    """analyte -> the unit the clinic reads results in, for the tests an SI clinic reads in another unit than the
    canonical one (empty for a US clinic: one query)."""
    if clinic_id is None:
        return {}
    system = Clinic.objects.filter(pk=clinic_id).values_list("unit_system", flat=True).first()
    if system != units.SI:
        return {}
    shown = {t.analyte: t.display_unit(units.SI) for t in LabTest.objects.with_unit_labels()}
    return {analyte: unit for analyte, unit in shown.items() if unit.converts}


# --- What the course's printouts say: the patient's own handout and the letter to their GP --------------------------


def _course_dose_text(course: TreatmentCourse) -> str:
    return letters.dose_text(
        drug=str(course.drug),
        dose=course.dose,
        dose_unit=course.dose_unit,
        frequency=course.frequency,
        route=course.drug.route,
        bsa_percent=course.topical_bsa_percent,
        grams=course.topical_grams,
        days=course.topical_days,
    )


def _open_checks(course: TreatmentCourse) -> list[ScheduledItem]:
    return list(course.schedule.filter(status=ScheduledItem.Status.OPEN).order_by("due_date", "id"))


def _visits(items: list[ScheduledItem], today: dt.date) -> list[letters.Visit]:
    checks = (
        letters.DueCheck(check_type=i.check_type, due=i.due_date, earliest=i.earliest, latest=i.latest) for i in items
    )
    return letters.visits(checks, today=today)


def _missing_contact(clinic: Clinic, *, emergency: bool) -> list[str]:
    """The contact details a printout needs that the clinic settings lack (staff are told before printing)."""
    missing = ["emergency number"] if emergency and not clinic.emergency_number else []
    return missing + (["phone number"] if not clinic.phone else [])


def course_handout(course: TreatmentCourse, *, today: dt.date) -> dict:
    """The patient's own handout: their name, the dose as prescribed, what to watch for (the catalogue's plain
    wordings), their check-up dates and the clinic's numbers. No source tags or "unconfirmed" markers: those are
    for staff (8 queries whatever the record holds)."""
    general = handout(slug=course.drug.slug, jurisdiction=course.jurisdiction) or {}
    clinic = Clinic.objects.get(pk=course.patient.clinic_id)
    return {
        **general,
        "missing": _missing_contact(clinic, emergency=True),
        "course": course,
        "patient": course.patient,
        "clinic": clinic,
        "dose_text": _course_dose_text(course),
        "visits": _visits(_open_checks(course), today),
        "today": today,
    }


ACTION_LABELS = dict(LabThreshold.Action.choices)


def latest_results_shown(patient: Patient, unit_system: str) -> list[dict]:
    """The newest result of each lab test, in the clinic's units (``LabResult.display_text``), by panel (1 query
    for the results and 1 for their units, whatever the number of results)."""
    rows = (
        LabResult.objects.filter(patient=patient)
        .select_related("lab_test")
        .prefetch_related("lab_test__units")
        .order_by("-collected_on", "-id")
    )
    latest: dict[int, LabResult] = {}
    for row in rows:
        latest.setdefault(row.lab_test_id, row)
    ordered = sorted(latest.values(), key=lambda r: (r.lab_test.panel, r.lab_test.display_order, r.lab_test.name))
    return [
        {
            "test": r.lab_test.finding_name,
            "value": r.display_text(unit_system),
            "on": r.collected_on,
            "flag": r.get_flag_display() if r.flag in ("low", "high") else "",
            "action": str(ACTION_LABELS.get(r.action, r.action)).lower(),
        }
        for r in ordered
    ]


def course_letter(course: TreatmentCourse, *, today: dt.date, unit_system: str) -> dict:
    """The letter to the patient's GP (shared-care summary): diagnosis, drug and dose, start, the monitoring due and
    who does it, the latest results in the clinic's units, the boxed-warning summary, the interactions to avoid,
    the patient's current medicines, and the clinic's contact (9 queries whatever the record holds)."""
    drug = course.drug
    here = {"jurisdiction__in": ("ANY", course.jurisdiction)}
    items = _open_checks(course)
    for item in items:
        item.check_label = check_name(item.check_type)  # type: ignore[attr-defined]  # for the template
        item.who = letters.who_does(item.check_type)  # type: ignore[attr-defined]  # for the template
        item.overdue = item.latest < today  # type: ignore[attr-defined]  # past its window, as the handout says
    clinic = Clinic.objects.get(pk=course.patient.clinic_id)
    interactions = list(
        drug.interactions.filter(**here).select_related("interacting_class").order_by("interacting_class__name")
    )
    return {
        "course": course,
        "patient": course.patient,
        "clinic": clinic,
        "missing": _missing_contact(clinic, emergency=False) + ([] if clinic.address else ["address"]),
        "dose_text": _course_dose_text(course),
        "age": risk.age_on(course.patient.date_of_birth, today),
        "open_items": items,
        "protocol": monitoring_timeline(drug.monitoring_rules.filter(**here), markers=False),
        "results": latest_results_shown(course.patient, unit_system),
        "boxed_warnings": [
            {"title": w.get_component_display(), "text": letters.outside_text(w.text)}
            for w in BoxedWarning.objects.filter(drug=drug, **here).order_by("id")
        ],
        "interactions": [
            {"title": i.interacting_class.name, "effect": i.get_effect_display(), "text": letters.outside_text(i.text)}
            for i in interactions
        ],
        "medicines": _letter_medicines(course.patient, {i.interacting_class_id: i for i in interactions}),
        "today": today,
    }


def _letter_medicines(patient: Patient, interactions: dict) -> list[dict]:
    """The patient's current medicines as recorded, each with the letter's interactions its catalogue classes
    fall under (the class only: the safety check, not the letter, weighs doses such as aspirin's)."""
    shown = []
    for m in patient_medicines(patient):
        if m.stopped_on is not None:
            continue
        classes = m.medicine.class_list if m.medicine is not None else []  # type: ignore[attr-defined]
        shown.append(
            {
                "name": m.name or (m.medicine.name if m.medicine is not None else ""),
                "dose": m.dose_text,
                "interacts": [interactions[c.pk].interacting_class.name for c in classes if c.pk in interactions],
            }
        )
    return shown
