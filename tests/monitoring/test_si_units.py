"""SI units end to end: entry with decimal commas, the CSV path, the clinic's display setting, charts and alerts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from monitoring.models import Alert
from patients.models import LabResult
from portal.models import AuditEvent, Clinic
from tests.factories import TODAY, make_course, make_patient, make_user, record_result

SETTINGS = reverse("portal:clinic_settings")
UPLOAD = reverse("monitoring:lab_upload")


@pytest.fixture
def course(clinic, derm, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm, record_number="SI-001")
    return make_course(patient, derm)


def si(clinic):
    Clinic.objects.filter(pk=clinic.pk).update(unit_system="SI")


def labs_url(patient, panel):
    return reverse("monitoring:lab_entry", args=[patient.public_id]) + f"?panel={panel}"


def enter(client, patient, panel, values: dict, on=TODAY):
    data = {"collected_on": on.isoformat()}
    for analyte, (value, unit) in values.items():
        data[f"v_{analyte}"], data[f"u_{analyte}"] = value, unit
    return client.post(labs_url(patient, panel), data)


def test_a_uk_print_out_is_entered_as_printed_and_stored_exactly(client_as, nurse, course):
    response = enter(
        client_as(nurse),
        course.patient,
        "lipids",
        {"total_cholesterol": ("5,2", "mmol/L"), "triglycerides": ("1,7", "mmol/L"), "ldl": ("3.4", "mmol/L")},
        on=TODAY - dt.timedelta(days=1),
    )
    assert response.status_code == 302
    stored = {r.lab_test.analyte: r for r in LabResult.objects.select_related("lab_test")}
    assert stored["total_cholesterol"].value == Decimal("201.084")
    assert stored["triglycerides"].value == Decimal("150.569")
    assert stored["ldl"].value == Decimal("131.478")
    assert (stored["total_cholesterol"].entered_value, stored["total_cholesterol"].entered_unit) == ("5,2", "mmol/L")


def test_creatinine_in_micromoles_and_hb_in_mmol(client_as, nurse, course):
    assert enter(client_as(nurse), course.patient, "kidney", {"creatinine": ("80", "umol/L")}).status_code == 302
    assert enter(client_as(nurse), course.patient, "cbc", {"hb": ("8,4", "mmol/L")}).status_code == 302
    values = dict(LabResult.objects.values_list("lab_test__analyte", "value"))
    assert values["creatinine"] == Decimal("0.9048")
    assert values["hb"] == Decimal("13.5324")


def test_an_ambiguous_comma_is_refused_next_to_the_field_and_kept(client_as, nurse, course):
    response = enter(client_as(nurse), course.patient, "cbc", {"platelets": ("150,000", "/mm3")})
    assert response.status_code == 200
    form = response.context["form"]
    assert "could be 150000 or 150.000" in " ".join(form.errors["v_platelets"])
    assert form["v_platelets"].value() == "150,000"
    assert not LabResult.objects.exists()


def test_the_lab_form_offers_the_clinics_units_first(client_as, nurse, clinic, course):
    form = client_as(nurse).get(labs_url(course.patient, "kidney")).context["form"]
    assert form["u_creatinine"].initial == "mg/dL"
    si(clinic)
    form = client_as(make_user(role="Nurse", clinic=clinic)).get(labs_url(course.patient, "kidney")).context["form"]
    assert form["u_creatinine"].initial == "umol/L"
    assert "µmol/L" in form.fields["v_creatinine"].help_text


def test_results_and_charts_show_in_the_clinics_unit_system(client_as, nurse, derm, clinic, course):
    enter(client_as(nurse), course.patient, "kidney", {"creatinine": ("80", "umol/L")})
    enter(client_as(nurse), course.patient, "cbc", {"hb": ("13.5", "g/dL")})
    saved = client_as(nurse).get(reverse("monitoring:lab_saved", args=[course.patient.public_id])).content.decode()
    assert "0.9 mg/dL" in saved  # US clinic: 0.9048 shown with the 2 places set for mg/dL
    si(clinic)
    nurse_si = make_user(role="Nurse", clinic=clinic)
    saved = client_as(nurse_si).get(reverse("monitoring:lab_saved", args=[course.patient.public_id])).content.decode()
    assert "80 µmol/L" in saved  # exactly as typed
    assert "135 g/L" in saved
    derm_si = make_user(role="Dermatologist", clinic=clinic)
    page = client_as(derm_si).get(course.patient.get_absolute_url())
    single = {r["title"]: r["value"] for r in page.context["single_results"]}  # one value each: no chart
    assert single == {"Hb": "135 g/L", "Creatinine": "80 µmol/L"}
    enter(client_as(nurse), course.patient, "kidney", {"creatinine": ("1", "mg/dL")}, on=TODAY - dt.timedelta(days=7))
    enter(client_as(nurse), course.patient, "cbc", {"hb": ("7,5", "mmol/L")}, on=TODAY - dt.timedelta(days=7))
    page = client_as(derm_si).get(course.patient.get_absolute_url())
    charts = {c["id"]: c for c in page.context["lab_charts"]}
    assert charts["trend-creatinine"]["unit"] == "µmol/L"
    assert [r["value"] for r in charts["trend-creatinine"]["rows"]] == ["80", "88"]  # 1 mg/dL = 88.42 µmol/L
    assert charts["trend-hb"]["title"] == "Hb (g/L)"
    assert charts["trend-hb"]["rows"][0]["value"] == "135"
    assert "80 g/L (8 g/dL)" in charts["trend-hb"]["desc"]


def test_an_alert_in_an_si_clinic_gives_si_values_with_the_labels_limit(client_as, clinic, nurse, derm, course):
    si(clinic)
    enter(client_as(nurse), course.patient, "cbc", {"hb": ("4,5", "mmol/L")})  # 7.2495 g/dL: below 8 g/dL
    alert = Alert.objects.get()
    assert "Hb" in alert.title or "haemoglobin" in alert.title.lower() or "hemoglobin" in alert.title.lower()
    assert "72 g/L" in alert.reason
    assert "80 g/L (8 g/dL)" in alert.reason
    detail = client_as(derm).get(reverse("monitoring:alert", args=[alert.public_id])).content.decode()
    assert "72 g/L" in detail
    assert "entered as 4,5 mmol/L" in detail


def _csv(text: str):
    return SimpleUploadedFile("uk.csv", text.encode(), content_type="text/csv")


def test_an_eu_csv_with_semicolons_decimal_commas_and_lab_spellings(client_as, nurse, course):
    d = TODAY.isoformat()
    body = (
        "record_number;loinc;value;unit;collected_on\n"
        f"SI-001;2160-0;88,42;umol/l;{d}\n"
        f"SI-001;718-7;135;g/l;{d}\n"
        f"SI-001;777-3;250;x10^9/L;{d}\n"
        f"SI-001;2571-8;1,7;mmol/l;{d}\n"
    )
    response = client_as(nurse).post(UPLOAD, {"file": _csv(body)})
    assert response.status_code == 302, response.context["report"]
    values = dict(LabResult.objects.values_list("lab_test__analyte", "value"))
    assert values == {
        "creatinine": Decimal("1"),
        "hb": Decimal("13.5"),
        "platelets": Decimal("250"),
        "triglycerides": Decimal("150.569"),
    }


def test_a_uk_csv_with_commas_and_si_units(client_as, nurse, course):
    d = TODAY.isoformat()
    body = f"record_number,loinc,value,unit,collected_on\nSI-001,2160-0,177,µmol/L,{d}\nSI-001,2093-3,5.2,mmol/L,{d}\n"
    assert client_as(nurse).post(UPLOAD, {"file": _csv(body)}).status_code == 302
    values = dict(LabResult.objects.values_list("lab_test__analyte", "value"))
    assert values == {"creatinine": Decimal("2.0018"), "total_cholesterol": Decimal("201.084")}


# --- The clinic setting ---------------------------------------------------------------------------------------------


def test_a_catalogue_admin_sets_the_clinics_unit_system_audited(client_as, clinic):
    admin = make_user(role="Catalogue admin", clinic=clinic)
    client = client_as(admin)
    form = client.get(SETTINGS).context["form"]
    response = client.post(SETTINGS, {"unit_system": "SI", "row_version": form.initial["row_version"]})
    assert response.status_code == 302
    clinic.refresh_from_db()
    assert clinic.unit_system == "SI"
    event = AuditEvent.objects.get(object_type="portal.clinic")
    assert event.actor == admin
    assert event.changes == {"unit_system": ["US", "SI"]}


def test_a_stale_or_bad_settings_form_changes_nothing(client_as, clinic):
    admin = make_user(role="Catalogue admin", clinic=clinic)
    client = client_as(admin)
    Clinic.objects.filter(pk=clinic.pk).update(row_version=2)
    response = client.post(SETTINGS, {"unit_system": "SI", "row_version": 1})
    assert response.status_code == 200
    assert "while you were editing" in response.content.decode()
    response = client.post(SETTINGS, {"unit_system": "metric", "row_version": 2})
    assert response.status_code == 200
    assert response.context["form"].errors["unit_system"]
    clinic.refresh_from_db()
    assert clinic.unit_system == "US"
    assert not AuditEvent.objects.filter(object_type="portal.clinic").exists()


def test_nurses_and_dermatologists_cannot_change_the_unit_system(client_as, nurse, derm):
    assert client_as(nurse).post(SETTINGS, {"unit_system": "SI", "row_version": 1}).status_code == 403
    assert client_as(derm).get(SETTINGS).status_code == 403


def test_the_safety_check_gives_baseline_values_in_the_clinics_units(clinic, derm, nurse, catalogue):
    from drugs.models import Drug
    from therapy.services import Plan, safety_preview

    patient = make_patient(clinic=clinic, dermatologist=derm, record_number="SI-002")
    si(clinic)
    record_result(nurse, patient, "hb", "7.2495", on=TODAY - dt.timedelta(days=2))  # 4.5 mmol/L
    plan = Plan(
        drug=Drug.objects.get(slug="abrocitinib"), dose=Decimal("100"), frequency="once daily", start_date=TODAY
    )
    findings, _version = safety_preview(patient=patient, plan=plan)
    hb = [f for f in findings if f.code == "threshold.hb.baseline"]
    assert hb, [f.code for f in findings]
    assert "72 g/L" in hb[0].message
    assert "80 g/L (8 g/dL)" in hb[0].message
