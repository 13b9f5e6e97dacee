"""Result interpretation and alerts against the real catalogue, symptom checks, and alert acknowledgement."""

import datetime as dt
from decimal import Decimal

import pytest

from drugs.models import LabTest
from monitoring import services as svc
from monitoring.models import Alert
from patients.models import LabResult, ScreeningResult
from portal.models import AuditEvent
from tests.factories import TODAY, make_course, make_patient, make_scheduled_item, record_result
from tests.result_dates import RESULT_DATE_CASES, RESULT_DATE_IDS
from therapy.models import ScheduledItem, TreatmentCourse

U, S = Alert.Severity.URGENT, Alert.Severity.SAME_DAY

# (drug, dose, jurisdiction, analyte, value in canonical unit, expected alert severity or None)
ACTION_LEVELS = [
    ("abrocitinib", "100", "US", "platelets", "49.9", U),
    ("abrocitinib", "100", "US", "platelets", "50", None),
    ("abrocitinib", "100", "EU", "platelets", "45", U),
    ("abrocitinib", "100", "US", "anc", "0.9", S),
    ("abrocitinib", "100", "EU", "anc", "0.9", S),
    ("abrocitinib", "100", "EU", "anc", "1.0", None),
    ("abrocitinib", "100", "US", "alc", "0.4", S),
    ("abrocitinib", "100", "EU", "alc", "0.4", S),
    ("abrocitinib", "100", "US", "hb", "7.9", S),
    ("abrocitinib", "100", "EU", "hb", "7.9", S),
    ("abrocitinib", "100", "EU", "hb", "9", None),  # 10 is the EU do-not-start level, not an on-treatment one
    ("upadacitinib", "15", "US", "anc", "0.9", S),
    ("upadacitinib", "15", "EU", "alc", "0.4", S),
    ("upadacitinib", "15", "EU", "hb", "7.5", S),
    ("upadacitinib", "15", "US", "platelets", "45", None),  # no platelet action level in the label
    ("baricitinib", "4", "EU", "anc", "0.9", S),
    ("baricitinib", "4", "US", "alc", "0.4", S),
    ("baricitinib", "4", "EU", "hb", "7", S),
    ("tofacitinib", "5", "US", "anc", "0.4", U),  # below 0.5: discontinue beats interrupt
    ("tofacitinib", "5", "US", "anc", "0.8", S),
    ("tofacitinib", "5", "US", "alc", "0.4", U),
    ("tofacitinib", "5", "EU", "anc", "0.4", None),  # the catalogue has US rows only
    ("ruxolitinib-cream", None, "US", "platelets", "45", None),
]


@pytest.mark.parametrize(("slug", "dose", "jurisdiction", "analyte", "value", "expected"), ACTION_LEVELS)
def test_action_levels_of_each_drug(clinic, derm, nurse, catalogue, slug, dose, jurisdiction, analyte, value, expected):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    course = make_course(patient, derm, slug, dose, jurisdiction)
    result = record_result(nurse, patient, analyte, value)
    alerts = list(Alert.objects.filter(lab_result=result))
    if expected is None:
        assert alerts == []
        assert result.action == ""
    else:
        (alert,) = alerts
        assert alert.severity == expected
        assert alert.recipient == derm
        assert alert.course == course
        assert alert.catalogue_version == result.interpreted_version > 0
        assert alert.source.startswith("[")
        assert result.action in {"interrupt", "discontinue"}


