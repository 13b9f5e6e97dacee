"""Monitoring pages: worklist, lab entry, CSV upload, symptom check, record done, alerts, trends, permissions."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring import lab_csv
from monitoring import selectors as sel
from monitoring.forms import ItemDoneForm, LabPanelForm, SymptomCheckForm
from monitoring.models import Alert, SymptomCheck
from patients.models import LabResult
from patients.services import screening_result_record
from tests.factories import TODAY, make_clinic, make_course, make_patient, make_scheduled_item, record_result
from tests.result_dates import RESULT_DATE_CASES, RESULT_DATE_IDS
from therapy.models import ScheduledItem, TreatmentCourse

WORKLIST = reverse("monitoring:worklist")
ALERTS = reverse("monitoring:alerts")
UPLOAD = reverse("monitoring:lab_upload")


def labs_url(patient, panel="cbc"):
    return reverse("monitoring:lab_entry", args=[patient.public_id]) + f"?panel={panel}"


@pytest.fixture
def on_abro(clinic, derm, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm, record_number="MON-001")
    return make_course(patient, derm)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


# --- Worklist -------------------------------------------------------------------------------------------------------


def test_worklist_groups_by_patient_most_overdue_first_then_risk(client_as, nurse, clinic, derm, catalogue):
    low = make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="LOW"), derm)
    high = make_course(
        make_patient(
            clinic=clinic,
            dermatologist=derm,
            record_number="HIGH",
            risk={"smoking_status": "current", "dvt_history": True},
        ),
        derm,
    )
    plain = make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="PLAIN"), derm)
    make_scheduled_item(low, due=TODAY + dt.timedelta(days=3))
    make_scheduled_item(low, due=TODAY)
    make_scheduled_item(low, due=TODAY - dt.timedelta(days=2))
    make_scheduled_item(high, due=TODAY - dt.timedelta(days=2))
    make_scheduled_item(plain, due=TODAY - dt.timedelta(days=2))
    make_scheduled_item(low, due=TODAY - dt.timedelta(days=10))
    page = client_as(nurse).get(WORKLIST).context["page"]
    assert [g["patient"].record_number for g in page.groups] == ["LOW", "HIGH", "PLAIN"]
    order = [(g["patient"].record_number, r["bucket"], r["days_overdue"]) for g in page.groups for r in g["rows"]]
    assert page.rows == [r for g in page.groups for r in g["rows"]]
    assert order == [
        ("LOW", "overdue", 10),
        ("LOW", "overdue", 2),
        ("LOW", "today", 0),
        ("LOW", "upcoming", 0),
        ("HIGH", "overdue", 2),
        ("PLAIN", "overdue", 2),
    ]


def test_worklist_shows_each_patients_risk_flags_with_the_badge_partial(client_as, nurse, clinic, derm, catalogue):
    course = make_course(make_patient(clinic=clinic, record_number="FLAG", risk={"smoking_status": "current"}), derm)
    make_scheduled_item(course)
    response = client_as(nurse).get(WORKLIST)
    assert [b.code for b in response.context["page"].groups[0]["badges"]] == ["SMOKER_ANY", "EU_LAST_RESORT"]
    assert "Risk: Current or past smoker" in response.content.decode()


def test_worklist_links_each_check_to_its_action(client_as, nurse, on_abro):
    for check in ("cbc", "infection_check", "efficacy_review", "hbv"):
        make_scheduled_item(on_abro, check_type=check)
    rows = {r["check_type"]: r["action_url"] for r in client_as(nurse).get(WORKLIST).context["page"].rows}
    assert rows["cbc"] == labs_url(on_abro.patient, "cbc")
    assert rows["hbv"] == labs_url(on_abro.patient, "screening")
    assert rows["infection_check"] == reverse("monitoring:symptom_check", args=[on_abro.patient.public_id])
    assert "/done/" in rows["efficacy_review"]


@pytest.mark.parametrize(("window", "count"), [("overdue", 1), ("today", 1), ("7", 2), ("30", 3), ("", 4)])
def test_worklist_due_windows(client_as, nurse, on_abro, window, count):
    for days in (-5, 0, 6, 25, 60):
        make_scheduled_item(on_abro, due=TODAY + dt.timedelta(days=days))
    rows = client_as(nurse).get(WORKLIST, {"window": window}).context["page"].rows
    assert len(rows) == count


def test_worklist_filters_by_drug_check_and_dermatologist(client_as, nurse, on_abro, clinic, derm):
    upa = make_course(make_patient(clinic=clinic), derm, "upadacitinib", "15")
    make_scheduled_item(on_abro)
    make_scheduled_item(upa, check_type="lipids")
    client = client_as(nurse)
    assert len(client.get(WORKLIST, {"drug": upa.drug_id}).context["page"].rows) == 1
    assert len(client.get(WORKLIST, {"check": "lipids"}).context["page"].rows) == 1
    assert len(client.get(WORKLIST, {"dermatologist": derm.pk}).context["page"].rows) == 1
    html = client.get(WORKLIST, {"dermatologist": derm.pk, "drug": upa.drug_id}).content.decode()
    assert f'<option value="{derm.pk}" selected>{derm}</option>' in html
    assert f'<option value="{upa.drug_id}" selected>{upa.drug}</option>' in html
    assert f'<option value="{on_abro.drug_id}">{on_abro.drug}</option>' in html


def test_worklist_paginates_by_patient_never_splitting_one(client_as, nurse, on_abro, clinic, derm):
    for i in range(30):
        make_scheduled_item(on_abro, due=TODAY - dt.timedelta(days=40 + i))  # the most overdue patient
    for i in range(sel.PATIENTS_PER_PAGE):
        make_scheduled_item(make_course(make_patient(clinic=clinic), derm), due=TODAY - dt.timedelta(days=i))
    client = client_as(nurse)
    first = client.get(WORKLIST).context["page"]
    assert len(first.groups) == sel.PATIENTS_PER_PAGE
    assert len(first.groups[0]["rows"]) == 30
    assert first.has_next
    second = client.get(WORKLIST, {"page": 2}).context["page"]
    assert len(second.groups) == 1
    assert not second.has_next


def test_worklist_pages_order_patients_sharing_a_due_date_by_risk_across_a_page_break(
    client_as, nurse, clinic, derm, catalogue, monkeypatch
):
    """Only the patients whose oldest due date one of the page's shares are read for their flags: a tie group
    that straddles the page break still gives every page its slice of the whole order."""
    monkeypatch.setattr(sel, "PATIENTS_PER_PAGE", 3)
    high = {"smoking_status": "current", "dvt_history": True}
    spec = [(9, None), (7, None), (7, high), (7, None), (7, high), (3, high), (3, None), (1, None)]
    for n, (days, risk) in enumerate(spec):
        patient = make_patient(clinic=clinic, dermatologist=derm, record_number=f"R{n}", risk=risk)
        course = make_course(patient, derm)
        make_scheduled_item(course, due=TODAY - dt.timedelta(days=days))
        make_scheduled_item(course, due=TODAY + dt.timedelta(days=2))  # a later check: same group, no effect
    client = client_as(nurse)
    pages = [client.get(WORKLIST, {"page": n}).context["page"] for n in (1, 2, 3)]
    shown = [[g["patient"].record_number for g in page.groups] for page in pages]
    assert shown == [["R0", "R2", "R4"], ["R1", "R3", "R5"], ["R6", "R7"]]
    assert [page.has_next for page in pages] == [True, True, False]
    assert [len(g["rows"]) for g in pages[1].groups] == [2, 2, 2]


def test_worklist_query_count_does_not_grow(client_as, nurse, clinic, derm, catalogue):
    client = client_as(nurse)

    def add(n):
        for _ in range(n):
            course = make_course(
                make_patient(clinic=clinic, dermatologist=derm, risk={"smoking_status": "current"}), derm
            )
            make_scheduled_item(course, due=TODAY - dt.timedelta(days=1))

    add(3)
    few = _queries(client, WORKLIST)
    add(27)
    assert _queries(client, WORKLIST) == few


def test_worklist_leaves_out_baseline_screening_the_record_satisfies(client_as, nurse, clinic, derm, catalogue):
    screened = make_course(make_patient(clinic=clinic, record_number="TB-NEG", risk={"tb_status": "negative"}), derm)
    unscreened = make_course(make_patient(clinic=clinic, record_number="TB-NONE"), derm)
    for course in (screened, unscreened):
        make_scheduled_item(course, check_type="tb", kind="baseline", due=TODAY - dt.timedelta(days=40))
        make_scheduled_item(course, check_type="hbv", kind="baseline", due=TODAY - dt.timedelta(days=40))
    screening_result_record(actor=nurse, patient=screened.patient, item="hbsag", performed_on=TODAY, result="negative")
    response = client_as(nurse).get(WORKLIST)
    groups = response.context["page"].groups
    listed = {(g["patient"].record_number, r["check_type"]) for g in groups for r in g["rows"]}
    # TB is done by the risk profile; hepatitis B still needs the core antibody
    assert listed == {("TB-NEG", "hbv"), ("TB-NONE", "tb"), ("TB-NONE", "hbv")}
    assert response.context["counts"]["overdue"] == 3
    assert sel.worklist_counts(nurse, TODAY)["overdue"] == 3


def test_worklist_sends_baseline_vaccinations_to_the_screening_record(client_as, nurse, on_abro):
    make_scheduled_item(on_abro, check_type="vaccines", kind="baseline")
    row = client_as(nurse).get(WORKLIST).context["page"].rows[0]
    assert row["action_url"] == reverse("patients:screening", args=[on_abro.patient.public_id]) + "?item=vaccinations"


def test_worklist_query_count_does_not_grow_with_baseline_screening(client_as, nurse, clinic, derm, catalogue):
    client = client_as(nurse)

    def add(n):
        for i in range(n):
            risk = {"tb_status": "negative"} if i % 2 else {}
            course = make_course(make_patient(clinic=clinic, dermatologist=derm, risk=risk), derm)
            make_scheduled_item(course, check_type="tb", kind="baseline", due=TODAY - dt.timedelta(days=1))
            record_result(nurse, course.patient, "platelets", "250", on=TODAY - dt.timedelta(days=60))

    add(3)
    few = _queries(client, WORKLIST)
    add(27)
    assert _queries(client, WORKLIST) == few


def test_worklist_shows_only_own_clinic(client_as, nurse, derm, catalogue):
    other = make_clinic("Elsewhere")
    make_scheduled_item(make_course(make_patient(clinic=other), derm))
    assert client_as(nurse).get(WORKLIST).context["page"].rows == []


def test_home_shows_worklist_counts_and_urgent_alerts(client_as, nurse, derm, on_abro):
    make_scheduled_item(on_abro, due=TODAY - dt.timedelta(days=3))
    make_scheduled_item(on_abro, check_type="lipids")
    record_result(nurse, on_abro.patient, "platelets", "45")  # completes the overdue cbc, raises an urgent alert
    make_scheduled_item(on_abro, due=TODAY - dt.timedelta(days=1))
    page = client_as(nurse).get("/").content.decode()
    assert "Overdue checks" in page
    assert "Checks due today" in page
    page = client_as(derm).get("/").content.decode()
    assert "URGENT · MON-001" in page


# --- Lab entry ------------------------------------------------------------------------------------------------------


def test_nurse_goes_from_worklist_to_a_saved_blood_count(client_as, nurse, on_abro):
    item = make_scheduled_item(on_abro, due=TODAY - dt.timedelta(days=2))
    client = client_as(nurse)
    url = client.get(WORKLIST).context["page"].rows[0]["action_url"]
    form_page = client.get(url)
    assert form_page.status_code == 200
    assert {"v_wbc", "v_anc", "v_alc", "v_hb", "v_platelets"} <= set(form_page.context["form"].fields)
    data = {
        "collected_on": TODAY.isoformat(),
        "panel": "cbc",
        "v_wbc": "6.1",
        "u_wbc": "10*3/uL",
        "v_anc": "3.2",
        "u_anc": "10*3/uL",
        "v_alc": "1.8",
        "u_alc": "10*3/uL",
        "v_hb": "13.5",
        "u_hb": "g/dL",
        "v_platelets": "240",
        "u_platelets": "10*3/uL",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert LabResult.objects.filter(patient=on_abro.patient).count() == 5
    item.refresh_from_db()
    assert item.status == "done"
    assert item.completed_by == nurse


@pytest.mark.parametrize(("value", "unit"), [("45000", "/mm3"), ("45", "10*3/uL")])
def test_platelets_45000_urgent_alert_acknowledged_and_course_stopped(client_as, nurse, derm, on_abro, value, unit):
    later = make_scheduled_item(on_abro, due=TODAY + dt.timedelta(days=20))
    data = {"collected_on": TODAY.isoformat(), "v_platelets": value, "u_platelets": unit}
    assert client_as(nurse).post(labs_url(on_abro.patient), data).status_code == 302
    result = LabResult.objects.get(patient=on_abro.patient)
    assert result.value == Decimal("45")
    alert = Alert.objects.get(lab_result=result)
    assert alert.severity == Alert.Severity.URGENT
    assert alert.recipient == derm
    assert "Discontinue" in alert.title

    client = client_as(derm)
    inbox = client.get(ALERTS)
    assert alert.pk in [a.pk for a in inbox.context["page"].rows]
    assert "Urgent" in inbox.content.decode()
    detail = client.get(alert.get_absolute_url())
    assert "stop" in detail.context["act_forms"]
    act = reverse("monitoring:alert_act", args=[alert.public_id, "stop"])
    response = client.post(
        act,
        {
            "stop-on": TODAY.isoformat(),
            "stop-reason": "lab_action_level",
            "stop-note": "",
            "stop-row_version": on_abro.row_version,
            "stop-comment": "Platelets 45: stopped; CBC weekly until >100",
        },
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    on_abro.refresh_from_db()
    later.refresh_from_db()
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by == derm
    assert on_abro.status == TreatmentCourse.Status.STOPPED
    assert later.status == ScheduledItem.Status.CANCELLED


def test_haemoglobin_130_g_per_l_is_stored_as_13_g_per_dl(client_as, nurse, on_abro):
    data = {"collected_on": TODAY.isoformat(), "v_hb": "130", "u_hb": "g/L"}
    client_as(nurse).post(labs_url(on_abro.patient), data)
    result = LabResult.objects.get()
    assert result.value == Decimal("13.0")
    assert (result.entered_value, result.entered_unit) == ("130", "g/L")


def test_implausible_platelets_refused_with_the_limit_in_the_typed_unit(client_as, nurse, on_abro):
    data = {"collected_on": TODAY.isoformat(), "v_platelets": "5000000", "u_platelets": "/mm3"}
    response = client_as(nurse).post(labs_url(on_abro.patient), data)
    assert response.status_code == 200
    errors = response.context["form"].errors["v_platelets"]
    assert "2000000 cells/mm³" in errors[0]
    assert 'value="5000000"' in response.content.decode()
    assert not LabResult.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "__all__", "at least one"),
        ({"v_hb": "abc", "u_hb": "g/dL"}, "v_hb", "not a number"),
        ({"v_hb": "13", "u_hb": "mg/dL"}, "u_hb", "Select a valid choice"),
    ],
)
def test_lab_entry_bad_input(client_as, nurse, on_abro, data, field, message):
    response = client_as(nurse).post(labs_url(on_abro.patient), {"collected_on": TODAY.isoformat(), **data})
    assert message in " ".join(response.context["form"].errors[field])
    assert not LabResult.objects.exists()


def test_future_collection_date_refused(client_as, nurse, on_abro):
    tomorrow = (TODAY + dt.timedelta(days=1)).isoformat()
    response = client_as(nurse).post(
        labs_url(on_abro.patient), {"collected_on": tomorrow, "v_hb": "13", "u_hb": "g/dL"}
    )
    assert "future" in response.context["form"].errors["collected_on"][0]


def test_screening_panel_takes_coded_values(client_as, nurse, on_abro):
    data = {"collected_on": TODAY.isoformat(), "v_tb_igra": "negative", "v_hbsag": "positive"}
    assert client_as(nurse).post(labs_url(on_abro.patient, "screening"), data).status_code == 302
    assert set(LabResult.objects.values_list("coded_value", flat=True)) == {"negative", "positive"}


def test_lab_entry_for_another_clinic_is_404(client_as, nurse, derm, catalogue):
    patient = make_patient(clinic=make_clinic("Elsewhere"))
    assert client_as(nurse).get(labs_url(patient)).status_code == 404


@pytest.mark.parametrize(("date_of_birth", "collected_on", "message"), RESULT_DATE_CASES, ids=RESULT_DATE_IDS)
def test_lab_form_collection_dates(client_as, nurse, clinic, derm, catalogue, date_of_birth, collected_on, message):
    patient = make_patient(clinic=clinic, dermatologist=derm, date_of_birth=date_of_birth)
    data = {"collected_on": collected_on.isoformat(), "v_hb": "13", "u_hb": "g/dL"}
    response = client_as(nurse).post(labs_url(patient), data)
    if message is None:
        assert response.status_code == 302
        assert LabResult.objects.get().collected_on == collected_on
    else:
        assert response.context["form"].errors["collected_on"] == [message]
        assert not LabResult.objects.exists()


@pytest.mark.parametrize(
    ("form_class", "field", "extra"),
    [
        (LabPanelForm, "collected_on", {"v_hb": "13", "u_hb": "g/dL"}),
        (SymptomCheckForm, "checked_on", {"none_reported": "on"}),
        (ItemDoneForm, "done_on", {}),
    ],
    ids=["lab-panel", "symptom-check", "item-done"],
)
@pytest.mark.parametrize(("date_of_birth", "on", "message"), RESULT_DATE_CASES, ids=RESULT_DATE_IDS)
def test_every_patient_date_field_has_the_same_rule(
    clinic, derm, catalogue, form_class, field, extra, date_of_birth, on, message
):
    patient = make_patient(clinic=clinic, dermatologist=derm, date_of_birth=date_of_birth)
    kwargs = {"tests": sel.panel_tests("cbc")} if form_class is LabPanelForm else {}
    form = form_class({field: on.isoformat(), **extra}, patient=patient, **kwargs)
    assert form.fields[field].initial == TODAY
    assert form.errors.get(field) == ([message] if message else None)


# --- CSV ------------------------------------------------------------------------------------------------------------


def _csv(lines):
    body = "record_number,loinc,value,unit,collected_on\n" + "\n".join(lines) + "\n"
    return SimpleUploadedFile("results.csv", body.encode(), content_type="text/csv")


def test_csv_with_one_bad_row_imports_nothing_until_fixed(client_as, nurse, on_abro):
    good = [f"MON-001,777-3,45000,/mm3,{TODAY}", f"MON-001,718-7,130,g/L,{TODAY}"]
    client = client_as(nurse)
    response = client.post(UPLOAD, {"file": _csv([*good, f"NOPE-9,777-3,200,,{TODAY}"])})
    report = response.context["report"]
    assert [(e.row, e.column) for e in report] == [(4, "record_number")]
    assert not LabResult.objects.exists()
    response = client.post(UPLOAD, {"file": _csv(good)})
    assert response.status_code == 302
    assert LabResult.objects.count() == 2
    assert Alert.objects.filter(severity=Alert.Severity.URGENT).count() == 1


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("MON-001,0000-0,1,,{d}", "loinc", "Unknown LOINC"),
        ("MON-001,777-3,45,g/L,{d}", "unit", "Unit not accepted"),
        ("MON-001,777-3,5000000,/mm3,{d}", "value", "not a plausible"),
        ("MON-001,777-3,45,,02/03/2026", "collected_on", "YYYY-MM-DD"),
        ("MON-001,777-3,45,,{future}", "collected_on", "future"),
        ("MON-001,71773-6,maybe,,{d}", "value", "positive, negative"),
    ],
)
def test_csv_row_problems_are_reported(client_as, nurse, on_abro, line, column, message):
    line = line.format(d=TODAY, future=TODAY + dt.timedelta(days=3))
    report = client_as(nurse).post(UPLOAD, {"file": _csv([line])}).context["report"]
    assert report[0].column == column
    assert message in report[0].message
    assert not LabResult.objects.exists()


@pytest.mark.parametrize("unit", ["/mm3", "cells/mm³", ""])
def test_csv_unit_is_the_code_the_label_or_empty_for_canonical(client_as, nurse, on_abro, unit):
    value = "45" if unit == "" else "45000"
    response = client_as(nurse).post(UPLOAD, {"file": _csv([f"MON-001,777-3,{value},{unit},{TODAY}"])})
    assert response.status_code == 302
    assert LabResult.objects.get().value == 45


@pytest.mark.parametrize(("date_of_birth", "collected_on", "message"), RESULT_DATE_CASES, ids=RESULT_DATE_IDS)
def test_csv_collection_dates_as_the_lab_form(
    client_as, nurse, clinic, derm, catalogue, date_of_birth, collected_on, message
):
    make_patient(clinic=clinic, dermatologist=derm, record_number="DATE-1", date_of_birth=date_of_birth)
    response = client_as(nurse).post(UPLOAD, {"file": _csv([f"DATE-1,718-7,13,g/dL,{collected_on}"])})
    if message is None:
        assert response.status_code == 302
        assert LabResult.objects.get().collected_on == collected_on
    else:
        assert [(e.column, e.message) for e in response.context["report"]] == [("collected_on", message)]
        assert not LabResult.objects.exists()


def test_csv_duplicate_rows_refused(client_as, nurse, on_abro):
    line = f"MON-001,777-3,45,,{TODAY}"
    report = client_as(nurse).post(UPLOAD, {"file": _csv([line, line])}).context["report"]
    assert report[0].row == 3
    assert "Duplicate of row 2" in report[0].message


def test_csv_row_cap(client_as, nurse, on_abro, monkeypatch):

    monkeypatch.setattr(lab_csv, "MAX_ROWS", 2)
    lines = [f"MON-001,777-3,{v},,{TODAY}" for v in (40, 41, 42)]
    response = client_as(nurse).post(UPLOAD, {"file": _csv(lines)})
    assert "at most 2" in response.context["form"].errors["file"][0]


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 3 * 1024 * 1024])
def test_csv_size_cap(client_as, nurse, on_abro, size):
    big = SimpleUploadedFile("big.csv", b"x" * size, content_type="text/csv")
    response = client_as(nurse).post(UPLOAD, {"file": big})
    assert response.context["form"].errors["file"] == [lab_csv.TOO_LARGE]
    assert "1 MB" in lab_csv.TOO_LARGE


def test_csv_of_exactly_the_size_limit_is_read(client_as, nurse, on_abro):
    line = f"MON-001,718-7,13,g/dL,{TODAY}\n".encode()
    header = b"record_number,loinc,value,unit,collected_on\n"
    body = header + line + b"\n" * (lab_csv.MAX_BYTES - len(header) - len(line))  # blank lines are skipped
    assert len(body) == lab_csv.MAX_BYTES
    response = client_as(nurse).post(UPLOAD, {"file": SimpleUploadedFile("edge.csv", body, content_type="text/csv")})
    assert response.status_code == 302
    assert LabResult.objects.count() == 1


# --- Symptom check, record done ------------------------------------------------------------------------------------


def test_symptom_check_form_shortness_of_breath_is_urgent(client_as, nurse, derm, on_abro):
    url = reverse("monitoring:symptom_check", args=[on_abro.patient.public_id])
    page = client_as(nurse).get(url).content.decode()
    assert page.count('value="shortness_of_breath"') == 2
    response = client_as(nurse).post(url, {"checked_on": TODAY.isoformat(), "symptoms": ["shortness_of_breath"]})
    assert response.status_code == 302
    alert = Alert.objects.get(symptom_check__patient=on_abro.patient)
    assert alert.severity == Alert.Severity.URGENT
    assert "emergency" in alert.advice


def test_symptom_check_form_needs_a_choice(client_as, nurse, on_abro):
    url = reverse("monitoring:symptom_check", args=[on_abro.patient.public_id])
    response = client_as(nurse).post(url, {"checked_on": TODAY.isoformat(), "note": "kept"})
    assert "none of these" in response.context["form"].errors["symptoms"][0]
    assert "kept" in response.content.decode()
    assert not SymptomCheck.objects.exists()


def test_record_done(client_as, nurse, on_abro):
    item = make_scheduled_item(on_abro, check_type="efficacy_review")
    url = reverse("monitoring:item_done", args=[item.public_id])
    assert client_as(nurse).post(url, {"done_on": TODAY.isoformat(), "note": "EASI 4"}).status_code == 302
    item.refresh_from_db()
    assert (item.status, item.completion_note) == ("done", "EASI 4")


# --- Alerts ---------------------------------------------------------------------------------------------------------


def test_acknowledge_without_comment_keeps_the_alert_open(client_as, nurse, derm, on_abro):
    alert = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "anc", "0.9"))
    url = reverse("monitoring:alert_ack", args=[alert.public_id])
    response = client_as(derm).post(url, {"comment": ""})
    assert response.status_code == 200
    assert "Write a comment" in response.context["ack_form"].errors["comment"][0]
    alert.refresh_from_db()
    assert alert.status == "open"
    assert client_as(derm).post(url, {"comment": "Interrupting; repeat CBC in a week"}).status_code == 302
    alert.refresh_from_db()
    assert alert.status == "acknowledged"


def test_inbox_order_and_clinic_toggle(client_as, nurse, derm, clinic, on_abro):
    from portal import roles
    from tests.factories import make_user

    colleague = make_user(role=roles.DERMATOLOGIST, clinic=clinic)
    other = make_course(make_patient(clinic=clinic, dermatologist=colleague), colleague)
    same_day = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "anc", "0.9"))
    urgent = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "platelets", "45"))
    theirs = Alert.objects.get(lab_result=record_result(nurse, other.patient, "platelets", "40"))
    client = client_as(derm)
    assert [a.pk for a in client.get(ALERTS).context["page"].rows] == [urgent.pk, same_day.pk]
    shown = client.get(ALERTS, {"scope": "clinic"}).context["page"].rows
    assert [a.pk for a in shown] == [urgent.pk, theirs.pk, same_day.pk]


def test_inbox_query_count_does_not_grow(client_as, nurse, derm, clinic, catalogue):
    client = client_as(derm)

    def add(n):
        for _ in range(n):
            course = make_course(make_patient(clinic=clinic, dermatologist=derm), derm)
            record_result(nurse, course.patient, "platelets", "45")

    add(3)
    few = _queries(client, ALERTS)
    add(27)
    assert _queries(client, ALERTS) == few


def test_alert_of_another_clinic_is_404(client_as, nurse, derm, catalogue):
    from portal import roles
    from tests.factories import make_user

    elsewhere = make_clinic("Elsewhere")
    their_derm = make_user(role=roles.DERMATOLOGIST, clinic=elsewhere)
    course = make_course(make_patient(clinic=elsewhere), their_derm)
    alert = Alert.objects.get(lab_result=record_result(their_derm, course.patient, "platelets", "45"))
    assert client_as(derm).get(alert.get_absolute_url()).status_code == 404


# --- Permissions ----------------------------------------------------------------------------------------------------


def test_nurse_reads_the_clinic_alerts_but_cannot_acknowledge_or_act(client_as, nurse, derm, on_abro):
    alert = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "platelets", "45"))
    client = client_as(nurse)
    inbox = client.get(ALERTS)
    assert inbox.context["scope"] == "clinic"  # "mine" is the prescriber's list
    assert [a.pk for a in inbox.context["page"].rows] == [alert.pk]
    assert "Courses you prescribe" not in inbox.content.decode()
    detail = client.get(alert.get_absolute_url())
    assert detail.status_code == 200
    page = detail.content.decode()
    assert f'Sent to</dt><dd class="col-sm-9">{derm}' in page
    assert "Open: not acknowledged yet" in page
    assert detail.context["act_forms"] == {}
    assert not detail.context["can_ack"]
    assert 'name="comment"' not in page
    ack = reverse("monitoring:alert_ack", args=[alert.public_id])
    act = reverse("monitoring:alert_act", args=[alert.public_id, "stop"])
    assert client.post(ack, {"comment": "seen"}).status_code == 403
    assert client.post(act, {"stop-comment": "stop"}).status_code == 403
    alert.refresh_from_db()
    assert alert.status == "open"


def test_catalogue_admin_gets_403_on_all_monitoring_pages(client_as, catalogue_admin, on_abro):
    item = make_scheduled_item(on_abro, check_type="efficacy_review")
    client = client_as(catalogue_admin)
    urls = [
        WORKLIST,
        ALERTS,
        UPLOAD,
        labs_url(on_abro.patient),
        reverse("monitoring:symptom_check", args=[on_abro.patient.public_id]),
        reverse("monitoring:item_done", args=[item.public_id]),
    ]
    assert [client.get(u).status_code for u in urls] == [403] * len(urls)


def test_nav_shows_worklist_to_nurse_and_alerts_to_both(client_as, nurse, derm):
    assert "Worklist" in client_as(nurse).get("/").content.decode()
    assert ">Alerts<" in client_as(nurse).get("/").content.decode()  # read only: their clinic's alerts
    assert ">Alerts<" in client_as(derm).get("/").content.decode()


# --- Trends ---------------------------------------------------------------------------------------------------------


def test_patient_page_draws_trends_with_action_levels_and_events(client_as, nurse, derm, on_abro):
    from therapy.models import CourseEvent

    CourseEvent.objects.create(course=on_abro, kind="start", on=on_abro.start_date, created_by=derm)
    record_result(nurse, on_abro.patient, "platelets", "220", on=TODAY - dt.timedelta(days=30))
    record_result(nurse, on_abro.patient, "platelets", "45")
    page = client_as(derm).get(on_abro.patient.get_absolute_url()).content.decode()
    assert "<svg" in page
    assert "<title" in page
    assert "<desc" in page
    assert "Discontinue" in page
    assert "level-discontinue" in page
    assert 'class="event event-start"' in page
    assert "Values as a table" in page
    svg = page[page.index("<svg") : page.rindex("</svg>")]
    assert "style=" not in svg
    assert "<script" not in svg
    assert not re.search(r"<script(?![^>]*src=)", page)


def test_trend_shows_the_latest_results_per_test_and_says_how_many_exist(client_as, nurse, derm, on_abro):
    from monitoring.selectors import TREND_POINTS_PER_TEST, patient_monitoring

    extra = 5
    for day in range(TREND_POINTS_PER_TEST + extra):
        record_result(nurse, on_abro.patient, "platelets", str(200 + day), on=TODAY - dt.timedelta(days=day))
    record_result(nurse, on_abro.patient, "hb", "13.5")
    charts_by_id = {c["id"]: c for c in patient_monitoring(on_abro.patient)["lab_charts"]}
    platelets = charts_by_id["trend-platelets"]
    assert len(platelets["rows"]) == TREND_POINTS_PER_TEST
    assert platelets["rows"][0]["on"] == TODAY  # newest first in the table; the oldest five are left out
    assert platelets["rows"][-1]["on"] == TODAY - dt.timedelta(days=TREND_POINTS_PER_TEST - 1)
    assert platelets["shown"] == f"the latest {TREND_POINTS_PER_TEST} of {TREND_POINTS_PER_TEST + extra} results"
    assert "trend-hb" not in charts_by_id  # one result: a line of text, not a chart
    page = client_as(derm).get(on_abro.patient.get_absolute_url()).content.decode()
    assert f"the latest {TREND_POINTS_PER_TEST} of {TREND_POINTS_PER_TEST + extra} results" in page


def test_trend_results_are_the_orm_query_s_rows(nurse, on_abro):
    """The panel's results query runs as SQL built once (PostgreSQL) or through the ORM: the same rows, types and
    order either way, the latest TREND_POINTS_PER_TEST a test with how many there are in all."""
    from monitoring.selectors import TREND_POINTS_PER_TEST, _trend_results, _trend_results_query, _trend_results_sql

    for day in range(TREND_POINTS_PER_TEST + 2):
        record_result(nurse, on_abro.patient, "platelets", str(200 + day), on=TODAY - dt.timedelta(days=day))
    record_result(nurse, on_abro.patient, "hb", "13.5")
    rows = _trend_results(on_abro.patient)
    assert [tuple(r) for r in rows] == list(_trend_results_query(on_abro.patient.pk))
    assert len(rows) == TREND_POINTS_PER_TEST + 1
    platelets = [r for r in rows if r[2] != Decimal("13.5")]
    oldest, newest = platelets[0], platelets[-1]
    assert (oldest[1], oldest[2], newest[1], newest[2]) == (
        TODAY - dt.timedelta(days=TREND_POINTS_PER_TEST - 1),
        Decimal(200 + TREND_POINTS_PER_TEST - 1),
        TODAY,
        Decimal(200),
    )
    assert {r[7] for r in platelets} == {TREND_POINTS_PER_TEST + 2}
    assert isinstance(oldest[1], dt.date)
    assert isinstance(oldest[2], Decimal)
    assert "ROW_NUMBER" in _trend_results_sql("default")


def test_alert_and_saved_results_show_units_as_clinicians_write_them(client_as, nurse, derm, on_abro):
    from drugs.models import LabTest
    from monitoring import services as svc

    test = LabTest.objects.get(analyte="platelets")
    row = svc.ResultRow(
        patient=on_abro.patient,
        lab_test=test,
        collected_on=TODAY,
        value=Decimal("45"),
        coded_value="",
        entered_value="45000",
        entered_unit="/mm3",
    )
    result = svc.lab_results_record(actor=nurse, rows=[row]).results[0]
    alert = Alert.objects.get(lab_result=result)
    page = client_as(derm).get(alert.get_absolute_url()).content.decode()
    assert "Platelets 45 ×10³/µL (entered as 45000 cells/mm³)" in page
    saved = client_as(nurse).get(reverse("monitoring:lab_saved", args=[on_abro.patient.public_id]))
    assert "45 ×10³/µL" in saved.content.decode()
    assert "10*3/uL" not in saved.content.decode()


def test_patient_history_reads_lab_entries_plainly(client_as, nurse, derm, on_abro):
    record_result(nurse, on_abro.patient, "platelets", "45")
    page = client_as(derm).get(on_abro.patient.get_absolute_url()).content.decode()
    assert "Tests: Platelets; Alerts: 1" in page


def test_a_result_taken_before_the_first_dose_raises_no_on_treatment_alert(nurse, on_abro):
    before_start = on_abro.start_date - dt.timedelta(days=3)
    result = record_result(nurse, on_abro.patient, "platelets", "45", on=before_start)
    assert not Alert.objects.filter(lab_result=result).exists()
    assert result.action == ""
    assert result.flag == "low"  # still flagged against the reference range


def test_lab_panel_sent_twice_saves_once_and_alerts_once(client_as, nurse, on_abro):
    client = client_as(nurse)
    url = labs_url(on_abro.patient)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', client.get(url).content.decode()).group(1)
    post = {"collected_on": TODAY.isoformat(), "v_platelets": "45000", "u_platelets": "/mm3", "idempotency_key": key}
    first = client.post(url, post)
    second = client.post(url, post)
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert LabResult.objects.filter(patient=on_abro.patient, lab_test__analyte="platelets").count() == 1
    assert Alert.objects.filter(patient=on_abro.patient).count() == 1


def test_symptom_check_sent_twice_is_recorded_once(client_as, nurse, on_abro):
    client = client_as(nurse)
    url = reverse("monitoring:symptom_check", args=[on_abro.patient.public_id])
    key = re.search(r'name="idempotency_key" value="([^"]+)"', client.get(url).content.decode()).group(1)
    post = {"checked_on": TODAY.isoformat(), "symptoms": ["chest_pain"], "idempotency_key": key}
    assert client.post(url, post).status_code == 302
    assert client.post(url, post).status_code == 302
    assert SymptomCheck.objects.filter(patient=on_abro.patient).count() == 1


@pytest.mark.parametrize("query", [{"page": "99999999999999999999"}, {"dermatologist": "99999999999999999999"},
                                   {"page": "9223372036854775807"}, {"drug": "-5"}])  # fmt: skip
def test_absurd_query_numbers_are_ignored_not_a_500(query, client_as, derm, on_abro):
    client = client_as(derm)
    assert client.get(WORKLIST, query).status_code == 200
    assert client.get(ALERTS, query).status_code == 200


def test_monitoring_pages_that_show_a_patient_are_audited(client_as, nurse, derm, on_abro):
    from portal.models import AuditEvent

    alert = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "platelets", "45"))
    views = AuditEvent.objects.filter(action="view", object_id=str(on_abro.patient.pk))
    before = views.count()
    client_as(derm).get(alert.get_absolute_url())
    client_as(nurse).get(labs_url(on_abro.patient))
    client_as(nurse).get(reverse("monitoring:lab_saved", args=[on_abro.patient.public_id]))
    assert views.count() == before + 3


def test_alert_of_a_prescriber_who_left_reaches_the_clinics_dermatologists(client_as, nurse, derm, clinic, on_abro):
    from portal import roles
    from tests.factories import make_user

    on_abro.prescriber.is_active = False
    on_abro.prescriber.save()
    on_abro.patient.dermatologist = None
    on_abro.patient.save()
    alert = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "platelets", "45"))
    assert alert.recipient is None  # not to the inactive account
    colleague = make_user(role=roles.DERMATOLOGIST, clinic=clinic)
    home = client_as(colleague).get("/").content.decode()
    assert "no active dermatologist on this patient" in home
    assert alert.get_absolute_url() in home


def test_patient_page_lists_open_alerts_before_acknowledged_ones(client_as, derm, on_abro):
    """The panel shows ten alerts: an open one must not be pushed off by older acknowledged ones."""
    patient = on_abro.patient

    def alert(title, status, severity=Alert.Severity.ROUTINE):
        return Alert.objects.create(
            patient=patient,
            course=on_abro,
            recipient=derm,
            kind=Alert.Kind.LAB_ACTION,
            severity=severity,
            title=title,
            reason="test",
            advice="test",
            status=status,
            acknowledged_at=None if status == Alert.Status.OPEN else timezone.now(),
            acknowledged_by=None if status == Alert.Status.OPEN else derm,
        )

    alert("Open same-day", Alert.Status.OPEN, Alert.Severity.SAME_DAY)
    for n in range(12):
        alert(f"Old acknowledged {n}", Alert.Status.ACKNOWLEDGED, Alert.Severity.URGENT)
    alert("Open urgent", Alert.Status.OPEN, Alert.Severity.URGENT)
    shown = [a.title for a in sel.patient_monitoring(patient)["patient_alerts"]]
    assert shown[:2] == ["Open urgent", "Open same-day"]
    assert len(shown) == 10
