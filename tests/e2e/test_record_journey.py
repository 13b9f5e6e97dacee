"""One consistent record, through the real UI (issue 14): an SI clinic registers a patient, the nurse types the
baseline panels as a European lab prints them (mmol/L, µmol/L, decimal commas), the checklist is complete, the
dermatologist starts abrocitinib, raises the dose, and the routine blood counts continue after the re-check."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from patients.models import LabResult, Patient
from therapy.models import ScheduledItem, TreatmentCourse

pytestmark = pytest.mark.usefixtures("demo")

# As the lab printed them: (panel, field, value, unit code)
BASELINE = [
    ("cbc", "wbc", "6,1", "10*9/L"),
    ("cbc", "anc", "3,4", "10*9/L"),
    ("cbc", "alc", "1,9", "10*9/L"),
    ("cbc", "hb", "8,9", "mmol/L"),
    ("cbc", "platelets", "245", "10*9/L"),
    ("lipids", "total_cholesterol", "5,2", "mmol/L"),
    ("lipids", "ldl", "3,1", "mmol/L"),
    ("lipids", "hdl", "1,4", "mmol/L"),
    ("lipids", "triglycerides", "1,6", "mmol/L"),
    ("liver", "alt", "24", "U/L"),
    ("liver", "ast", "21", "U/L"),
    ("kidney", "creatinine", "80", "umol/L"),
    ("kidney", "egfr", "96", "mL/min/{1.73_m2}"),
]


def test_si_baseline_completes_the_checklist_and_checks_continue_after_a_dose_increase(session, browser, live_server):
    today = timezone.localdate()
    collected = today - dt.timedelta(days=3)

    # The catalogue admin switches the clinic to SI units.
    page = session.login("demo-admin")
    page.click("nav >> text=Clinic settings")
    page.check("input[name=unit_system][value=SI]")
    session.check_accessibility("clinic-settings")
    page.click("main button[type=submit]")
    assert "Saved" in page.content()
    page.context.clear_cookies()

    # The dermatologist registers the patient with TB and hepatitis results in the risk profile.
    page = session.login("demo-derm")
    session.go("/patients/new/")
    page.fill("#id_record_number", "E2E-SI-01")
    page.fill("#id_given_name", "Jonas")
    page.fill("#id_family_name", "Europa")
    page.fill("#id_date_of_birth", "1984-05-06")
    page.select_option("#id_sex_at_birth", "male")
    page.click("main button[type=submit]")
    page.wait_for_url("**/risk/")
    patient = Patient.objects.get(record_number="E2E-SI-01")
    page.select_option("#id_smoking_status", "never")
    page.select_option("#id_tb_status", "negative")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/patients/{patient.public_id}/")
    session.go(f"/patients/{patient.public_id}/screening/?item=vaccinations")
    page.fill("#id_performed_on", collected.isoformat())
    page.select_option("#id_result", "normal")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/patients/{patient.public_id}/")
    page.context.clear_cookies()

    # The nurse types the baseline panels as printed: decimal commas, mmol/L and µmol/L.
    page = session.login("demo-nurse")
    for panel in ("cbc", "lipids", "liver", "kidney"):
        session.go(f"/patients/{patient.public_id}/labs/new/?panel={panel}")
        page.fill("#id_collected_on", collected.isoformat())
        for row_panel, analyte, value, unit in BASELINE:
            if row_panel != panel:
                continue
            page.fill(f"#id_v_{analyte}", value)
            page.select_option(f"#id_u_{analyte}", unit)
        if panel == "cbc":
            session.check_accessibility("lab-entry-si")
        page.click("button:has-text('Save and interpret')")
        page.wait_for_url("**/labs/saved/**")
    # Hepatitis serology as coded lab results (TB is negative in the risk profile: entered once, counted).
    session.go(f"/patients/{patient.public_id}/labs/new/?panel=screening")
    page.fill("#id_collected_on", collected.isoformat())
    for analyte in ("hbsag", "anti_hbc", "hcv_ab"):
        page.select_option(f"#id_v_{analyte}", "negative")
    page.click("button:has-text('Save and interpret')")
    page.wait_for_url("**/labs/saved/**")
    stored = dict(LabResult.objects.filter(patient=patient).values_list("lab_test__analyte", "value"))
    assert stored["hb"] == Decimal("14.3379")  # 8.9 mmol/L × 1.611
    assert stored["total_cholesterol"] == Decimal("201.084")  # 5.2 × 38.67
    assert stored["triglycerides"] == Decimal("141.712")  # 1.6 × 88.57
    assert stored["creatinine"] == Decimal("0.9048")  # 80 ÷ 88.42, rounded to the stored 4 places
    session.go(f"/patients/{patient.public_id}/labs/saved/")
    assert "80 µmol/L" in page.content()  # shown as typed in the SI clinic
    page.context.clear_cookies()

    # The dermatologist sees a complete checklist, starts abrocitinib and raises the dose.
    page = session.login("demo-derm")
    session.go(f"/patients/{patient.public_id}/")
    checklist = page.locator("section", has_text="Baseline screening").first.inner_text()
    assert "Missing" not in checklist, checklist
    session.check_accessibility("patient-checklist-complete")
    page.click("text=Start therapy")
    page.select_option("#id_regimen", label="Abrocitinib 100 mg once daily")
    page.click("button[value=check]")
    review = page.content()
    assert "Baseline screening not recorded" not in review
    for field in page.query_selector_all("textarea[name^=ack-]"):
        field.fill("Discussed with the patient")
    page.click("button[value=start]")
    page.wait_for_url("**/therapy/*/")
    course = TreatmentCourse.objects.get(patient=patient)
    increase_on = today
    page.select_option("#id_dose", "200")
    page.fill("form[action$='/dose/'] #id_on", increase_on.isoformat())
    page.fill("form[action$='/dose/'] #id_reason", "Inadequate response")
    page.click("button:has-text('Check and change the dose')")
    page.wait_for_load_state()
    if page.locator("button[value=confirm]").count():  # the check found something to review
        session.check_accessibility("dose-increase-review")
        for field in page.query_selector_all("textarea[name^=ack-]"):
            field.fill("Discussed: higher dose, benefit outweighs")
        page.click("button[value=confirm]")
    page.wait_for_url(f"**{course.get_absolute_url()}")
    assert "Dose changed after the safety check" in page.content()
    course.refresh_from_db()
    assert course.dose == Decimal("200")

    # After the re-check four weeks later, routine blood counts are still scheduled.
    open_cbc = list(ScheduledItem.objects.filter(course=course, check_type="cbc", status="open").order_by("due_date"))
    recheck = [i for i in open_cbc if i.kind == "after_dose_increase"]
    assert recheck, [(i.kind, i.due_date) for i in open_cbc]
    assert any(i.kind == "follow_up" and i.due_date > recheck[0].due_date for i in open_cbc), [
        (i.kind, i.due_date) for i in open_cbc
    ]
    assert "after the dose increase" in page.content()
    session.check_accessibility("course-after-dose-increase")
    session.assert_accessible()
