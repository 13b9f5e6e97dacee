"""Issue 14, "one fact, one place": a screening fact entered once counts everywhere. The patient page's checklist,
the safety check, the course schedule and the worklist all read it through patients.selectors.screening_status."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from drugs.models import Drug, LabTest
from patients import screening
from patients.models import Patient
from tests.factories import TODAY, make_course, make_patient, make_scheduled_item
from therapy import services as therapy_services
from therapy.safety import CHECK_NAMES

WORKLIST = reverse("monitoring:worklist")
# One or two tests of each panel, values within the reference range where it has one.
PANELS = {
    "cbc": {"platelets": "250", "hb": "13.5"},
    "lipids": {"ldl": "100", "hdl": "55"},
    "liver": {"alt": "30", "ast": "25"},
    "kidney": {"egfr": "95", "creatinine": "0.9"},
}


@pytest.fixture
def course(clinic, derm, catalogue):
    """An abrocitinib course started 40 days ago with the baseline screening still open."""
    course = make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="ONE-001"), derm)
    for check in (*PANELS, "tb", "hbv"):
        make_scheduled_item(course, check_type=check, kind="baseline", due=course.start_date, window=0)
    return course


def _enter(client, patient, panel, values, on=TODAY):
    """Through the nurse's lab entry form, as a nurse does it."""
    data = {"collected_on": on.isoformat(), "panel": panel}
    for analyte, value in values.items():
        data[f"v_{analyte}"] = value
        unit = LabTest.objects.get(analyte=analyte).canonical_unit
        if unit:
            data[f"u_{analyte}"] = unit
    response = client.post(reverse("monitoring:lab_entry", args=[patient.public_id]) + f"?panel={panel}", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def _checklist(client, patient):
    return {row.code: row for row in client.get(patient.get_absolute_url()).context["checklist"]}


def _safety(patient):
    """The screening findings of a start of upadacitinib (US: blood count and liver required, lipids and kidney
    advised, so each panel shows up in one of the two findings while it is missing)."""
    plan = therapy_services.Plan(
        drug=Drug.objects.get(slug="upadacitinib"), dose=Decimal(15), frequency="once daily", start_date=TODAY
    )
    fresh = Patient.objects.get(pk=patient.pk)  # as a request loads it (the risk profile may have changed)
    findings, _version = therapy_services.safety_preview(patient=fresh, plan=plan)
    return {f.code: f for f in findings if f.code.startswith("screening.")}


def _screening_text(findings):
    return " ".join(f.message for code, f in findings.items() if code in ("screening.missing", "screening.advised"))


def _worklist(client):
    groups = client.get(WORKLIST).context["page"].groups
    return {(g["patient"].record_number, r["check_type"]) for g in groups for r in g["rows"]}


def _schedule(client, course):
    page = client.get(course.get_absolute_url())
    assert page.status_code == 200
    shown = {}
    for item in page.context["schedule"]:
        if item.kind == "baseline":
            shown[item.check_type] = "done" if item.status == "done" or item.done_by_record else item.status
    return shown, page.content.decode()


def test_panels_entered_once_through_lab_entry_count_everywhere(client_as, nurse, derm, course):
    patient = course.patient
    # Before: missing on every screen
    rows = _checklist(client_as(nurse), patient)
    assert not any(rows[p].done for p in PANELS)
    text = _screening_text(_safety(patient))
    assert all(CHECK_NAMES[p] in text for p in PANELS)
    assert {("ONE-001", p) for p in PANELS} <= _worklist(client_as(nurse))

    nurse_client = client_as(nurse)
    for panel, values in PANELS.items():
        _enter(nurse_client, patient, panel, values)

    rows = _checklist(nurse_client, patient)
    for panel in PANELS:
        row = rows[panel]
        assert row.done, panel
        assert row.evidence.source_label == "Lab result"
        assert row.evidence.on == TODAY
    assert rows["liver"].evidence.label == f"Lab result: ALT, AST, {TODAY.isoformat()}"
    assert rows["liver"].evidence.result_label == "Within the reference range"
    page = nurse_client.get(patient.get_absolute_url())
    assert "Lab result: ALT, AST" in page.content.decode()
    assert not set(page.context["missing_screening"]) & {screening.ITEM_LABELS[p] for p in PANELS}

    text = _screening_text(_safety(patient))
    assert not any(CHECK_NAMES[p] in text for p in PANELS), text
    assert CHECK_NAMES["tb"] in text  # what was not entered is still missing

    shown, _html = _schedule(client_as(derm), course)
    assert all(shown[p] == "done" for p in PANELS)
    assert shown["tb"] == "open"

    listed = _worklist(client_as(nurse))
    assert not any(("ONE-001", p) in listed for p in PANELS)
    assert ("ONE-001", "tb") in listed


def test_risk_profile_tb_negative_counts_everywhere(client_as, nurse, derm, course):
    patient = course.patient
    assert ("ONE-001", "tb") in _worklist(client_as(nurse))
    derm_client = client_as(derm)
    response = derm_client.post(
        reverse("patients:risk", args=[patient.public_id]),
        {"smoking_status": "never", "tb_status": "negative", "row_version": 1},
    )
    assert response.status_code == 302

    tb = _checklist(derm_client, patient)["tb"]
    assert tb.done
    assert tb.evidence.label == f"Risk profile: tuberculosis negative, {TODAY.isoformat()}"
    assert CHECK_NAMES["tb"] not in _screening_text(_safety(patient))
    shown, html = _schedule(derm_client, course)
    assert shown["tb"] == "done"
    assert "Risk profile: tuberculosis negative" in html
    assert ("ONE-001", "tb") not in _worklist(client_as(nurse))


def test_hepatitis_b_lab_results_count_and_a_positive_stays_a_finding(client_as, nurse, derm, course):
    patient = course.patient
    _enter(client_as(nurse), patient, "screening", {"hbsag": "negative"}, on=TODAY - dt.timedelta(days=2))
    rows = _checklist(client_as(nurse), patient)
    assert rows["hbsag"].evidence.label == f"Lab result: HBsAg negative, {(TODAY - dt.timedelta(days=2)).isoformat()}"
    assert not rows["hbcab"].done
    # one marker is not hepatitis B screening: still missing in the safety check, on the schedule and worklist
    assert CHECK_NAMES["hbv"] in _screening_text(_safety(patient))
    assert _schedule(client_as(derm), course)[0]["hbv"] == "open"
    assert ("ONE-001", "hbv") in _worklist(client_as(nurse))

    _enter(client_as(nurse), patient, "screening", {"anti_hbc": "positive"})
    findings = _safety(patient)
    assert CHECK_NAMES["hbv"] not in _screening_text(findings)
    assert "screening.hbv" in findings  # the positive core antibody is a finding, not just "done"
    assert _schedule(client_as(derm), course)[0]["hbv"] == "done"
    assert ("ONE-001", "hbv") not in _worklist(client_as(nurse))

    # a newer negative HBsAg does not hide the positive anti-HBc: each marker counts on its own
    _enter(client_as(nurse), patient, "screening", {"hbsag": "negative"}, on=TODAY)
    assert "screening.hbv" in _safety(patient)


def test_newer_negative_lab_replaces_an_older_positive_screening_record(client_as, nurse, derm, course):
    patient = course.patient
    response = client_as(nurse).post(
        reverse("patients:screening", args=[patient.public_id]),
        {"item": "hcv", "performed_on": (TODAY - dt.timedelta(days=30)).isoformat(), "result": "positive"},
    )
    assert response.status_code == 302
    assert "screening.hcv" in _safety(patient)
    _enter(client_as(nurse), patient, "screening", {"hcv_ab": "negative"})
    assert "screening.hcv" not in _safety(patient)
    row = _checklist(client_as(derm), patient)["hcv"]
    assert (row.evidence.source_label, row.evidence.result) == ("Lab result", "negative")
