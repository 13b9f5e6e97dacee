"""Baseline screening checks the record satisfies (issue 16): marked when the fact is written, so the clinic-wide
lists (therapy.selectors.open_checks: the worklist, its counts, the reminders) leave them out in one query."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients import services as patient_services
from patients.models import RiskProfile
from portal.models import AuditEvent
from tests.factories import TODAY, make_course, make_patient, make_scheduled_item
from therapy.models import ScheduledItem
from therapy.selectors import open_checks
from therapy.services import record_checks_sync


@pytest.fixture
def course(clinic, derm, catalogue):
    course = make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="RC-001"), derm)
    for check in ("tb", "hcv", "hbv"):
        make_scheduled_item(course, check_type=check, kind="baseline", due=course.start_date, window=0)
    make_scheduled_item(course, check_type="cbc", due=TODAY)  # a follow-up check: never satisfied by the record
    return course


def _listed(clinic) -> set[str]:
    return set(open_checks(patient__clinic_id=clinic.pk).values_list("check_type", flat=True))


def _screening(actor, patient, item, result, on=TODAY):
    return patient_services.screening_result_record(
        actor=actor, patient=patient, item=item, performed_on=on, result=result
    )


def test_a_satisfied_check_is_hidden_and_an_unsatisfied_one_listed(clinic, nurse, course):
    assert _listed(clinic) == {"tb", "hcv", "hbv", "cbc"}
    _screening(nurse, course.patient, "hcv", "negative")
    assert _listed(clinic) == {"tb", "hbv", "cbc"}
    # one hepatitis B marker is not the hepatitis B check
    _screening(nurse, course.patient, "hbsag", "negative")
    assert "hbv" in _listed(clinic)
    _screening(nurse, course.patient, "hbcab", "positive")  # a positive result answers the item too
    assert _listed(clinic) == {"tb", "cbc"}
    hcv = ScheduledItem.objects.get(course=course, check_type="hcv")
    assert (hcv.status, hcv.satisfied_by_record) == (ScheduledItem.Status.OPEN, True)  # still open on the course


def test_a_newer_indeterminate_result_lists_the_check_again(clinic, nurse, course):
    _screening(nurse, course.patient, "hcv", "negative", on=TODAY - dt.timedelta(days=3))
    assert "hcv" not in _listed(clinic)
    _screening(nurse, course.patient, "hcv", "indeterminate")
    assert "hcv" in _listed(clinic)
    assert not ScheduledItem.objects.get(course=course, check_type="hcv").satisfied_by_record


def test_a_risk_profile_status_taken_back_lists_the_check_again(clinic, derm, course):
    patient = course.patient

    def risk(tb_status):
        version = RiskProfile.objects.get(patient=patient).row_version
        patient_services.risk_profile_update(
            actor=derm, patient=patient, data={"tb_status": tb_status}, row_version=version
        )

    risk("negative")
    assert "tb" not in _listed(clinic)
    risk("never_tested")  # a correction: the risk profile no longer says anything
    assert "tb" in _listed(clinic)
    changes = [
        e.changes
        for e in AuditEvent.objects.filter(object_id=str(patient.pk), summary__startswith="Baseline checks").order_by(
            "id"
        )
    ]
    due = course.start_date.isoformat()
    assert changes == [
        {f"Tuberculosis screening due {due}": [False, True]},
        {f"Tuberculosis screening due {due}": [True, False]},
    ]


def test_sync_marks_facts_written_past_the_services(clinic, nurse, course):
    """What the migration and the bench generator do for facts stored without the services."""
    RiskProfile.objects.filter(patient=course.patient).update(hepatitis_c="negative")
    assert "hcv" in _listed(clinic)
    assert record_checks_sync(actor=None) == 1
    assert "hcv" not in _listed(clinic)
    assert record_checks_sync(actor=None) == 0  # nothing changed: nothing written, nothing audited


def test_open_checks_is_one_query_whatever_the_baseline_checks(clinic, nurse, derm, course):
    """It read every open baseline check and their patients' records (four queries more) before."""
    _screening(nurse, course.patient, "hcv", "negative")
    for n in range(3):
        other = make_course(make_patient(clinic=clinic, dermatologist=derm, record_number=f"RC-1{n}"), derm)
        make_scheduled_item(other, check_type="tb", kind="baseline", due=other.start_date, window=0)
    with CaptureQueriesContext(connection) as ctx:
        listed = list(open_checks(patient__clinic_id=clinic.pk))
    assert len(ctx) == 1
    assert sorted(i.check_type for i in listed) == ["cbc", "hbv", "tb", "tb", "tb", "tb"]