def test_platelets_45_urgent_discontinue_alert_with_reason_and_restart_rule(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    make_course(patient, derm)
    result = record_result(nurse, patient, "platelets", "45")
    alert = Alert.objects.get(lab_result=result)
    assert alert.severity == Alert.Severity.URGENT
    assert "Discontinue" in alert.title
    assert "45" in alert.reason
    assert "50" in alert.reason
    assert "[S1]" in alert.reason
    assert "100,000" in alert.advice  # the restart rule
    assert result.flag == "low"


def test_reinterpreting_a_result_does_not_duplicate_its_alert(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    make_course(patient, derm)
    result = record_result(nurse, patient, "platelets", "45")
    svc.interpret_results([LabResult.objects.select_related("lab_test").get(pk=result.pk)])
    assert Alert.objects.filter(lab_result=result).count() == 1


def test_result_without_open_course_only_gets_a_flag(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    make_course(patient, derm, status="stopped")
    result = record_result(nurse, patient, "platelets", "45")
    assert result.flag == "low"
    assert not Alert.objects.exists()


def test_results_complete_matching_open_items_in_their_window(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    course = make_course(patient, derm)
    overdue = make_scheduled_item(course, due=TODAY - dt.timedelta(days=20))
    future = make_scheduled_item(course, due=TODAY + dt.timedelta(days=60))
    lipids = make_scheduled_item(course, check_type="lipids")
    record_result(nurse, patient, "platelets", "250")
    statuses = dict(ScheduledItem.objects.values_list("pk", "status"))
    assert statuses[overdue.pk] == "done"
    assert statuses[future.pk] == "open"
    assert statuses[lipids.pk] == "open"


def test_screening_result_updates_the_screening_record(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    course = make_course(patient, derm)
    tb = make_scheduled_item(course, check_type="tb", kind="baseline", due=TODAY - dt.timedelta(days=30))
    test = LabTest.objects.get(analyte="tb_igra")
    svc.lab_results_record(
        actor=nurse,
        rows=[
            svc.ResultRow(
                patient=patient,
                lab_test=test,
                collected_on=TODAY,
                value=None,
                coded_value="negative",
                entered_value="negative",
                entered_unit="",
            )
        ],
    )
    screening = ScreeningResult.objects.get(patient=patient)
    assert (screening.item, screening.result) == ("tb", "negative")
    tb.refresh_from_db()
    assert tb.status == "done"


def _coded(nurse, patient, analyte, value, on=TODAY):
    row = svc.ResultRow(
        patient=patient,
        lab_test=LabTest.objects.get(analyte=analyte),
        collected_on=on,
        coded_value=value,
        entered_value=value,
    )
    return svc.lab_results_record(actor=nurse, rows=[row])


def test_one_hepatitis_b_marker_does_not_close_the_baseline_check(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    hbv = make_scheduled_item(make_course(patient, derm), check_type="hbv", kind="baseline", due=TODAY)
    _coded(nurse, patient, "hbsag", "negative")
    hbv.refresh_from_db()
    assert hbv.status == "open"
    _coded(nurse, patient, "anti_hbc", "negative")
    hbv.refresh_from_db()
    assert (hbv.status, hbv.completed_on) == ("done", TODAY)


def test_an_indeterminate_result_does_not_close_the_baseline_check(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    tb = make_scheduled_item(make_course(patient, derm), check_type="tb", kind="baseline", due=TODAY)
    _coded(nurse, patient, "tb_igra", "indeterminate")
    tb.refresh_from_db()
    assert tb.status == "open"


def test_results_are_audited(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    record_result(nurse, patient, "hb", "13")
    assert AuditEvent.objects.filter(actor=nurse, summary__contains="lab result").exists()


@pytest.mark.parametrize(
    ("symptoms", "severity"),
    [(["chest_pain"], U), (["fever"], S), (["bruising_bleeding"], S), (["shortness_of_breath"], U), ([], None)],
)
def test_symptom_check_alerts_and_completes_the_infection_check(clinic, derm, nurse, catalogue, symptoms, severity):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    course = make_course(patient, derm)
    item = make_scheduled_item(course, check_type="infection_check")
    _check, alert = svc.symptom_check_record(
        actor=nurse, patient=patient, checked_on=TODAY, symptoms=symptoms, none_reported=not symptoms
    )
    item.refresh_from_db()
    assert item.status == "done"
    if severity is None:
        assert alert is None
    else:
        assert alert.severity == severity
        assert alert.recipient == derm
        assert alert.kind == "symptom"


def test_symptom_check_needs_symptoms_or_none(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    with pytest.raises(svc.MonitoringError, match="none of these"):
        svc.symptom_check_record(actor=nurse, patient=patient, checked_on=TODAY, symptoms=[], none_reported=False)


@pytest.mark.parametrize(("date_of_birth", "on", "message"), RESULT_DATE_CASES, ids=RESULT_DATE_IDS)
def test_symptom_check_and_check_done_dates_as_the_lab_form(clinic, derm, nurse, catalogue, date_of_birth, on, message):
    patient = make_patient(clinic=clinic, dermatologist=derm, date_of_birth=date_of_birth)
    item = make_scheduled_item(make_course(patient, derm), check_type="efficacy_review")
    if message is None:
        svc.symptom_check_record(actor=nurse, patient=patient, checked_on=on, symptoms=[], none_reported=True)
        assert svc.scheduled_item_done(actor=nurse, item=item, done_on=on).completed_on == on
        return
    with pytest.raises(svc.MonitoringError) as refused:
        svc.symptom_check_record(actor=nurse, patient=patient, checked_on=on, symptoms=[], none_reported=True)
    assert (str(refused.value), refused.value.field) == (message, "checked_on")
    with pytest.raises(svc.MonitoringError) as refused:
        svc.scheduled_item_done(actor=nurse, item=item, done_on=on)
    assert (str(refused.value), refused.value.field) == (message, "done_on")


def test_acknowledge_needs_a_comment(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    make_course(patient, derm)
    alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
    with pytest.raises(svc.MonitoringError, match="comment"):
        svc.alert_acknowledge(actor=derm, alert=alert, comment="  ")
    alert.refresh_from_db()
    assert alert.status == "open"


def test_stop_and_acknowledge_in_one_step_cancels_open_checks(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    course = make_course(patient, derm)
    later = make_scheduled_item(course, due=TODAY + dt.timedelta(days=30))
    alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
    data = {"on": TODAY, "reason": "lab_action_level", "note": "", "row_version": course.row_version}
    svc.alert_act(actor=derm, alert=alert, action="stop", data=data, comment="Stopped; CBC weekly")
    alert.refresh_from_db()
    course.refresh_from_db()
    later.refresh_from_db()
    assert alert.status == "acknowledged"
    assert alert.comment == "Stopped; CBC weekly"
    assert course.status == TreatmentCourse.Status.STOPPED
    assert later.status == "cancelled"


def test_failed_course_action_leaves_alert_open(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    course = make_course(patient, derm)
    alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
    data = {"on": TODAY, "reason": "", "row_version": course.row_version}
    with pytest.raises(svc.MonitoringError):
        svc.alert_act(actor=derm, alert=alert, action="interrupt", data=data, comment="x")
    alert.refresh_from_db()
    assert alert.status == "open"


def test_escalation_happens_once(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    make_course(patient, derm)
    alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
    Alert.objects.filter(pk=alert.pk).update(created_at=alert.created_at - dt.timedelta(hours=5))
    assert len(svc.alerts_escalate(older_than=dt.timedelta(hours=4))) == 1
    assert svc.alerts_escalate(older_than=dt.timedelta(hours=4)) == []
    assert AuditEvent.objects.filter(summary__contains="escalated").count() == 1


def test_decimal_value_kept_exactly(clinic, derm, nurse, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    result = record_result(nurse, patient, "anc", "0.9")
    result.refresh_from_db()
    assert result.value == Decimal("0.9")
