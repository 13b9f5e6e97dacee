"""The demo clinic is the same on every run of a day, and seeding it again adds nothing (setup_demo)."""

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from monitoring.models import Alert, SymptomCheck
from patients.models import Assessment, LabResult, Patient, ScreeningResult
from therapy.models import ScheduledItem, TreatmentCourse

pytestmark = pytest.mark.django_db

COUNTED = (Patient, ScreeningResult, Assessment, LabResult, TreatmentCourse, ScheduledItem, SymptomCheck, Alert)


def _snapshot() -> list[tuple]:
    rows = []
    for p in Patient.objects.filter(record_number__startswith="DEMO-").order_by("record_number"):
        rows.append(
            (
                p.record_number,
                p.given_name,
                p.sex_at_birth,
                p.date_of_birth,
                timezone.localtime(p.created_at).date(),
                tuple(
                    p.screening_results.order_by("performed_on", "item").values_list("item", "performed_on", "result")
                ),
                tuple(p.assessments.order_by("assessed_on").values_list("assessed_on", "easi")),
                tuple(p.courses.order_by("start_date", "drug__slug").values_list("drug__slug", "dose", "start_date")),
                tuple(p.lab_results.order_by("collected_on", "lab_test__analyte").values_list("collected_on", "value")),
                tuple(p.alerts.order_by("title").values_list("title", flat=True)),
            )
        )
    return rows


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_the_demo_is_the_same_on_every_run_and_seeding_again_adds_nothing(settings):
    settings.PORTAL_DEMO = True
    runs = []
    for _run in range(2):
        with transaction.atomic():
            call_command("setup_demo", verbosity=0)
            runs.append(_snapshot())
            counts = _counts()
            call_command("setup_demo", verbosity=0)
            assert _counts() == counts
            transaction.set_rollback(True)
    assert len(runs[0]) == 60
    assert runs[0] == runs[1]
