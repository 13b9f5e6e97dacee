"""Writes for treatment courses: start with the safety check, change dose, interrupt, resume, stop.

Every write runs in one transaction, re-runs the rules on the server (the browser is never trusted), records who
did it, and keeps the monitoring schedule in step with the catalogue protocol.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from drugs.label import DrugLabel
from drugs.models import Drug
from drugs.selectors import dosing_labels, drug_label
from drugs.services import current_catalogue_version
from patients import risk
from patients.models import Patient
from patients.selectors import PATIENT_OBJECT_TYPE, patient_facts
from portal import errors
from portal.audit import audit_record
from portal.models import AuditEvent, User
from therapy import schedule as S
from therapy.models import CourseEvent, SafetyFinding, ScheduledItem, TreatmentCourse
from therapy.safety import DOSE_CHANGE, RESUME, START, Finding, Severity, check_safety
from therapy.schedule import check_name
from therapy.selectors import SCREENING_CHECKS, baseline_done_by_record, therapy_facts

HORIZON_WEEKS = 52


class TherapyError(errors.DomainError):
    """A therapy action that cannot be done; ``field`` names the form field the message belongs to."""


class StaleEditError(errors.StaleEditError, TherapyError):
    """Someone else changed the course after the page was opened; nothing was written."""


@dataclass(frozen=True)
class Plan:
    """What the prescriber chose: drug, dose and start date (plus the topical amounts)."""

    drug: Drug
    dose: Decimal | None
    frequency: str
    start_date: dt.date
    topical_bsa_percent: Decimal | None = None
    topical_grams: Decimal | None = None
    topical_days: int | None = None


def jurisdiction() -> str:
    return settings.PORTAL_JURISDICTION


def safety_preview(
    *, patient: Patient, plan: Plan, course: TreatmentCourse | None = None, purpose: str = START
) -> tuple[list[Finding], int]:
    """The findings the prescriber must see before starting (or changing the dose of, or resuming ``course``: the
    same check, ``purpose`` says which), and the catalogue version they came from. The patient's other open
    courses and open alerts are part of the facts."""
    version = current_catalogue_version()
    findings = check_safety(
        therapy_facts(patient, today=plan.start_date, exclude=course),
        drug_label(plan.drug),
        dose=plan.dose,
        jurisdiction=jurisdiction(),
        catalogue_version=version,
        today=plan.start_date,
        topical_bsa_percent=plan.topical_bsa_percent,
        topical_grams=plan.topical_grams,
        topical_days=plan.topical_days,
        purpose=purpose,
        frequency=plan.frequency if plan.dose is not None else "",
    )
    return findings, version


def course_plan(course: TreatmentCourse, *, dose: Decimal | None, on: dt.date) -> Plan:
    """The course as it would be from ``on`` with ``dose``: what a dose change or a resumption is checked as."""
    return Plan(
        drug=course.drug,
        dose=dose,
        frequency=course.frequency,
        start_date=on,
        topical_bsa_percent=course.topical_bsa_percent,
        topical_grams=course.topical_grams,
        topical_days=course.topical_days,
    )


def dose_options(patient: Patient, drug: Drug, *, on: dt.date, label: DrugLabel | None = None):
    """The doses of ``drug`` this patient may be given (``DrugLabel.dose_options``): the start and dose pages offer
    exactly these and the services refuse any other. ``label``: the drug's ``drug_label`` when the caller has read
    it already (saves its two queries)."""
    label = label or dosing_labels(Drug.objects.filter(pk=drug.pk))[drug]
    return label.dose_options(jurisdiction(), risk.age_on(patient.date_of_birth, on), patient.weight_kg)


def _check_dose_choosable(patient: Patient, plan: Plan, field: str) -> None:
    if plan.dose is None or plan.drug.route == "topical":
        return
    options = dose_options(patient, plan.drug, on=plan.start_date)
    if not any(o.dose == plan.dose and plan.frequency in ("", o.frequency) for o in options):
        offered = ", ".join(f"{o.dose.normalize():f}" for o in options) or "none (record the weight or check the label)"
        raise TherapyError(
            f"{plan.dose.normalize():f} {plan.drug.dose_unit} is not a dose of {plan.drug} that can be chosen for "
            f"this patient (doses: {offered}).",
            field,
        )


def _validate_plan(patient: Patient, plan: Plan) -> None:
    if plan.start_date < patient.date_of_birth:
        raise TherapyError("The start date is before the patient's date of birth.", "start_date")
    if plan.start_date > timezone.localdate() + dt.timedelta(days=366):
        raise TherapyError("The start date is more than a year ahead; plan closer to the start.", "start_date")


def _store_findings(course, findings, *, actor, acknowledgements, override_reason, event) -> None:
    now = timezone.now()
    rows = []
    for finding in findings:
        ack = ""
        overridden = False
        if finding.severity == Severity.WARNING:
            ack = acknowledgements.get(finding.code, "").strip()
        elif finding.severity >= Severity.DO_NOT_START:
            ack = override_reason.strip()
            overridden = True
        rows.append(
            SafetyFinding(
                course=course,
                event=event,
                severity=int(finding.severity),
                code=finding.code,
                message=finding.message,
                rule=finding.rule,
                source=finding.source,
                unconfirmed=finding.unconfirmed,
                catalogue_version=finding.catalogue_version,
                recommended_dose=finding.recommended_dose,
                acknowledgement=ack,
                overridden=overridden,
                acknowledged_by=actor if ack else None,
                acknowledged_at=now if ack else None,
            )
        )
    SafetyFinding.objects.bulk_create(rows)


ACTION_WORDS = {
    START: ("starting", "the start", "start"),
    DOSE_CHANGE: ("changing the dose", "the dose change", "change the dose"),
    RESUME: ("resuming", "resuming", "resume"),
}


def _check_acknowledged(
    findings: list[Finding], acknowledgements: dict[str, str], override_reason: str, purpose: str = START
) -> None:
    doing, thing, verb = ACTION_WORDS[purpose]
    missing = [f for f in findings if f.severity == Severity.WARNING and not acknowledgements.get(f.code, "").strip()]
    if missing:
        raise TherapyError(
            f"Acknowledge each warning with a reason before {doing} ({len(missing)} without a reason).", "ack"
        )
    if any(f.blocks_start for f in findings) and not override_reason.strip():
        raise TherapyError(
            f"A finding blocks {thing}. Record an override reason to {verb} anyway; it is kept and shown on the "
            "course.",
            "override_reason",
        )


def _reviewed(
    findings: list[Finding],
    *,
    acknowledgements: dict[str, str] | None,
    override_reason: str,
    shown_codes: set[str] | None,
    purpose: str,
) -> None:
    """The prescriber saw these findings and answered each: acknowledgement per warning, override for a block."""
    needs_answer = any(f.severity >= Severity.WARNING for f in findings)
    if acknowledgements is None:  # a caller that showed no findings (e.g. acting from an alert)
        if needs_answer:
            raise TherapyError(
                f"The safety check found something to review before {ACTION_WORDS[purpose][0]}: do it on the course "
                "page, where the findings are shown.",
                "dose" if purpose == DOSE_CHANGE else None,
            )
        return
    if shown_codes is not None and {f.code for f in findings} - shown_codes:
        raise TherapyError("The findings changed since you checked (new data arrived). Review them again.", "ack")
    _check_acknowledged(findings, acknowledgements, override_reason, purpose)


def _schedule_items(course: TreatmentCourse, planned: list[S.PlannedItem], version: int) -> list[ScheduledItem]:
    return [
        ScheduledItem(
            course=course,
            patient_id=course.patient_id,
            check_type=item.check_type,
            kind=item.kind,
            due_date=item.due,
            earliest=item.earliest,
            latest=max(item.latest, item.due),
            reason=item.reason[:300],
            rule=item.rule[:300],
            source=item.source[:200],
            unconfirmed=item.unconfirmed,
            catalogue_version=version,
        )
        for item in planned
    ]


def record_checks_sync(*, actor: User | None, patient_ids: Iterable[int] | None = None) -> int:
    """Mark the open baseline screening checks of these patients (all patients when None) that their record
    satisfies by now (``selectors.baseline_done_by_record``: the same reading as the course page and the safety
    check), and unmark those it no longer satisfies (a newer indeterminate result, a corrected lab result). Called
    by every writer of a screening fact (``patients.services.screening_facts_changed``); audited under the patient
    for each check whose mark changes. Returns how many changed. The check stays open: the course page still lists
    it as done by the record, and it leaves the worklist, its counts and the reminders (``selectors.open_checks``)."""
    qs = ScheduledItem.objects.filter(
        status=ScheduledItem.Status.OPEN, kind=S.BASELINE, check_type__in=SCREENING_CHECKS
    ).only("id", "patient_id", "check_type", "kind", "status", "due_date", "satisfied_by_record")
    if patient_ids is not None:
        qs = qs.filter(patient_id__in=list(patient_ids))
    items = list(qs.order_by("patient_id", "id"))
    done = baseline_done_by_record(items)
    changed: dict[int, dict[str, list]] = defaultdict(dict)
    for value in (True, False):
        flip = [i for i in items if (i.pk in done) == value and i.satisfied_by_record != value]
        ScheduledItem.objects.filter(pk__in=[i.pk for i in flip]).update(satisfied_by_record=value)
        for item in flip:
            changed[item.patient_id][f"{check_name(item.check_type)} due {item.due_date.isoformat()}"] = [
                not value,
                value,
            ]
    for patient_id, changes in changed.items():
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            object_type=PATIENT_OBJECT_TYPE,
            object_id=str(patient_id),
            summary="Baseline checks satisfied by the record updated",
            changes=changes,
        )
    return sum(len(c) for c in changed.values())


def _label_for_clinic(drug: Drug) -> DrugLabel:
    return drug_label(drug).for_jurisdiction(jurisdiction())


def _planned_from_stored(items) -> list[S.PlannedItem]:
    return [
        S.PlannedItem(
            check_type=i.check_type,
            due=i.due_date,
            earliest=i.earliest,
            latest=i.latest,
            reason=i.reason,
            rule=i.rule,
            source=i.source,
            unconfirmed=i.unconfirmed,
            kind=i.kind,
            done=i.status == ScheduledItem.Status.DONE,
            ref=i.pk,
        )
        for i in items
    ]


@transaction.atomic
def course_start(
    *,
    actor: User,
    patient: Patient,
    plan: Plan,
    acknowledgements: dict[str, str],
    override_reason: str = "",
    shown_codes: set[str] | None = None,
) -> TreatmentCourse:
    """Start a course: re-run the check, require reasons, store findings, generate the schedule, audit."""
    _validate_plan(patient, plan)
    _check_dose_choosable(patient, plan, "regimen")
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # serialise starts for this patient
    if TreatmentCourse.objects.filter(
        patient=patient, drug=plan.drug, status__in=TreatmentCourse.OPEN_STATUSES
    ).exists():
        raise TherapyError(f"{patient} already has an open course of {plan.drug}.", "regimen")
    findings, version = safety_preview(patient=patient, plan=plan)
    _reviewed(
        findings,
        acknowledgements=acknowledgements,
        override_reason=override_reason,
        shown_codes=shown_codes,
        purpose=START,
    )
    status = TreatmentCourse.Status.PLANNED if plan.start_date > timezone.localdate() else TreatmentCourse.Status.ACTIVE
    blocking = [f for f in findings if f.blocks_start]
    try:
        with transaction.atomic():
            course = TreatmentCourse.objects.create(
                patient=patient,
                drug=plan.drug,
                dose=plan.dose,
                dose_unit=plan.drug.dose_unit,
                frequency=plan.frequency,
                topical_bsa_percent=plan.topical_bsa_percent,
                topical_grams=plan.topical_grams,
                topical_days=plan.topical_days,
                start_date=plan.start_date,
                status=status,
                prescriber=actor,
                jurisdiction=jurisdiction(),
                catalogue_version=version,
                override_reason=override_reason.strip() if blocking else "",
            )
    except IntegrityError:
        raise TherapyError(f"{patient} already has an open course of {plan.drug}.", "regimen") from None
    event = CourseEvent.objects.create(
        course=course,
        kind=CourseEvent.Kind.START,
        on=plan.start_date,
        dose_after=plan.dose,
        catalogue_version=version,
        created_by=actor,
        note="Started despite a blocking finding (override recorded)." if blocking else "",
    )
    _store_findings(
        course, findings, actor=actor, acknowledgements=acknowledgements, override_reason=override_reason, event=event
    )
    label = _label_for_clinic(plan.drug)
    facts = patient_facts(patient, today=plan.start_date)
    required = [s.item for s in label.screening_items if s.requirement == "required"]
    missing = [item for item in required if item not in facts.screening_done and facts.screening_applies(item)]
    status_fact = label.status(jurisdiction())
    planned = S.generate_schedule(
        label.monitoring_rules,
        start=plan.start_date,
        horizon_weeks=HORIZON_WEEKS,
        baseline_missing=missing,
        futility_week=status_fact.futility_week if status_fact else None,
        futility_source=status_fact.source if status_fact else "",
        futility_unconfirmed=status_fact.unconfirmed if status_fact else False,
        drug_name=label.name,
        screening=label.screening_items,
    )
    ScheduledItem.objects.bulk_create(_schedule_items(course, planned, version))
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=patient,
        summary=f"Started {course} (catalogue version {version})",
        changes={"course": str(course.public_id), "findings": len(findings), "override": bool(blocking)},
    )
    return course


def _lock_course(course: TreatmentCourse, expected_row_version: int | None) -> TreatmentCourse:
    locked = TreatmentCourse.objects.select_for_update().select_related("drug", "patient").get(pk=course.pk)
    if expected_row_version is not None and locked.row_version != expected_row_version:
        raise StaleEditError(
            locked.row_version,
            "Someone else changed this course after you opened the page. Reload it and try again.",
        )
    return locked


_REFUSED = {
    TreatmentCourse.DOSE: "A stopped course cannot change dose.",
    TreatmentCourse.INTERRUPT: "Only an active course can be interrupted.",
    TreatmentCourse.RESUME: "Only an interrupted course can be resumed.",
    TreatmentCourse.STOP: "This course is already stopped.",
}


def _require(course: TreatmentCourse, action: str) -> None:
    """Refuse an action the course's status does not allow (``TreatmentCourse.allowed_actions``)."""
    if action in course.allowed_actions:
        return
    if action == TreatmentCourse.DOSE and course.status != TreatmentCourse.Status.STOPPED:
        raise TherapyError("Resume the course before changing its dose.")
    raise TherapyError(_REFUSED[action])


