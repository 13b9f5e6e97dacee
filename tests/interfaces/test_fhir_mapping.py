"""The pure mapping, table by table: course status, dosage, drug coding, result interpretation, finding severity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from interfaces.fhir import mapping

SYSTEM = mapping.System(base_url="https://portal.example.org")
NOW = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)


def _course(**fields) -> mapping.CourseData:
    data = {
        "public_id": "0b6c4c1e-1111-4a53-9a53-2f6c0f1a9d11",
        "drug_name": "Upadacitinib",
        "drug_slug": "upadacitinib",
        "codings": (
            mapping.DrugCoding("atc", "L04AF03", "upadacitinib", False),
            mapping.DrugCoding("rxnorm", "2196092", "upadacitinib", False),
        ),
        "route": "oral",
        "status": "active",
        "stop_reason": "",
        "start_date": dt.date(2026, 1, 5),
        "stopped_on": None,
        "dose": Decimal("15"),
        "dose_unit": "mg",
        "frequency": "once daily",
        "topical_grams": None,
        "topical_days": None,
        "topical_bsa_percent": None,
        "prescriber": "Dr Test",
        "created_at": NOW,
    }
    data.update(fields)
    return mapping.CourseData(**data)


@pytest.mark.parametrize(
    ("status", "fhir_status"),
    [("planned", "draft"), ("active", "active"), ("interrupted", "on-hold"), ("stopped", "stopped")],
)
def test_course_status(status, fhir_status):
    (request,) = mapping.medication_requests(_course(status=status), "p", SYSTEM)
    assert request.status == fhir_status


def test_rxnorm_comes_first_then_atc_and_the_name_always():
    (request,) = mapping.medication_requests(_course(), "p", SYSTEM)
    concept = request.medicationCodeableConcept
    assert [(c.system, c.code) for c in concept.coding] == [(mapping.RXNORM, "2196092"), (mapping.ATC, "L04AF03")]
    assert concept.text == "Upadacitinib"


def test_a_drug_without_codes_is_sent_by_name_only():
    (request,) = mapping.medication_requests(_course(codings=()), "p", SYSTEM)
    assert request.medicationCodeableConcept.coding is None
    assert request.medicationCodeableConcept.text == "Upadacitinib"


def test_stopped_course_carries_its_end_and_reason():
    course = _course(status="stopped", stopped_on=dt.date(2026, 3, 1), stop_reason="Adverse event")
    (request,) = mapping.medication_requests(course, "p", SYSTEM)
    assert request.statusReason.text == "Adverse event"
    assert str(request.dosageInstruction[0].timing.repeat.boundsPeriod.end) == "2026-03-01"


def test_two_dose_changes_make_a_chain_of_three_requests():
    changes = (
        mapping.DoseChange(dt.date(2026, 2, 2), Decimal("15"), Decimal("30")),
        mapping.DoseChange(dt.date(2026, 3, 2), Decimal("30"), Decimal("15"), note="Acne"),
    )
    requests = mapping.medication_requests(_course(dose=Decimal("15"), dose_changes=changes), "p", SYSTEM)
    assert [r.status for r in requests] == ["stopped", "stopped", "active"]
    assert [r.dosageInstruction[0].doseAndRate[0].doseQuantity.value for r in requests] == [15, 30, 15]
    assert requests[1].priorPrescription.reference == f"urn:uuid:{requests[0].id}"
    assert requests[2].priorPrescription.reference == f"urn:uuid:{requests[1].id}"
    assert requests[2].note[0].text == "Acne"
    assert mapping.medication_requests(_course(dose_changes=changes), "p", SYSTEM)[2].id == requests[2].id  # stable


def test_twice_daily_and_unknown_frequencies():
    twice = mapping.dosage(_course(frequency="twice daily"), Decimal("2"), dt.date(2026, 1, 1), None)
    assert (twice.timing.repeat.frequency, twice.timing.repeat.periodUnit) == (2, "d")
    other = mapping.dosage(_course(frequency="as directed"), Decimal("2"), dt.date(2026, 1, 1), None)
    assert other.timing.repeat.frequency is None
    assert other.text == "2 mg as directed"


def test_topical_course_states_its_grams_per_period():
    course = _course(
        route="topical",
        dose=None,
        dose_unit="g",
        frequency="twice daily",
        topical_grams=Decimal("60"),
        topical_days=7,
        topical_bsa_percent=Decimal("20"),
    )
    dosage = mapping.dosage(course, None, dt.date(2026, 1, 1), None)
    assert dosage.maxDosePerPeriod.numerator.value == 60
    assert dosage.maxDosePerPeriod.denominator.code == "d"
    assert "20%" in dosage.text


def _result(**fields) -> mapping.LabResultData:
    data = {
        "pk": 1,
        "loinc": "751-8",
        "test_name": "Neutrophils",
        "collected_on": dt.date(2026, 4, 1),
        "value": Decimal("0.9"),
        "coded_value": "",
        "unit_code": "10*3/uL",
        "unit_label": "×10³/µL",
        "flag": "low",
        "reference_low": Decimal("1.8"),
        "reference_high": Decimal("7.7"),
    }
    data.update(fields)
    return mapping.LabResultData(**data)


@pytest.mark.parametrize(("flag", "code"), [("low", "L"), ("high", "H"), ("normal", "N")])
def test_quantity_interpretation_is_the_reference_flag(flag, code):
    obs = mapping.observation(_result(flag=flag), "p")
    assert obs.interpretation[0].coding[0].code == code
    assert obs.interpretation[0].coding[0].system == mapping.INTERPRETATION


def test_no_range_no_interpretation_and_action_levels_are_a_note_not_hh_ll():
    obs = mapping.observation(_result(flag="no_range", reference_low=None, reference_high=None), "p")
    assert obs.interpretation is None
    assert obs.referenceRange is None
    acted = mapping.observation(_result(action="interrupt", action_rule="ANC below 1"), "p")
    assert acted.interpretation[0].coding[0].code == "L"
    assert "interrupt" in acted.note[0].text


@pytest.mark.parametrize(("coded", "code"), [("positive", "POS"), ("negative", "NEG"), ("indeterminate", "IND")])
def test_coded_results(coded, code):
    obs = mapping.observation(_result(value=None, coded_value=coded, flag="coded", unit_code=""), "p")
    assert obs.valueQuantity is None
    assert obs.valueCodeableConcept.text == coded.capitalize()
    assert obs.interpretation[0].coding[0].code == code


@pytest.mark.parametrize(("severity", "fhir"), [(5, "high"), (4, "high"), (3, "moderate"), (2, "low"), (1, "low")])
def test_finding_severity(severity, fhir):
    finding = mapping.FindingData(
        pk=7,
        course_id="c",
        severity=severity,
        severity_label="x",
        code="rule.code",
        message="Finding.",
        rule="",
        source="",
        catalogue_version=12,
        identified_at=NOW,
        acknowledgement="",
        overridden=False,
        acknowledged_at=None,
    )
    issue = mapping.detected_issue(finding, "p", "r", SYSTEM)
    assert issue.severity == fhir
    assert issue.extension[0].url == "https://portal.example.org/fhir/StructureDefinition/catalogue-version"
    assert issue.extension[0].valueInteger == 12


@pytest.mark.parametrize(
    ("sex", "gender"), [("female", "female"), ("male", "male"), ("other", "other"), ("unknown", "unknown")]
)
def test_gender_from_sex_at_birth(sex, gender):
    data = mapping.PatientData("p", 3, "R-1", "Testa", "Fictional", dt.date(1990, 1, 1), sex)
    patient = mapping.patient_resource(data, SYSTEM)
    assert patient.gender == gender
    assert patient.identifier[0].system == "https://portal.example.org/fhir/clinic/3/record-number"
