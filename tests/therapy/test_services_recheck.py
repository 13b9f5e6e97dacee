"""The safety check beyond the start (clinical reference §9): the patient's other courses and open alerts, dose
changes and resumptions checked and stored, and the on-treatment rules that follow each label."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from drugs.models import Drug
from monitoring import services as monitoring_services
from monitoring.models import Alert
from tests.factories import TODAY, make_course, record_result
from therapy import services
from therapy.models import CourseEvent, SafetyFinding, TreatmentCourse
from therapy.safety import Severity


def plan(slug, dose, start=TODAY):
    return services.Plan(drug=Drug.objects.get(slug=slug), dose=Decimal(dose), frequency="once daily", start_date=start)


def acks_for(findings):
    return {f.code: "Reviewed with the patient" for f in findings if f.severity == Severity.WARNING}


@pytest.fixture
def on_abrocitinib(smoker, derm):
    return make_course(smoker, derm, slug="abrocitinib", dose="100", jurisdiction="US")


def test_second_jak_inhibitor_is_blocked_until_overridden(on_abrocitinib, derm, settings):
    settings.PORTAL_JURISDICTION = "US"
    patient = on_abrocitinib.patient
    findings, _ = services.safety_preview(patient=patient, plan=plan("upadacitinib", "15"))
    second = next(f for f in findings if f.code == "therapy.second_jak.abrocitinib")
    assert second.severity == Severity.CONTRAINDICATED
    with pytest.raises(services.TherapyError, match="Record an override reason"):
        services.course_start(
            actor=derm, patient=patient, plan=plan("upadacitinib", "15"), acknowledgements=acks_for(findings)
        )
    assert not TreatmentCourse.objects.filter(patient=patient, drug__slug="upadacitinib").exists()
    course = services.course_start(
        actor=derm,
        patient=patient,
        plan=plan("upadacitinib", "15"),
        acknowledgements=acks_for(findings),
        override_reason="Switching this week; abrocitinib stops tomorrow",
    )
    stored = SafetyFinding.objects.get(course=course, code="therapy.second_jak.abrocitinib")
    assert stored.overridden
    assert stored.acknowledgement.startswith("Switching")


def test_a_stopped_course_no_longer_counts(on_abrocitinib, derm):
    services.course_stop(actor=derm, course=on_abrocitinib, on=TODAY, reason="patient_choice")
    findings, _ = services.safety_preview(patient=on_abrocitinib.patient, plan=plan("upadacitinib", "15"))
    assert not [f for f in findings if f.code.startswith("therapy.second_jak")]


def test_dose_change_is_checked_and_its_findings_stored(on_abrocitinib, derm, settings):
    settings.PORTAL_JURISDICTION = "US"
    course = on_abrocitinib
    course.patient.risk_profile.egfr = Decimal("45")
    course.patient.risk_profile.save()
    new = services.course_plan(course, dose=Decimal("200"), on=TODAY)
    findings, _ = services.safety_preview(patient=course.patient, plan=new, course=course, purpose="dose_change")
    assert {"dose.renal", "dose.above_advice"} <= {f.code for f in findings}
    with pytest.raises(services.TherapyError, match="before changing the dose"):
        services.course_change_dose(
            actor=derm, course=course, dose=Decimal("200"), on=TODAY, reason="Inadequate response", acknowledgements={}
        )
    course.refresh_from_db()
    assert course.dose == Decimal("100")
    services.course_change_dose(
        actor=derm,
        course=course,
        dose=Decimal("200"),
        on=TODAY,
        reason="Inadequate response",
        acknowledgements=acks_for(findings),
    )
    event = CourseEvent.objects.get(course=course, kind="dose_change")
    assert SafetyFinding.objects.filter(course=course, event=event, code="dose.above_advice").exists()


def test_an_advised_dose_can_be_chosen_at_a_dose_change(on_abrocitinib, derm):
    course = on_abrocitinib
    course.patient.risk_profile.egfr = Decimal("45")
    course.patient.risk_profile.save()
    assert Decimal("50") in {o.dose for o in services.dose_options(course.patient, course.drug, on=TODAY)}
    new = services.course_plan(course, dose=Decimal("50"), on=TODAY)
    findings, _ = services.safety_preview(patient=course.patient, plan=new, course=course, purpose="dose_change")
    services.course_change_dose(
        actor=derm, course=course, dose=Decimal("50"), on=TODAY, reason="eGFR 45", acknowledgements=acks_for(findings)
    )
    course.refresh_from_db()
    assert course.dose == Decimal("50")


def test_acting_from_an_alert_refuses_what_needs_review(on_abrocitinib, derm):
    with pytest.raises(services.TherapyError, match="do it on the course page"):
        services.course_change_dose(actor=derm, course=on_abrocitinib, dose=Decimal("200"), on=TODAY, reason="x")


def test_resume_rechecks_and_an_open_urgent_alert_blocks(on_abrocitinib, derm, nurse):
    course = on_abrocitinib
    services.course_interrupt(actor=derm, course=course, on=TODAY, reason="Platelets low", analyte="platelets")
    record_result(nurse, course.patient, "platelets", "40")  # below the discontinue level: an urgent alert
    assert Alert.objects.filter(patient=course.patient, severity=Alert.Severity.URGENT, status="open").exists()
    resume = services.course_plan(course, dose=course.dose, on=TODAY)
    findings, _ = services.safety_preview(patient=course.patient, plan=resume, course=course, purpose="resume")
    alert_finding = next(f for f in findings if f.code.startswith("alert.open."))
    assert alert_finding.severity == Severity.DO_NOT_START
    with pytest.raises(services.TherapyError, match="blocks resuming"):
        services.course_resume(
            actor=derm, course=course, on=TODAY, reason="Re-check", acknowledgements=acks_for(findings)
        )
    course.refresh_from_db()
    assert course.status == TreatmentCourse.Status.INTERRUPTED


def test_confirmed_lymphopenia_on_abrocitinib_eu_is_discontinue(smoker, derm, nurse):
    course = make_course(smoker, derm, slug="abrocitinib", dose="100", jurisdiction="EU")
    first = record_result(nurse, smoker, "alc", "0.4", on=TODAY - dt.timedelta(days=7))
    assert Alert.objects.get(lab_result=first).severity == Alert.Severity.SAME_DAY
    second = record_result(nurse, smoker, "alc", "0.45", on=TODAY)
    alert = Alert.objects.get(lab_result=second, course=course)
    assert alert.severity == Alert.Severity.URGENT
    assert alert.title.startswith("Discontinue Abrocitinib: lymphocytes (ALC)")
    assert "confirming the previous result" in alert.reason


def test_a_single_low_lymphocyte_count_us_stays_interrupt(smoker, derm, nurse):
    make_course(smoker, derm, slug="abrocitinib", dose="100", jurisdiction="US")
    record_result(nurse, smoker, "alc", "0.4", on=TODAY - dt.timedelta(days=7))
    second = record_result(nurse, smoker, "alc", "0.4", on=TODAY)
    assert Alert.objects.get(lab_result=second).severity == Alert.Severity.SAME_DAY


@pytest.mark.parametrize(
    ("slug", "dose", "words"),
    [
        ("abrocitinib", "100", "if the infection is serious or opportunistic, discontinue Abrocitinib"),
        ("upadacitinib", "15", "if the infection is serious, interrupt Upadacitinib until it is controlled"),
    ],
)
def test_infection_alert_advice_follows_the_label(smoker, derm, nurse, slug, dose, words):
    make_course(smoker, derm, slug=slug, dose=dose, jurisdiction="US")
    _check, alert = monitoring_services.symptom_check_record(
        actor=nurse, patient=smoker, checked_on=TODAY, symptoms=["fever"], none_reported=False
    )
    assert words in alert.advice