def _touch(course: TreatmentCourse, **fields) -> None:
    for name, value in fields.items():
        setattr(course, name, value)
    course.row_version += 1
    course.updated_at = timezone.now()
    course.save(update_fields=[*fields, "row_version", "updated_at"])


def _open_items(course):
    return list(course.schedule.filter(status=ScheduledItem.Status.OPEN).order_by("due_date", "id"))


@transaction.atomic
def course_change_dose(
    *,
    actor: User,
    course: TreatmentCourse,
    dose: Decimal,
    on: dt.date,
    reason: str,
    row_version: int | None = None,
    acknowledgements: dict[str, str] | None = None,
    override_reason: str = "",
    shown_codes: set[str] | None = None,
    frequency: str = "",
) -> TreatmentCourse:
    """Change the dose (and, for a dose given another way, how often: ``frequency``) from ``on``. The safety check
    runs for the new dose as for a start (warnings acknowledged, blocks overridden with a reason), and its findings
    are stored with the change."""
    course = _lock_course(course, row_version)
    _require(course, TreatmentCourse.DOSE)
    label = _label_for_clinic(course.drug)
    frequency = frequency or course.frequency
    if dose == course.dose and frequency == course.frequency:
        raise TherapyError("That is the current dose.", "dose")
    if on < course.start_date:
        raise TherapyError("The change cannot be before the course started.", "on")
    if not reason.strip():
        raise TherapyError("Give a reason for the dose change.", "reason")
    plan = replace(course_plan(course, dose=dose, on=on), frequency=frequency)
    _check_dose_choosable(course.patient, plan, "dose")
    findings, version = safety_preview(patient=course.patient, plan=plan, course=course, purpose=DOSE_CHANGE)
    _reviewed(
        findings,
        acknowledgements=acknowledgements,
        override_reason=override_reason,
        shown_codes=shown_codes,
        purpose=DOSE_CHANGE,
    )
    blocking = any(f.blocks_start for f in findings)
    before = course.dose
    event = CourseEvent.objects.create(
        course=course,
        kind=CourseEvent.Kind.DOSE_CHANGE,
        on=on,
        dose_before=before,
        dose_after=dose,
        reason="increase" if before is not None and dose > before else "decrease",
        note=reason.strip() + (f" Override of a blocking finding: {override_reason.strip()}" if blocking else ""),
        catalogue_version=version,
        created_by=actor,
    )
    _store_findings(
        course,
        findings,
        actor=actor,
        acknowledgements=acknowledgements or {},
        override_reason=override_reason,
        event=event,
    )
    if before is not None and dose > before:
        open_items = _open_items(course)
        to_cancel, to_add = S.reanchor_after_dose_increase(
            label.monitoring_rules,
            on,
            _planned_from_stored(open_items),
            horizon_end=course.start_date + dt.timedelta(weeks=HORIZON_WEEKS),
        )
        ScheduledItem.objects.filter(pk__in=[i.ref for i in to_cancel if i.ref]).update(
            status=ScheduledItem.Status.CANCELLED, cancel_reason=f"Re-anchored after the dose increase on {on}"
        )
        ScheduledItem.objects.bulk_create(_schedule_items(course, to_add, version))
    _touch(course, dose=dose, frequency=frequency)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=course.patient,
        summary=f"Dose of {course.drug} changed",
        changes={"dose": [str(before), str(dose)], "event": event.pk, "findings": len(findings), "override": blocking},
    )
    return course


