"""The product brief's journeys, through the real UI, for each demo role."""

import pytest

from drugs.models import CatalogueVersion, LabThreshold
from patients.models import Patient
from portal.demo import DEMO_PASSWORD
from therapy.models import ScheduledItem, TreatmentCourse

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
    session.go("/drugs/abrocitinib/handout/")
    assert "(911 in the US, 112 in Europe)" in page.content()
    session.check_accessibility("handout")
    session.assert_accessible()


def test_dermatologist_registers_a_patient_and_starts_therapy(session):
    page = session.login("demo-derm")
    assert not page.locator("#session-warning").is_visible()  # only shortly before the idle limit
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
    page.click("text=Print patient handout")
    page.wait_for_url("**/handout/")
    assert "Edda Endtoend" in page.inner_text("article")
    assert "Abrocitinib 100 mg, once daily" in page.inner_text("article")
    assert page.locator("button[data-print]").is_visible()  # shown by its script
    session.check_accessibility("course-handout")
    session.go(course.get_absolute_url())
    page.click("text=Print GP letter")
    page.wait_for_url("**/gp-letter/")
    assert "Shared-care summary" in page.content()
    session.check_accessibility("gp-letter")
    session.assert_accessible()


def test_pages_work_at_tablet_width(tablet):
    page = tablet.login("demo-derm")
    page.click("button.navbar-toggler")  # below 1200 px the links are in the menu
    page.click("nav >> text=Patients")
    assert "/patients/" in page.url
    tablet.check_accessibility("patient-list-tablet")
    tablet.assert_accessible()


def _open_cbc_on_abrocitinib():
    """A blood count due within the worklist's default window for a demo-derm patient on abrocitinib."""
    import datetime as dt

    from django.utils import timezone

    item = (
        ScheduledItem.objects.filter(
            status="open",
            check_type="cbc",
            course__drug__slug="abrocitinib",
            course__status="active",
            course__prescriber__username="demo-derm",
            due_date__lte=timezone.localdate() + dt.timedelta(days=30),
        )
        .select_related("patient", "course")
        .order_by("due_date")
        .first()
    )
    assert item is not None, "the demo clinic needs an open blood count on abrocitinib for demo-derm"
    return item


