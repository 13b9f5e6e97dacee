import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from drugs.models import Drug, Medicine
from patients.models import ConcomitantMedicine
from patients.services import screening_result_record
from tests.factories import make_patient
from therapy import selectors, services
from therapy.models import CourseEvent, SafetyFinding, ScheduledItem, TreatmentCourse
from therapy.safety import Severity

TODAY = timezone.localdate()


def plan(slug="abrocitinib", dose="100", start=TODAY):
    return services.Plan(drug=Drug.objects.get(slug=slug), dose=Decimal(dose), frequency="once daily", start_date=start)


def acks_for(findings):
    return {f.code: "Discussed; no suitable alternative" for f in findings if f.severity == Severity.WARNING}


def test_smoker_with_hypertension_gets_boxed_warning_findings(smoker):
    findings, version = services.safety_preview(patient=smoker, plan=plan())
    warnings = [f for f in findings if f.severity == Severity.WARNING]
    assert version > 0
    assert any("50" in f.message or "smok" in f.message.lower() for f in warnings)
    assert all(f.catalogue_version == version for f in findings)


def test_start_needs_a_reason_for_each_warning(smoker, derm):
    with pytest.raises(services.TherapyError, match="Acknowledge each warning"):
        services.course_start(actor=derm, patient=smoker, plan=plan(), acknowledgements={})
    assert not TreatmentCourse.objects.exists()


def test_start_stores_findings_acknowledgements_and_schedule(smoker, derm):
    findings, _ = services.safety_preview(patient=smoker, plan=plan())
    course = services.course_start(actor=derm, patient=smoker, plan=plan(), acknowledgements=acks_for(findings))
    assert course.status == TreatmentCourse.Status.ACTIVE
    acked = SafetyFinding.objects.filter(course=course, severity=Severity.WARNING)
    assert acked.exists()
    assert all(f.acknowledgement and f.acknowledged_by == derm for f in acked)
    cbc_week4 = ScheduledItem.objects.filter(course=course, check_type="cbc", due_date=TODAY + dt.timedelta(weeks=4))
    assert cbc_week4.exists()
    assert ScheduledItem.objects.filter(
        course=course, check_type="lipids", due_date=TODAY + dt.timedelta(weeks=4)
    ).exists()
    assert CourseEvent.objects.filter(course=course, kind="start").count() == 1


def _baseline(course):
    return set(ScheduledItem.objects.filter(course=course, kind="baseline").values_list("check_type", flat=True))


def test_start_schedules_baseline_screening_only_for_what_the_record_lacks(smoker, derm):
    # TB "negative" in the risk profile, both hepatitis B markers as screening records: done before the start
    for item in ("hbsag", "hbcab"):
        screening_result_record(actor=derm, patient=smoker, item=item, performed_on=TODAY, result="negative")
    findings, _ = services.safety_preview(patient=smoker, plan=plan())
    missing = next(f for f in findings if f.code == "screening.missing").message
    assert "tuberculosis" not in missing
    assert "hepatitis B" not in missing
    course = services.course_start(actor=derm, patient=smoker, plan=plan(), acknowledgements=acks_for(findings))
    assert _baseline(course) == {"hcv", "cbc", "vaccines"}


def test_one_hepatitis_b_marker_leaves_the_baseline_check(smoker, derm):
    screening_result_record(actor=derm, patient=smoker, item="hbsag", performed_on=TODAY, result="negative")
    findings, _ = services.safety_preview(patient=smoker, plan=plan())
    course = services.course_start(actor=derm, patient=smoker, plan=plan(), acknowledgements=acks_for(findings))
    assert "hbv" in _baseline(course)


def test_baseline_check_done_later_in_the_record_shows_done_on_the_course(smoker, derm):
    findings, _ = services.safety_preview(patient=smoker, plan=plan())
    course = services.course_start(actor=derm, patient=smoker, plan=plan(), acknowledgements=acks_for(findings))
    assert selectors.patient_therapy(smoker)["courses"][0].next_item.check_type == "cbc"
    for item in ("hbsag", "hbcab", "hcv", "cbc"):
        result = "normal" if item == "cbc" else "negative"
        screening_result_record(actor=derm, patient=smoker, item=item, performed_on=TODAY, result=result)
    page = selectors.course_page(course)
    shown = {i.check_type: i.done_by_record for i in page["schedule"] if i.kind == "baseline"}
    assert shown["hcv"] == f"Screening record: negative, {TODAY.isoformat()}"
    assert shown["hbv"] == (
        f"Hepatitis B surface antigen – Screening record: negative, {TODAY.isoformat()}; "
        f"Hepatitis B core antibody – Screening record: negative, {TODAY.isoformat()}"
    )
    assert shown["vaccines"] == ""
    assert {i.check_type for i in page["open_items"] if i.kind == "baseline"} == {"vaccines"}
    assert selectors.patient_therapy(smoker)["courses"][0].next_item.check_type == "vaccines"