@transaction.atomic
def course_interrupt(
    *, actor: User, course: TreatmentCourse, on: dt.date, reason: str, analyte: str = "", row_version: int | None = None
) -> TreatmentCourse:
    course = _lock_course(course, row_version)
    _require(course, TreatmentCourse.INTERRUPT)
    if not reason.strip():
        raise TherapyError("Give a reason for the interruption.", "reason")
    if on < course.start_date:
        raise TherapyError("The interruption cannot be before the course started.", "on")
    version = current_catalogue_version()
    CourseEvent.objects.create(
        course=course,
        kind=CourseEvent.Kind.INTERRUPTION,
        on=on,
        reason=analyte[:30],
        note=reason.strip(),
        catalogue_version=version,
        created_by=actor,
        dose_before=course.dose,
    )
    label = _label_for_clinic(course.drug)
    thresholds = [t for t in label.thresholds if t.analyte == analyte and t.phase == "on_treatment"]
    if thresholds:
        to_add = S.items_for_interruption(
            thresholds[0],
            drug_name=label.name,
            interruption_date=on,
            open_items=_planned_from_stored(_open_items(course)),
            rules=label.monitoring_rules,
        )
        ScheduledItem.objects.bulk_create(_schedule_items(course, to_add, version))
    _touch(course, status=TreatmentCourse.Status.INTERRUPTED)
    audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=course.patient, summary=f"Interrupted {course}")
    return course


