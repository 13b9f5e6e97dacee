import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from patients import services
from patients.models import Assessment, Patient, RiskProfile
from portal.models import AuditEvent
from tests.factories import make_clinic, make_patient

pytestmark = pytest.mark.django_db

DEMOGRAPHICS = {
    "record_number": "R-1",
    "given_name": "Testa",
    "family_name": "Fictional",
    "date_of_birth": dt.date(1970, 5, 1),
    "sex_at_birth": "female",
}


def test_patient_create_makes_risk_profile_and_audits(derm, clinic):
    patient = services.patient_create(actor=derm, clinic=clinic, data=DEMOGRAPHICS)
    assert RiskProfile.objects.filter(patient=patient).exists()
    event = AuditEvent.objects.get(action="create", object_type="patients.patient")
    assert event.object_id == str(patient.pk)
    assert event.actor == derm


def test_patient_create_refuses_future_birth_date(derm, clinic):
    with pytest.raises(ValidationError) as exc:
        services.patient_create(actor=derm, clinic=clinic, data={**DEMOGRAPHICS, "date_of_birth": dt.date(2999, 1, 1)})
    assert "date_of_birth" in exc.value.message_dict
    assert not Patient.objects.exists()


def test_record_number_unique_per_clinic_only(derm, clinic):
    services.patient_create(actor=derm, clinic=clinic, data=DEMOGRAPHICS)
    with pytest.raises(ValidationError):
        services.patient_create(actor=derm, clinic=clinic, data=DEMOGRAPHICS)
    services.patient_create(actor=derm, clinic=make_clinic(), data=DEMOGRAPHICS)
    assert Patient.objects.count() == 2


def test_patient_update_keeps_previous_value(derm, clinic):
    patient = make_patient(clinic=clinic)
    services.patient_update(actor=derm, patient=patient, data={"weight_kg": Decimal("71.5")}, row_version=1)
    patient.refresh_from_db()
    assert patient.row_version == 2
    event = AuditEvent.objects.get(action="change")
    assert event.changes == {"weight_kg": [None, "71.5"]}


def test_stale_patient_update_is_refused(derm, clinic):
    patient = make_patient(clinic=clinic)
    services.patient_update(actor=derm, patient=patient, data={"phone": "0100"}, row_version=1)
    with pytest.raises(services.StaleEditError) as exc:
        services.patient_update(actor=derm, patient=patient, data={"phone": "0200"}, row_version=1)
    assert exc.value.current_version == 2
    patient.refresh_from_db()
    assert patient.phone == "0100"


def test_risk_profile_update_dates_and_attributes_each_item(derm, clinic):
    patient = make_patient(clinic=clinic)
    services.risk_profile_update(
        actor=derm, patient=patient, data={"smoking_status": "current", "pack_years": Decimal(12)}, row_version=1
    )
    profile = RiskProfile.objects.get(patient=patient)
    assert set(profile.item_meta) == {"smoking_status", "pack_years"}
    assert profile.item_meta["pack_years"]["by"] == derm.username
    assert AuditEvent.objects.get(action="change").changes["smoking_status"] == ["", "current"]


def test_pack_years_for_never_smoker_refused(derm, clinic):
    patient = make_patient(clinic=clinic)
    with pytest.raises(ValidationError) as exc:
        services.risk_profile_update(
            actor=derm, patient=patient, data={"smoking_status": "never", "pack_years": Decimal(5)}, row_version=1
        )
    assert "pack_years" in exc.value.message_dict


@pytest.mark.parametrize(("year", "ok"), [(1969, False), (1975, True), (2999, False)])
def test_quit_year_between_birth_and_now(derm, clinic, year, ok):
    patient = make_patient(clinic=clinic, date_of_birth=dt.date(1970, 1, 1))
    data = {"smoking_status": "former", "smoking_quit_year": year}
    if ok:
        services.risk_profile_update(actor=derm, patient=patient, data=data, row_version=1)
    else:
        with pytest.raises(ValidationError):
            services.risk_profile_update(actor=derm, patient=patient, data=data, row_version=1)


def test_assessment_computes_easi(nurse, clinic):
    patient = make_patient(clinic=clinic)
    parts = dict.fromkeys(services.EASI_PART_FIELDS, 1)
    assessment = services.assessment_record(
        actor=nurse, patient=patient, assessed_on=dt.date(2026, 1, 1), data={**parts, "viga": 3}
    )
    assert assessment.easi == Decimal("4.0")
    assert AuditEvent.objects.get(action="change").changes["easi"] == [None, "4.0"]