def test_clopidogrel_blocks_abrocitinib(clinic, derm, catalogue):
    patient = make_patient(clinic=clinic, risk={"tb_status": "negative"})
    ConcomitantMedicine.objects.create(
        patient=patient, medicine=Medicine.objects.get(name="clopidogrel"), dose_text="75 mg"
    )
    findings, _ = services.safety_preview(patient=patient, plan=plan())
    assert findings[0].severity == Severity.CONTRAINDICATED
    assert "antiplatelet" in findings[0].code
    with pytest.raises(services.TherapyError, match="override reason"):
        services.course_start(actor=derm, patient=patient, plan=plan(), acknowledgements=acks_for(findings))
    course = services.course_start(
        actor=derm,
        patient=patient,
        plan=plan(),
        acknowledgements=acks_for(findings),
        override_reason="Stopping clopidogrel today per cardiology",
    )
    assert course.override_reason.startswith("Stopping clopidogrel")
    assert SafetyFinding.objects.filter(course=course, overridden=True).exists()


def test_egfr_45_gives_50_mg_advice(clinic, catalogue):
    patient = make_patient(clinic=clinic, risk={"egfr": Decimal("45")})
    findings, _ = services.safety_preview(patient=patient, plan=plan())
    advice = [f for f in findings if f.recommended_dose is not None]
    assert Decimal("50") in {f.recommended_dose for f in advice}


def test_one_open_course_per_drug(smoker, derm):
    findings, _ = services.safety_preview(patient=smoker, plan=plan())
    services.course_start(actor=derm, patient=smoker, plan=plan(), acknowledgements=acks_for(findings))
    with pytest.raises(services.TherapyError, match="already has an open course"):
        services.course_start(actor=derm, patient=smoker, plan=plan(), acknowledgements=acks_for(findings))


def test_start_before_birth_is_refused(smoker, derm):
    with pytest.raises(services.TherapyError, match="before the patient's date of birth"):
        services.course_start(actor=derm, patient=smoker, plan=plan(start=dt.date(1900, 1, 1)), acknowledgements={})


@pytest.fixture
def course(smoker, derm):
    findings, _ = services.safety_preview(patient=smoker, plan=plan())
    return services.course_start(actor=derm, patient=smoker, plan=plan(), acknowledgements=acks_for(findings))


def reviewed(course, *, dose=None, on=TODAY, purpose="dose_change"):
    """What the prescriber answers after seeing the dose-change or resumption check: a reason per warning."""
    plan = services.course_plan(course, dose=dose if dose is not None else course.dose, on=on)
    findings, _ = services.safety_preview(patient=course.patient, plan=plan, course=course, purpose=purpose)
    return {"acknowledgements": acks_for(findings), "override_reason": ""}


def test_dose_increase_reanchors_the_blood_count(course, derm):
    on = TODAY + dt.timedelta(weeks=12)
    services.course_change_dose(
        actor=derm,
        course=course,
        dose=Decimal("200"),
        on=on,
        reason="Inadequate response",
        **reviewed(course, dose=Decimal("200"), on=on),
    )
    course.refresh_from_db()
    assert course.dose == Decimal("200")
    assert ScheduledItem.objects.filter(
        course=course, status="open", check_type="cbc", due_date=on + dt.timedelta(weeks=4)
    ).exists()


def test_routine_blood_counts_continue_after_the_dose_increase_recheck(course, derm):
    """Abrocitinib 100 -> 200 mg at week 12: blood count at week 16, then every 12 weeks again (issue 14)."""
    start = course.start_date
    on = start + dt.timedelta(weeks=12)
    services.course_change_dose(
        actor=derm,
        course=course,
        dose=Decimal("200"),
        on=on,
        reason="Inadequate response",
        **reviewed(course, dose=Decimal("200"), on=on),
    )
    cbc = ScheduledItem.objects.filter(course=course, check_type="cbc").exclude(kind="baseline")
    open_weeks = sorted((i.due_date - start).days / 7 for i in cbc.filter(status="open"))
    assert open_weeks == [4, 16, 28, 40, 52]
    recheck = cbc.get(status="open", due_date=start + dt.timedelta(weeks=16))
    assert recheck.kind == "after_dose_increase"
    replaced = cbc.filter(status="cancelled")
    assert sorted((i.due_date - start).days / 7 for i in replaced) == [12, 24, 36, 48]
    assert all(str(on) in i.cancel_reason for i in replaced)


