"""Reads for the FHIR export: the database into ``interfaces.fhir.mapping``'s plain dataclasses.

A fixed number of queries whatever the size of the record (tests/interfaces/test_fhir_everything.py counts them):
one per kind of row, with the catalogue rows each needs loaded alongside.
"""

from __future__ import annotations

import uuid

from django.db.models import Prefetch

from drugs.models import LabTest
from drugs.selectors import drug_codes_for
from interfaces.fhir import mapping
from monitoring.models import Alert
from patients.models import LabResult, Patient
from portal.models import Clinic
from therapy.models import CourseEvent, SafetyFinding, ScheduledItem, TreatmentCourse

LAB_PANELS = {choice.value for choice in LabTest.Panel}


def patient_for_clinic(clinic: Clinic, public_id: str) -> Patient | None:
    """The clinic's patient with this public id; None for a malformed id, an unknown one or another clinic's."""
    try:
        wanted = uuid.UUID(public_id)
    except (ValueError, TypeError):
        return None
    return Patient.objects.filter(clinic=clinic, public_id=wanted).first()


def _courses(patient: Patient) -> list[mapping.CourseData]:
    courses = list(
        TreatmentCourse.objects.filter(patient=patient)
        .select_related("drug", "prescriber")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=CourseEvent.objects.filter(kind=CourseEvent.Kind.DOSE_CHANGE).order_by("on", "id"),
                to_attr="dose_events",
            ),
        )
        .order_by("start_date", "id")
    )
    codes = drug_codes_for({c.drug_id for c in courses})
    return [
        mapping.CourseData(
            public_id=str(c.public_id),
            drug_name=str(c.drug),
            drug_slug=c.drug.slug,
            codings=tuple(
                mapping.DrugCoding(system=code.system, code=code.code, display=code.display, verified=code.verified)
                for code in codes[c.drug_id].values()
            ),
            route=c.drug.route,
            status=c.status,
            stop_reason=c.get_stop_reason_display() if c.stop_reason else "",
            start_date=c.start_date,
            stopped_on=c.stopped_on,
            dose=c.dose,
            dose_unit=c.dose_unit,
            frequency=c.frequency,
            topical_grams=c.topical_grams,
            topical_days=c.topical_days,
            topical_bsa_percent=c.topical_bsa_percent,
            prescriber=c.prescriber.get_full_name() or c.prescriber.get_username(),
            created_at=c.created_at,
            dose_changes=tuple(
                mapping.DoseChange(on=e.on, dose_before=e.dose_before, dose_after=e.dose_after, note=e.note)
                for e in c.dose_events
            ),
        )
        for c in courses
    ]


def _results(patient: Patient) -> list[mapping.LabResultData]:
    rows = (
        LabResult.objects.filter(patient=patient)
        .select_related("lab_test")
        .prefetch_related("lab_test__units")
        .order_by("collected_on", "id")
    )
    return [
        mapping.LabResultData(
            pk=r.pk,
            loinc=r.lab_test.loinc,
            test_name=r.lab_test.name,
            collected_on=r.collected_on,
            value=r.value,
            coded_value=r.coded_value,
            unit_code=r.lab_test.canonical_unit,
            unit_label=r.lab_test.unit_label,
            flag=r.flag,
            reference_low=r.lab_test.reference_low,
            reference_high=r.lab_test.reference_high,
            action=r.action,
            action_rule=r.action_rule,
            action_source=r.action_source,
        )
        for r in rows
    ]


def _findings(patient: Patient) -> list[mapping.FindingData]:
    rows = (
        SafetyFinding.objects.filter(course__patient=patient)
        .select_related("course", "event")
        .order_by("course_id", "-severity", "id")
    )
    return [
        mapping.FindingData(
            pk=f.pk,
            course_id=str(f.course.public_id),
            severity=f.severity,
            severity_label=f.get_severity_display(),
            code=f.code,
            message=f.message,
            rule=f.rule,
            source=f.source,
            catalogue_version=f.catalogue_version,
            identified_at=f.event.created_at if f.event is not None else f.course.created_at,
            acknowledgement=f.acknowledgement,
            overridden=f.overridden,
            acknowledged_at=f.acknowledged_at,
        )
        for f in rows
    ]


def _alerts(patient: Patient) -> list[mapping.AlertData]:
    rows = Alert.objects.filter(patient=patient).select_related("course").order_by("created_at", "id")
    return [
        mapping.AlertData(
            public_id=str(a.public_id),
            kind=a.kind,
            severity_label=a.get_severity_display(),
            title=a.title,
            reason=a.reason,
            advice=a.advice,
            status=a.status,
            created_at=a.created_at,
            acknowledged_at=a.acknowledged_at,
            course_id=str(a.course.public_id) if a.course is not None else None,
        )
        for a in rows
    ]


def _schedule(patient: Patient) -> list[mapping.ScheduledCheckData]:
    tests_by_panel: dict[str, list[tuple[str, str]]] = {}
    for test in LabTest.objects.filter(value_type=LabTest.ValueType.QUANTITY).order_by("panel", "display_order"):
        tests_by_panel.setdefault(test.panel, []).append((test.loinc, test.name))
    rows = ScheduledItem.objects.filter(patient=patient).select_related("course").order_by("due_date", "id")
    return [
        mapping.ScheduledCheckData(
            public_id=str(s.public_id),
            course_id=str(s.course.public_id),
            check_type=s.check_type,
            due_date=s.due_date,
            earliest=s.earliest,
            latest=s.latest,
            reason=s.reason,
            status=s.status,
            loinc_tests=tuple(tests_by_panel.get(s.check_type, ())) if s.check_type in LAB_PANELS else (),
        )
        for s in rows
    ]


def everything(patient: Patient) -> mapping.Everything:
    """Everything the export sends about ``patient`` (already checked to belong to the caller's clinic)."""
    return mapping.Everything(
        patient=mapping.PatientData(
            public_id=str(patient.public_id),
            clinic_id=patient.clinic_id,
            record_number=patient.record_number,
            given_name=patient.given_name,
            family_name=patient.family_name,
            birth_date=patient.date_of_birth,
            sex_at_birth=patient.sex_at_birth,
        ),
        courses=_courses(patient),
        results=_results(patient),
        findings=_findings(patient),
        alerts=_alerts(patient),
        schedule=_schedule(patient),
    )