@transaction.atomic
def course_resume(
    *,
    actor: User,
    course: TreatmentCourse,
    on: dt.date,
    reason: str,
    row_version: int | None = None,
    acknowledgements: dict[str, str] | None = None,
    override_reason: str = "",
    shown_codes: set[str] | None = None,
) -> TreatmentCourse:
    """Resume an interrupted course: the safety check runs again for the current dose, as for a start."""
    course = _lock_course(course, row_version)
    _require(course, TreatmentCourse.RESUME)
    if not reason.strip():
        raise TherapyError("Give a reason for resuming (e.g. the re-check result).", "reason")
    if on < course.start_date:
        raise TherapyError("The resumption cannot be before the course started.", "on")
    findings, version = safety_preview(
        patient=course.patient, plan=course_plan(course, dose=course.dose, on=on), course=course, purpose=RESUME
    )
    _reviewed(
        findings,
        acknowledgements=acknowledgements,
        override_reason=override_reason,
        shown_codes=shown_codes,
        purpose=RESUME,
    )
    blocking = any(f.blocks_start for f in findings)
    event = CourseEvent.objects.create(
        course=course,
        kind=CourseEvent.Kind.RESUMPTION,
        on=on,
        note=reason.strip() + (f" Override of a blocking finding: {override_reason.strip()}" if blocking else ""),
        catalogue_version=version,
        created_by=actor,
        dose_after=course.dose,
    )
    _store_findings(
        course,
        findings,
        actor=actor,
        acknowledgements=acknowledgements or {},
        override_reason=override_reason,
        event=event,
    )
    _touch(course, status=TreatmentCourse.Status.ACTIVE)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=course.patient,
        summary=f"Resumed {course}",
        changes={"findings": len(findings), "override": blocking},
    )
    return course