def test_nurse_saves_a_blood_count_and_the_dermatologist_stops_the_course(session, browser, live_server):
    from monitoring.models import Alert
    from patients.models import LabResult

    item = _open_cbc_on_abrocitinib()
    record = item.patient.record_number

    # The nurse: worklist → the blood count form → platelets 45,000 cells/mm³.
    page = session.login("demo-nurse")
    session.check_accessibility("home-nurse")
    page.click("nav >> text=Worklist")
    page.wait_for_url("**/monitoring/worklist/")
    session.check_accessibility("worklist")
    page.select_option("#f-drug", label="Abrocitinib")
    page.select_option("#f-check", "cbc")
    page.click("button:has-text('Filter')")
    page.locator("tbody.worklist-group", has_text=record).locator("a.btn").first.click()  # one block per patient
    page.wait_for_url("**/labs/new/?panel=cbc")
    page.fill("#id_v_platelets", "5000000")
    page.select_option("#id_u_platelets", "/mm3")
    page.click("button:has-text('Save and interpret')")
    assert "is not a plausible" in page.locator("#err-v_platelets").inner_text()
    assert page.input_value("#id_v_platelets") == "5000000"  # what was typed stays
    assert not LabResult.objects.filter(patient=item.patient, entered_value="5000000").exists()
    page.fill("#id_v_platelets", "45000")
    page.fill("#id_v_hb", "130")
    page.select_option("#id_u_hb", "g/L")
    session.check_accessibility("lab-entry-cbc")
    page.click("button:has-text('Save and interpret')")
    page.wait_for_url("**/labs/saved/**")
    session.check_accessibility("lab-saved")
    platelets = LabResult.objects.get(patient=item.patient, lab_test__analyte="platelets", entered_value="45000")
    assert platelets.value == 45
    hb = LabResult.objects.get(patient=item.patient, lab_test__analyte="hb", entered_value="130")
    assert hb.value == 13
    item.refresh_from_db()
    assert item.status == "done"
    alert = Alert.objects.get(lab_result=platelets)
    assert alert.severity == Alert.Severity.URGENT
    assert alert.recipient.username == "demo-derm"

    # The dermatologist: the urgent alert on the home page → acknowledge with a comment and stop the course.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    derm = type(session)(context.new_page(), live_server.url)
    page = derm.login("demo-derm")
    assert alert.title in page.content()
    derm.go("/monitoring/alerts/")
    derm.check_accessibility("alert-inbox")
    page.click(f"a[href='{alert.get_absolute_url()}']")
    assert "Discontinue" in page.content() or "discontinue" in page.content()
    derm.check_accessibility("alert-detail")
    page.click("button:has-text('Stop the course and acknowledge')")  # no comment yet
    assert page.locator("#id_stop-comment.is-invalid").count() == 1
    page.fill("#id_stop-comment", "Platelets 45; stopped, patient informed, recheck in 2 weeks")
    page.click("button:has-text('Stop the course and acknowledge')")
    page.wait_for_url("**/monitoring/alerts/**")
    alert.refresh_from_db()
    item.course.refresh_from_db()
    assert alert.status == "acknowledged"
    assert alert.comment.startswith("Platelets 45")
    assert item.course.status == "stopped"
    assert not ScheduledItem.objects.filter(course=item.course, status="open").exists()
    derm.go(item.course.get_absolute_url())
    derm.check_accessibility("course-stopped")
    derm.go(item.patient.get_absolute_url())
    assert "Platelets" in page.content()
    derm.check_accessibility("patient-trends")
    # The cumulative table and the platelets history: the 45 flagged low at the discontinue level.
    page.click("a:has-text('Results table')")
    page.wait_for_url("**/labs/")
    assert page.locator(".results-table .reached-discontinue").first.inner_text().startswith("45")
    derm.check_accessibility("results-table")
    page.click(".results-table a:has-text('Platelets')")
    page.wait_for_url("**/labs/platelets/history/")
    assert "45000 cells/mm³" in page.content()  # as the nurse typed it
    derm.check_accessibility("lab-history")
    context.close()
    session.assert_accessible()
    derm.assert_accessible()


def test_idle_warning_shows_before_the_limit_and_stay_signed_in_hides_it(session, settings):
    settings.PORTAL_SESSION_WARNING_SECONDS = 1
    page = session.login("demo-nurse")
    warning = page.locator("#session-warning")
    warning.wait_for(state="visible", timeout=5_000)
    assert "logged out in about" in warning.inner_text()
    session.check_accessibility("session-warning")
    page.click("#session-warning button:has-text('Stay signed in')")
    warning.wait_for(state="hidden", timeout=5_000)
    session.assert_accessible()


def test_at_the_idle_limit_the_page_is_cleared_and_the_browser_goes_to_log_in(session, settings):
    """Pen test F14: when the idle limit passed, the patient data stayed on screen."""
    settings.PORTAL_SESSION_WARNING_SECONDS = 1
    settings.SESSION_COOKIE_AGE = 4  # the server's idle limit, which the page's timer follows
    patient = Patient.objects.order_by("id").first()
    patient_url = f"/patients/{patient.public_id}/"
    page = session.login("demo-nurse")
    # First with the log-in page held back (204: the browser stays on the page): the data must go anyway.
    page.route("**/accounts/login/**", lambda route: route.fulfill(status=204))
    session.go(patient_url)
    assert patient.family_name in page.content()
    page.wait_for_function("document.title.startsWith('Logged out')", timeout=10_000)
    assert patient.family_name not in page.content()
    assert patient.given_name not in page.content()
    assert "logged out because of inactivity" in page.inner_text("body")
    page.unroute("**/accounts/login/**")
    # Then for real: the browser lands on the log-in page, which leads back to the patient.
    session.login("demo-nurse")
    session.go(patient_url)
    page.wait_for_url("**/accounts/login/?next=*", timeout=10_000)
    assert "next=" + patient_url.replace("/", "%2F") in page.url
    assert patient.family_name not in page.content()
    page.fill("#id_username", "demo-nurse")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{patient_url}", timeout=10_000)
    assert patient.family_name in page.content()


