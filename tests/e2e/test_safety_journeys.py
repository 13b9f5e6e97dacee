"""The safety check's journeys of the 2026-12 label audit, through the real UI: a second JAK inhibitor is blocked
with its reason, and a dose change runs the check and needs its warnings acknowledged."""

from decimal import Decimal

import pytest
from django.utils import timezone

from patients.models import RiskProfile
from therapy.models import CourseEvent, SafetyFinding, TreatmentCourse

pytestmark = pytest.mark.usefixtures("demo")


def _course_on(slug: str) -> TreatmentCourse:
    course = (
        TreatmentCourse.objects.filter(drug__slug=slug, status="active", prescriber__username="demo-derm")
        .select_related("patient")
        .order_by("id")
        .first()
    )
    assert course is not None, f"the demo clinic needs an active {slug} course for demo-derm"
    return course


def test_a_second_jak_inhibitor_is_blocked_with_the_reason(session):
    course = _course_on("abrocitinib")
    page = session.login("demo-derm")
    session.go(f"/patients/{course.patient.public_id}/therapy/start/")
    page.select_option("#id_regimen", label="Upadacitinib 15 mg once daily")
    page.click("button[value=check]")
    finding = page.locator("li.finding", has_text="Abrocitinib is already open")
    assert finding.count() == 1
    assert "Contraindicated" in finding.inner_text()
    assert "do not combine two systemic JAK inhibitors" in finding.inner_text()
    session.check_accessibility("therapy-second-jak")
    for field in page.query_selector_all("textarea[name^=ack-]"):
        field.fill("Reviewed")
    page.click("button[value=start]")
    assert "Record an override reason" in page.content()
    assert not TreatmentCourse.objects.filter(patient=course.patient, drug__slug="upadacitinib").exists()
    session.assert_accessible()


def test_a_dose_change_runs_the_check_and_needs_acknowledgement(session):
    course = _course_on("abrocitinib")
    TreatmentCourse.objects.filter(pk=course.pk).update(dose=Decimal("100"))
    # Measured today: newer than the demo's kidney results, so the profile's eGFR is the one the check reads.
    RiskProfile.objects.filter(patient=course.patient).update(egfr=Decimal("45"), egfr_measured_on=timezone.localdate())
    page = session.login("demo-derm")
    session.go(course.get_absolute_url())
    page.select_option("#id_dose", "200")
    page.fill("form[action$='/dose/'] #id_reason", "Inadequate response after 12 weeks")
    page.click("button:has-text('Check and change the dose')")
    review = page.locator("section[aria-label^='Safety check for']")
    assert "eGFR 45" in review.inner_text()
    assert "above the advised 50 mg" in review.inner_text()
    session.check_accessibility("therapy-dose-change-check")
    page.click("button[value=confirm]")
    assert "Acknowledge each warning" in page.content()
    course.refresh_from_db()
    assert course.dose == Decimal("100")
    for field in page.query_selector_all("textarea[name^=ack-]"):
        field.fill("Discussed: renal dose considered, benefit outweighs")
    if page.locator("#override_reason").count():
        page.fill("#override_reason", "Reviewed with the renal team")
    page.click("button[value=confirm]")
    page.wait_for_url(f"**{course.get_absolute_url()}")
    course.refresh_from_db()
    assert course.dose == Decimal("200")
    event = CourseEvent.objects.get(course=course, kind="dose_change")
    stored = SafetyFinding.objects.filter(course=course, event=event)
    assert stored.filter(code="dose.above_advice", acknowledgement__startswith="Discussed").exists()
    assert "Dose changed after the safety check" in page.content()
    session.assert_accessible()