@transaction.atomic
def course_stop(
    *,
    actor: User,
    course: TreatmentCourse,
    on: dt.date,
    reason: str,
    note: str = "",
    row_version: int | None = None,
) -> TreatmentCourse:
    course = _lock_course(course, row_version)
    _require(course, TreatmentCourse.STOP)
    if reason not in TreatmentCourse.StopReason.values:
        raise TherapyError("Choose why the course is stopped.", "reason")
    if reason == TreatmentCourse.StopReason.OTHER and not note.strip():
        raise TherapyError("Say why the course is stopped.", "note")
    if on < course.start_date:
        raise TherapyError("The stop date cannot be before the course started.", "on")
    CourseEvent.objects.create(
        course=course,
        kind=CourseEvent.Kind.STOP,
        on=on,
        reason=reason,
        note=note.strip(),
        catalogue_version=current_catalogue_version(),
        created_by=actor,
        dose_before=course.dose,
    )
    to_cancel = S.items_for_stop(_planned_from_stored(_open_items(course)), on)
    ScheduledItem.objects.filter(pk__in=[i.ref for i in to_cancel if i.ref]).update(
        status=ScheduledItem.Status.CANCELLED, cancel_reason=f"Course stopped on {on}"
    )
    _touch(course, status=TreatmentCourse.Status.STOPPED, stopped_on=on, stop_reason=reason)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=course.patient,
        summary=f"Stopped {course}",
        changes={"reason": reason},
    )
    return course
