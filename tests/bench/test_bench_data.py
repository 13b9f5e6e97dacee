"""The benchmark's data generator at a tiny size: counts, staff, and reuse of an existing build."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bench.management.commands.bench_data import (
    BENCH_CLINIC_NAME,
    HEAVY_EXTRA_LABS,
    HEAVY_RECORD_NUMBER,
    bench_users,
    built_size,
    current_counts,
    expected_counts,
)
from monitoring.models import Alert
from patients.models import LabResult, Patient
from portal.models import Clinic
from therapy.models import TreatmentCourse

pytestmark = pytest.mark.django_db


def run(patients: int) -> str:
    out = StringIO()
    call_command("bench_data", "--patients", str(patients), stdout=out)
    return out.getvalue()


def test_refuses_outside_a_bench_database_without_demo(settings):
    settings.PORTAL_DEMO = False
    with pytest.raises(CommandError, match="bench"):
        run(5)


def test_builds_counts_and_reuses(settings):
    settings.PORTAL_DEMO = True
    run(20)
    clinic = Clinic.objects.get(name=BENCH_CLINIC_NAME)
    assert current_counts(clinic) == expected_counts(20)
    assert expected_counts(20).labs == 20 * 100 + HEAVY_EXTRA_LABS
    assert built_size(clinic) == 20
    heavy = Patient.objects.get(record_number=HEAVY_RECORD_NUMBER)
    assert LabResult.objects.filter(patient=heavy).count() == 100 + HEAVY_EXTRA_LABS
    assert TreatmentCourse.objects.filter(patient=heavy, status="stopped").count() == 3
    assert set(bench_users()) == {"derm", "nurse", "superuser"}
    assert Alert.objects.filter(patient__clinic=clinic, status="open", recipient__isnull=False).exists()
    assert not LabResult.objects.filter(patient__clinic=clinic, flag="").exists()  # COPY fills the flag too
    assert all(p.family_name and p.record_number.startswith("BENCH-") for p in Patient.objects.filter(clinic=clinic))

    ids = set(Patient.objects.values_list("pk", flat=True))
    assert "reusing" in run(20)
    assert set(Patient.objects.values_list("pk", flat=True)) == ids  # nothing rebuilt

    run(8)  # another size: rebuilt to exactly that size
    assert current_counts(clinic) == expected_counts(8)
    assert built_size(clinic) == 8


def test_a_build_by_an_earlier_generator_is_rebuilt(settings):
    from portal.models import AuditEvent

    settings.PORTAL_DEMO = True
    run(5)
    clinic = Clinic.objects.get(name=BENCH_CLINIC_NAME)
    AuditEvent.objects.create(
        action=AuditEvent.Action.CREATE,
        object_type="portal.clinic",
        object_id=str(clinic.pk),
        summary="Bench clinic built: 5 synthetic patients",  # the marker before generators were numbered
    )
    assert built_size(clinic) is None
    assert "reusing" not in run(5)
    assert built_size(clinic) == 5
