"""The product brief's journeys, through the real UI, for each demo role."""

import pytest

from drugs.models import CatalogueVersion, LabThreshold
from monitoring.models import ScheduledItem, TreatmentCourse
from patients.models import Patient

pytestmark = pytest.mark.usefixtures("demo")


def test_anonymous_is_sent_to_login(session):
    page = session.go("/patients/")
    assert "/accounts/login/" in page.url
    session.check_accessibility("login")
    session.assert_accessible()


def test_catalogue_admin_changes_a_threshold_with_a_reason(session):
    page = session.login("demo-admin")
    assert "Your role: Catalogue admin" in page.content()
    session.check_accessibility("home-admin")
    page.click("text=Drug catalogue")
    page.fill("#q", "deglocitinib")
    page.click("button:has-text('Find')")
    assert page.locator("tbody tr").count() == 1
    assert "Delgocitinib" in page.locator("tbody tr").inner_text()
    session.go("/drugs/")
    session.check_accessibility("drug-list")
    page.click("text=Abrocitinib")
    session.check_accessibility("drug-detail")
    page.click("a:has-text('Edit')")
    page.click("text=Lab action thresholds")
    row = LabThreshold.objects.get(drug__slug="abrocitinib", lab_test__analyte="platelets", phase="on_treatment")
    index = list(LabThreshold.objects.filter(drug__slug="abrocitinib").values_list("pk", flat=True)).index(row.pk)
    page.fill(f"#id_thresholds-{index}-value", "45")
    page.fill("#id_reason", "Local protocol review (test)")
    session.check_accessibility("drug-edit-thresholds")
    page.click("button:has-text('Save as a new catalogue version')")
    page.wait_for_url("**/history/")
    assert "Local protocol review (test)" in page.content()
    session.check_accessibility("drug-history")
    assert CatalogueVersion.objects.filter(reason="Local protocol review (test)").exists()
    session.assert_accessible()


def test_dermatologist_registers_a_patient_and_starts_therapy(session):
    page = session.login("demo-derm")
    session.check_accessibility("home-dermatologist")
    page.click("nav >> text=Patients")
    session.check_accessibility("patient-list")
    session.go("/patients/new/")
    page.fill("#id_record_number", "E2E-0001")
    page.fill("#id_given_name", "Edda")
    page.fill("#id_family_name", "Endtoend")
    page.fill("#id_date_of_birth", "1968-03-04")
    page.select_option("#id_sex_at_birth", "female")
    session.check_accessibility("patient-new")
    page.click("main button[type=submit]")
    page.wait_for_url("**/risk/")
    patient = Patient.objects.get(record_number="E2E-0001")
    assert page.url.endswith(f"/patients/{patient.public_id}/risk/")
    page.select_option("#id_smoking_status", "current")
    page.fill("#id_pack_years", "20")
    page.check("#id_hypertension")
    page.select_option("#id_tb_status", "negative")
    session.check_accessibility("risk-profile")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/patients/{patient.public_id}/")
    session.go(f"/patients/{patient.public_id}/")
    assert "US boxed-warning group" in page.content()
    session.check_accessibility("patient-detail")
    page.click("text=Start therapy")
    page.select_option("#id_regimen", label="Abrocitinib 100 mg once daily")
    page.click("button[value=check]")
    assert "boxed warning" in page.content()
    session.check_accessibility("therapy-safety-check")
    for field in page.query_selector_all("textarea[name^=ack-]"):
        field.fill("Discussed with the patient; no suitable alternative")
    page.click("button[value=start]")
    page.wait_for_url("**/therapy/*/")
    course = TreatmentCourse.objects.get(patient=patient)
    assert page.url.endswith(course.get_absolute_url())
    assert "Monitoring schedule" in page.content()
    assert ScheduledItem.objects.filter(course=course, check_type="cbc").exists()
    session.check_accessibility("course-detail")
    session.assert_accessible()


def test_pages_work_at_tablet_width(tablet):
    page = tablet.login("demo-derm")
    page.click("nav >> text=Patients")
    assert "/patients/" in page.url
    tablet.check_accessibility("patient-list-tablet")
    tablet.assert_accessible()