def test_assessment_needs_every_easi_part(nurse, clinic):
    patient = make_patient(clinic=clinic)
    with pytest.raises(ValidationError) as exc:
        services.assessment_record(
            actor=nurse, patient=patient, assessed_on=dt.date(2026, 1, 1), data={"easi_head_area": 2}
        )
    assert "easi_trunk_area" in exc.value.message_dict
    assert not Assessment.objects.exists()


def test_medicine_add_and_stop(derm, clinic):
    patient = make_patient(clinic=clinic)
    entry = services.medicine_add(actor=derm, patient=patient, medicine=None, name="aspirin", dose_text="75 mg")
    assert str(entry) == "aspirin 75 mg"
    services.medicine_stop(actor=derm, entry=entry, stopped_on=dt.date(2026, 1, 2))
    assert AuditEvent.objects.filter(action="change", object_id=str(patient.pk)).count() == 2


def test_screening_result_record(nurse, clinic):
    patient = make_patient(clinic=clinic)
    services.screening_result_record(
        actor=nurse, patient=patient, item="tb", performed_on=dt.date(2026, 1, 1), result="negative"
    )
    assert patient.screening_results.get().recorded_by == nurse


def head_only(area=4, sign=2):
    """Head-only eczema; the other regions have area 0 and their signs left empty."""
    parts = {f"easi_{region}_area": 0 for region in ("upper", "trunk", "lower")}
    parts["easi_head_area"] = area
    for name in ("erythema", "induration", "excoriation", "lichenification"):
        parts[f"easi_head_{name}"] = Decimal(sign)
    return parts


@pytest.mark.parametrize(
    ("assessed_on", "easi", "weights"),
    [
        (dt.date(2026, 1, 9), Decimal("6.4"), "Children aged 0–7 years (aged 7 on the assessment date)"),
        (dt.date(2026, 1, 10), Decimal("3.2"), "Aged 8 years and over (aged 8 on the assessment date)"),
    ],
)
def test_easi_weights_follow_age_on_the_assessment_date(nurse, clinic, assessed_on, easi, weights):
    """Born 10 January 2018: the child weights apply until the day before the 8th birthday (issue 14)."""
    patient = make_patient(clinic=clinic, date_of_birth=dt.date(2018, 1, 10))
    assessment = services.assessment_record(actor=nurse, patient=patient, assessed_on=assessed_on, data=head_only())
    assert assessment.easi == easi
    assert AuditEvent.objects.get(action="change").changes["easi_weights"] == weights


def test_half_scores_and_empty_regions_are_stored_as_entered(nurse, clinic):
    patient = make_patient(clinic=clinic, date_of_birth=dt.date(2020, 6, 1))
    parts = {**head_only(), "easi_head_erythema": Decimal("1.5"), "easi_head_induration": Decimal("2.5")}
    assessment = services.assessment_record(actor=nurse, patient=patient, assessed_on=dt.date(2026, 1, 1), data=parts)
    assessment.refresh_from_db()
    assert (assessment.easi_head_erythema, assessment.easi_head_induration) == (Decimal("1.5"), Decimal("2.5"))
    assert assessment.easi_trunk_erythema is None  # area 0: left empty, counted as 0
    assert assessment.easi == Decimal("6.4")  # 0.2 x 4 x (1.5 + 2.5 + 2 + 2)


def test_region_with_eczema_needs_its_signs(nurse, clinic):
    patient = make_patient(clinic=clinic)
    with pytest.raises(ValidationError) as exc:
        services.assessment_record(
            actor=nurse,
            patient=patient,
            assessed_on=dt.date(2026, 1, 1),
            data={**head_only(), "easi_head_excoriation": None},
        )
    assert list(exc.value.message_dict) == ["easi_head_excoriation"]
    assert not Assessment.objects.exists()


def test_half_score_off_the_half_step_is_refused(nurse, clinic):
    patient = make_patient(clinic=clinic)
    with pytest.raises(ValidationError) as exc:
        services.assessment_record(
            actor=nurse,
            patient=patient,
            assessed_on=dt.date(2026, 1, 1),
            data={**head_only(), "easi_head_erythema": Decimal("0.3")},
        )
    assert exc.value.message_dict["easi_head_erythema"] == ["Enter a whole or half score: 0, 0.5, 1, 1.5, 2, 2.5 or 3."]


def test_assessment_before_birth_is_refused(nurse, clinic):
    patient = make_patient(clinic=clinic, date_of_birth=dt.date(2024, 5, 1))
    with pytest.raises(ValidationError) as exc:
        services.assessment_record(actor=nurse, patient=patient, assessed_on=dt.date(2024, 4, 30), data=head_only())
    assert exc.value.message_dict == {"assessed_on": ["The date is before the patient's date of birth."]}
    assert not Assessment.objects.exists()
