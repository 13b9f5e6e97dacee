"""Issue 15, the team loop through the real UI: the nurse records chest pain for a patient on an oral JAK
inhibitor, is told who was alerted and to call the emergency number; the dermatologist (a second browser) acknowledges
the alert with a comment; the nurse sees it acknowledged. Then the handout and the GP letter as they print (PNG and PDF
into E2E_SCREENSHOTS when it is set), and the GP letter's server-side PDF downloaded."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import dateformat, timezone

from monitoring.models import Alert
from therapy.models import ScheduledItem, TreatmentCourse

from .conftest import SHOTS

pytestmark = pytest.mark.usefixtures("demo")

COMMENT = "Called the patient: in A&E with chest pain, doses on hold until cardiology review"


def _oral_course_of_demo_derm() -> TreatmentCourse:
    """An active oral course of a demo-derm patient with open check-ups within two months (for the printouts)."""
    soon = timezone.localdate() + dt.timedelta(days=60)
    course = (
        TreatmentCourse.objects.filter(
            status="active",
            drug__route="oral",
            prescriber__username="demo-derm",
            schedule__status="open",
            schedule__due_date__lte=soon,
        )
        .select_related("patient__clinic", "drug")
        .order_by("id")
        .first()
    )
    assert course is not None, "the demo has an active oral course of demo-derm with an open check-up"
    return course


def _capture_print(session, name: str) -> None:
    """The page as it prints: a PNG of the whole page and a PDF (A4), in E2E_SCREENSHOTS and in /tmp."""
    page = session.page
    folders = [Path("/tmp/e2e-print")] + ([Path(SHOTS)] if SHOTS else [])
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}-print.png"), full_page=True)
        page.pdf(path=str(folder / f"{name}.pdf"), format="A4", print_background=False)


def _assert_print_hides_the_screen_parts(page) -> None:
    for selector in (".portal-nav", ".no-print", ".breadcrumb", "button", "footer"):
        shown = [el for el in page.locator(selector).all() if el.is_visible()]
        assert not shown, f"{selector} is visible in print media"


def test_chest_pain_goes_round_the_team_and_the_printouts_carry_the_plan(session, browser, live_server):
    course = _oral_course_of_demo_derm()
    patient = course.patient
    clinic = patient.clinic
    assert clinic.emergency_number, "the demo clinic has an emergency number"
    assert clinic.phone, "the demo clinic has a phone number"

    # The nurse: the patient page → symptom check → chest pain → back on the patient page with the notice.
    page = session.login("demo-nurse")
    session.go(patient.get_absolute_url())
    page.click("a:has-text('Symptom check')")
    page.wait_for_url("**/symptoms/**")
    session.check_accessibility("symptom-check-form")
    page.fill("#id_checked_on", timezone.localdate().isoformat())
    page.check("input[name=symptoms][value=chest_pain]")
    page.click("button:has-text('Record the check')")
    page.wait_for_url(f"**{patient.get_absolute_url()}")
    urgent = page.locator(".messages .alert-danger").first.inner_text()
    assert urgent.startswith(f"EMERGENCY: call {clinic.emergency_number} now"), urgent
    assert "Urgent alert sent to Dana Demo-Derm" in urgent, urgent
    alert = Alert.objects.get(symptom_check__patient=patient, severity=Alert.Severity.URGENT)
    assert alert.recipient.username == "demo-derm"
    assert alert.course_id == course.pk
    panel = page.locator(".patient-alert", has_text=alert.title)
    assert "sent to Dana Demo-Derm" in panel.inner_text()
    assert "Open: not acknowledged yet" in panel.locator(".alert-status").inner_text()
    session.check_accessibility("symptom-check-urgent")

    # The dermatologist, in a second browser: the alert → acknowledge it with a comment. (Interrupting the course
    # instead would close its check-ups, and the printouts below are of a course that goes on.)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    derm = type(session)(context.new_page(), live_server.url)
    derm_page = derm.login("demo-derm")
    derm.go("/monitoring/alerts/")
    derm_page.click(f"a[href='{alert.get_absolute_url()}']")
    derm_page.wait_for_url(f"**{alert.get_absolute_url()}")
    assert f"call {clinic.emergency_number} now" in derm_page.locator(".alert-danger").inner_text()
    assert "Open: not acknowledged yet" in derm_page.locator("#alert-status").inner_text()
    derm.check_accessibility("alert-detail-chest-pain")
    derm_page.click("button:has-text('Acknowledge')")  # no comment yet: refused next to the field
    assert derm_page.locator("#id_comment.is-invalid").count() == 1
    derm_page.fill("#id_comment", COMMENT)
    derm_page.click("button:has-text('Acknowledge')")
    derm_page.wait_for_url("**/monitoring/alerts/**")
    assert "Alert acknowledged." in derm_page.content()
    derm.assert_accessible()
    context.close()
    alert.refresh_from_db()
    assert alert.status == "acknowledged"
    assert alert.comment == COMMENT
    assert alert.acknowledged_by.username == "demo-derm"

    # The nurse reloads the patient page: acknowledged, by whom, with the comment; and in the clinic's alerts.
    page.reload()
    status = page.locator(".patient-alert", has_text=alert.title).locator(".alert-status").inner_text()
    assert "Acknowledged by Dana Demo-Derm" in status, status
    assert COMMENT in status, status
    session.check_accessibility("patient-alert-acknowledged-loop")
    session.go("/monitoring/alerts/?scope=clinic&status=acknowledged")
    row = page.locator(".alert-row", has_text=patient.record_number).first.inner_text()
    assert "Acknowledged by Dana Demo-Derm" in row, row
    assert COMMENT in row, row
    session.check_accessibility("alerts-acknowledged-nurse")

    # The printouts, as they print: names, drug, dose, check-up dates and the clinic's phone; no screen parts.
    due = list(
        ScheduledItem.objects.filter(course=course, status="open")
        .order_by("due_date")
        .values_list("due_date", flat=True)
    )
    assert due, "the course still has open check-ups"
    dose = f"{course.dose.normalize():f} mg"
    page.context.clear_cookies()
    page = session.login("demo-derm")
    for name, path, date_format in (
        ("course-handout", f"/therapy/{course.public_id}/handout/", "j F Y"),
        ("gp-letter", f"/therapy/{course.public_id}/gp-letter/", "j M Y"),
    ):
        session.go(path)
        session.check_accessibility(f"loop-{name}")
        page.emulate_media(media="print")
        _assert_print_hides_the_screen_parts(page)
        text = page.locator("article.printout").inner_text()
        for expected in (
            patient.given_name,
            patient.family_name,
            str(course.drug),
            dose,
            clinic.phone,
            dateformat.format(due[0], date_format),
        ):
            assert expected in text, f"{name}: {expected!r} not in the printout"
        _capture_print(session, name)
        page.emulate_media(media="screen")

    # The GP letter's PDF made on the server: Download PDF, beside Print on the letter page.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert re.fullmatch(r"gp-letter-[A-Za-z0-9-]+-\d{4}-\d{2}-\d{2}\.pdf", download.suggested_filename)
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")
    download.save_as("/tmp/e2e-print/gp-letter-server.pdf")
    session.assert_accessible()