def test_dose_not_in_catalogue_is_refused(course, derm):
    with pytest.raises(services.TherapyError, match="not a dose of Abrocitinib that can be chosen"):
        services.course_change_dose(actor=derm, course=course, dose=Decimal("150"), on=TODAY, reason="x")


def test_interruption_when_a_blood_count_is_already_due_adds_nothing(course, derm):
    before = ScheduledItem.objects.filter(course=course, status="open").count()
    services.course_interrupt(actor=derm, course=course, on=TODAY, reason="Neutrophils 0.8", analyte="anc")
    assert ScheduledItem.objects.filter(course=course, status="open").count() == before


def test_interruption_adds_the_recheck_and_resume(course, derm):
    on = TODAY + dt.timedelta(weeks=6)  # after the week-4 blood count, so no blood count is already due
    services.course_interrupt(actor=derm, course=course, on=on, reason="Neutrophils 0.8", analyte="anc")
    course.refresh_from_db()
    assert course.status == TreatmentCourse.Status.INTERRUPTED
    recheck = ScheduledItem.objects.get(course=course, status="open", check_type="cbc", due_date=on)
    assert "before resuming" in recheck.reason
    services.course_resume(
        actor=derm, course=course, on=on, reason="ANC 1.4 on re-check", **reviewed(course, on=on, purpose="resume")
    )
    course.refresh_from_db()
    assert course.status == TreatmentCourse.Status.ACTIVE


def test_stop_cancels_open_items_and_keeps_done(course, derm):
    done = ScheduledItem.objects.filter(course=course).first()
    ScheduledItem.objects.filter(pk=done.pk).update(status="done", completed_on=TODAY)
    services.course_stop(actor=derm, course=course, on=TODAY, reason="patient_choice")
    assert not ScheduledItem.objects.filter(course=course, status="open").exists()
    assert ScheduledItem.objects.get(pk=done.pk).status == "done"
    with pytest.raises(services.TherapyError, match="already stopped"):
        services.course_stop(actor=derm, course=course, on=TODAY, reason="patient_choice")


def test_stop_for_other_needs_a_note(course, derm):
    with pytest.raises(services.TherapyError, match="Say why"):
        services.course_stop(actor=derm, course=course, on=TODAY, reason="other")


def test_deleting_a_drug_in_use_is_refused(course, catalogue_admin):
    from drugs.services import DrugInUseError, drug_delete

    with pytest.raises(DrugInUseError, match="treatment courses use it"):
        drug_delete(drug=course.drug, actor=catalogue_admin, reason="cleanup")
    assert Drug.objects.filter(pk=course.drug_id).exists()


def test_demo_therapy_seed_is_idempotent(settings, catalogue):
    from django.core.management import call_command

    settings.PORTAL_DEMO = True
    call_command("seed_demo_clinic", count=20, verbosity=0)
    call_command("seed_demo_therapy", verbosity=0)
    courses = TreatmentCourse.objects.count()
    assert courses == 11  # 20 patients less the 8 kept free for trying a start and the pregnant one (DEMO-00014)
    assert ScheduledItem.objects.filter(status="done").exists()
    assert ScheduledItem.objects.filter(status="open", due_date__lt=TODAY).exists()
    call_command("seed_demo_therapy", verbosity=0)
    assert TreatmentCourse.objects.count() == courses


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        (TreatmentCourse.Status.PLANNED, ("stop", "dose")),
        (TreatmentCourse.Status.ACTIVE, ("stop", "interrupt", "dose")),
        (TreatmentCourse.Status.INTERRUPTED, ("stop", "resume")),
        (TreatmentCourse.Status.STOPPED, ()),
    ],
)
def test_allowed_actions_follow_the_status(status, actions):
    course = TreatmentCourse(status=status)
    assert course.allowed_actions == actions
    assert [course.can_stop, course.can_interrupt, course.can_resume, course.can_change_dose] == [
        a in actions for a in ("stop", "interrupt", "resume", "dose")
    ]
