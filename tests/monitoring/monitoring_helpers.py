"""Synthetic courses and results for the monitoring tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from drugs.models import Drug, LabTest
from drugs.services import current_catalogue_version
from monitoring import services_monitoring as svc
from monitoring.models import ScheduledItem, TreatmentCourse

TODAY = timezone.localdate()


def course_for(patient, prescriber, slug="abrocitinib", dose="100", jurisdiction="US", status="active"):
    """An open course stored directly (the start rules are tested elsewhere)."""
    return TreatmentCourse.objects.create(
        patient=patient,
        drug=Drug.objects.get(slug=slug),
        dose=Decimal(dose) if dose else None,
        start_date=TODAY - dt.timedelta(days=40),
        status=status,
        prescriber=prescriber,
        jurisdiction=jurisdiction,
        catalogue_version=current_catalogue_version(),
    )


def item_for(course, check_type="cbc", due=TODAY, window=7, kind="follow_up"):
    return ScheduledItem.objects.create(
        course=course,
        patient=course.patient,
        check_type=check_type,
        kind=kind,
        due_date=due,
        earliest=due - dt.timedelta(days=window),
        latest=due + dt.timedelta(days=window),
        reason="test",
        catalogue_version=course.catalogue_version,
    )


def record(actor, patient, analyte, value, on=TODAY):
    test = LabTest.objects.get(analyte=analyte)
    row = svc.ResultRow(patient, test, on, Decimal(str(value)), "", str(value), test.canonical_unit)
    return svc.lab_results_record(actor=actor, rows=[row])[0]