def test_stay_signed_in_after_the_session_ended_goes_to_log_in(session, settings):
    """The keep-alive of an ended session is redirected to the log-in page; that must not count as renewed."""
    from django.contrib.sessions.models import Session as StoredSession

    settings.PORTAL_SESSION_WARNING_SECONDS = 1
    patient = Patient.objects.order_by("id").first()
    page = session.login("demo-nurse")
    session.go(f"/patients/{patient.public_id}/")
    page.locator("#session-warning").wait_for(state="visible", timeout=5_000)
    StoredSession.objects.all().delete()  # the session ends on the server (another tab logged out, say)
    page.click("#session-warning button:has-text('Stay signed in')")
    page.wait_for_url("**/accounts/login/?next=*", timeout=10_000)
    assert patient.family_name not in page.content()


def test_nurse_records_chest_pain_and_sees_the_dermatologist_acknowledge_it(session, browser, live_server):
    """Issue 15: the nurse is told who was alerted and to call the emergency number, then follows the alert."""
    from django.utils import timezone

    from monitoring.models import Alert

    item = _open_cbc_on_abrocitinib()
    patient = item.patient
    emergency = patient.clinic.emergency_number
    assert emergency, "the demo clinic has an emergency number"

    # The nurse: the patient page → symptom check → chest pain.
    page = session.login("demo-nurse")
    session.go(patient.get_absolute_url())
    page.click("a:has-text('Symptom check')")
    page.wait_for_url("**/symptoms/**")
    page.fill("#id_checked_on", timezone.localdate().isoformat())
    page.check("input[name=symptoms][value=chest_pain]")
    page.click("button:has-text('Record the check')")
    page.wait_for_url(f"**{patient.get_absolute_url()}")
    urgent = page.locator(".messages .alert-danger").first.inner_text()
    assert urgent.startswith(f"EMERGENCY: call {emergency} now")
    assert "Urgent alert sent to Dana Demo-Derm" in urgent
    assert "Do not give the next dose" in urgent
    session.check_accessibility("symptom-check-urgent")
    alert = Alert.objects.get(symptom_check__patient=patient, severity=Alert.Severity.URGENT)
    status = page.locator(".patient-alert", has_text=alert.title).locator(".alert-status")
    assert "Open: not acknowledged yet" in status.inner_text()
    # The nurse's view of the alert: whom it went to, the emergency advice, no acknowledge form.
    page.click(f"a[href='{alert.get_absolute_url()}']")
    page.wait_for_url(f"**{alert.get_absolute_url()}")
    assert "Dana Demo-Derm" in page.locator("dl").inner_text()
    assert f"call {emergency} now" in page.locator(".alert-danger").inner_text()
    assert page.locator("form[action*='acknowledge']").count() == 0
    assert page.locator("button:has-text('Acknowledge')").count() == 0
    session.check_accessibility("alert-detail-nurse")

    # The dermatologist acknowledges it with a comment.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    derm = type(session)(context.new_page(), live_server.url)
    derm_page = derm.login("demo-derm")
    derm.go(alert.get_absolute_url())
    derm_page.fill("#id_comment", "Called the patient: in A&E, next dose held")
    derm_page.click("button:has-text('Acknowledge')")
    derm_page.wait_for_url("**/monitoring/alerts/**")
    context.close()

    # The nurse sees it acknowledged on the patient page, by whom and with the comment.
    session.go(patient.get_absolute_url())
    status = page.locator(".patient-alert", has_text=alert.title).locator(".alert-status").inner_text()
    assert "Acknowledged by Dana Demo-Derm" in status
    assert "Called the patient: in A&E, next dose held" in status
    session.check_accessibility("patient-alert-acknowledged")
    session.assert_accessible()
    derm.assert_accessible()
