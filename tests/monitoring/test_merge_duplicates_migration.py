"""monitoring.0007 merges the duplicate lab results stored before patients.0007 forbade them (issue 18, F8).

The schema goes back to before both migrations (the constraints are dropped), duplicates are stored as F8 stored
them, and the migrations are applied again.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from drugs.models import LabTest
from monitoring.models import Alert
from patients.models import LabResult
from portal.models import AuditEvent
from tests.factories import TODAY, make_course, make_patient

BEFORE = [("monitoring", "0006_alert_action_taken"), ("patients", "0006_easi_half_sign_scores")]
AFTER = [("monitoring", "0007_merge_duplicate_lab_results"), ("patients", "0007_labresult_once_per_day_and_value")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def before_constraint(clinic, derm, nurse, catalogue):
    _migrate(BEFORE)
    yield make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="MIG-1"), derm)
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _result(course, nurse, value="45", **fields):
    return LabResult.objects.create(
        patient=course.patient,
        lab_test=LabTest.objects.get(analyte="platelets"),
        collected_on=TODAY,
        value=Decimal(value),
        recorded_by=nurse,
        **fields,
    )


def _alert(result, course, **fields):
    return Alert.objects.create(
        patient=result.patient,
        course=course,
        lab_result=result,
        kind="lab_action",
        severity=1,
        title="Platelets low",
        reason="r",
        advice="a",
        **fields,
    )


def test_keeps_the_first_copy_and_one_alert_per_course(before_constraint, nurse):
    course = before_constraint
    first, second, third = (_result(course, nurse) for _ in range(3))
    other = _result(course, nurse, value="46")  # a same-day repeat with another value: not a duplicate
    _alert(first, course)
    _alert(second, course)
    _alert(third, course)
    _migrate(AFTER)
    assert sorted(LabResult.objects.values_list("pk", flat=True)) == [first.pk, other.pk]
    assert list(Alert.objects.values_list("lab_result_id", flat=True)) == [first.pk]
    event = AuditEvent.objects.get(summary__startswith="Duplicate lab results merged")
    assert event.changes["deleted_result_ids"] == [second.pk, third.pk]


def test_an_acknowledged_alert_of_a_copy_replaces_the_open_one(before_constraint, nurse):
    course = before_constraint
    first, second = _result(course, nurse), _result(course, nurse)
    _alert(first, course)
    decided = _alert(second, course, status="acknowledged", acknowledged_at=second.recorded_at, comment="seen")
    _migrate(AFTER)
    assert list(LabResult.objects.values_list("pk", flat=True)) == [first.pk]
    assert list(Alert.objects.values_list("pk", "lab_result_id")) == [(decided.pk, first.pk)]


def test_refuses_to_merge_two_decisions(before_constraint, nurse):
    course = before_constraint
    first, second = _result(course, nurse), _result(course, nurse)
    for result in (first, second):
        _alert(result, course, status="acknowledged", acknowledged_at=result.recorded_at, comment="seen")
    with pytest.raises(RuntimeError, match=f"result ids {first.pk} and {second.pk}"):
        _migrate(AFTER)
    assert LabResult.objects.count() == 2
    assert Alert.objects.count() == 2
    Alert.objects.filter(lab_result=second).delete()  # merged by hand: the fixture's teardown migrates again
