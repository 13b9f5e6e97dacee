import datetime as dt
import random
from decimal import Decimal

import pytest
from django.http import Http404

from patients import risk, selectors
from patients.models import Patient, RiskProfile
from patients.services import risk_profile_update, screening_result_record
from portal import roles
from tests.factories import make_clinic, make_course, make_patient, make_scheduled_item, make_user
from therapy.models import ScheduledItem

TODAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-12-31", dt.date(1970, 12, 31)),
        ("31/12/1970", dt.date(1970, 12, 31)),
        ("1.2.1970", dt.date(1970, 2, 1)),
        ("31/02/1970", None),
        ("Fictional", None),
    ],
)
def test_parse_search_date(text, expected):
    assert selectors.parse_search_date(text) == expected


@pytest.mark.django_db
def test_search_by_name_record_number_and_birth_date(clinic):
    a = make_patient(
        clinic=clinic,
        given_name="Ada",
        family_name="Testperson",
        record_number="MRN-7",
        date_of_birth=dt.date(1970, 12, 31),
    )
    make_patient(clinic=clinic, given_name="Ben", family_name="Demoson")
    qs = Patient.objects.all()
    for text in ("testperson", "ada test", "MRN-7", "mrn-7", "31/12/1970", "1970-12-31"):
        assert list(selectors.search_patients(qs, text)) == [a], text


@pytest.mark.django_db
def test_get_patient_for_user_is_404_for_other_clinic(derm):
    other = make_patient(clinic=make_clinic())
    with pytest.raises(Http404):
        selectors.get_patient_for_user(derm, other.public_id)
    with pytest.raises(Http404):
        selectors.get_patient_for_user(derm, "not-a-uuid")


@pytest.mark.django_db
def test_user_without_clinic_sees_no_patients(clinic):
    make_patient(clinic=clinic)
    assert not Patient.objects.visible_to(make_user()).exists()


RISK_CHOICES = {
    "smoking_status": ["", "never", "former", "current"],
    "cancer_status": ["", "none", "active", "past", "nmsc_only"],
    "tb_status": ["never_tested", "negative", "latent_untreated", "latent_treated", "active"],
    "hepatitis_b": ["", "negative", "positive"],
}
RISK_FLAGS = [
    *risk.CV_RISK_FACTOR_LABELS,
    "dvt_history",
    "thrombophilia",
    "hormonal_therapy",
    "pregnant",
    "herpes_zoster_history",
    "active_serious_infection",
]


@pytest.mark.django_db
def test_badge_filter_agrees_with_the_pure_rules(clinic, catalogue):
    rng = random.Random(4)
    for _ in range(40):
        fields = {name: rng.choice(values) for name, values in RISK_CHOICES.items()}
        fields.update({flag: rng.random() < 0.15 for flag in RISK_FLAGS})
        if fields["smoking_status"] in ("former", "current"):
            fields["pack_years"] = Decimal(rng.choice([2, 9, 10, 25]))
        make_patient(
            clinic=clinic,
            risk=fields,
            date_of_birth=TODAY - dt.timedelta(days=rng.randint(18 * 365, 80 * 365)),
            weight_kg=Decimal(rng.randint(50, 120)),
            height_cm=Decimal(rng.randint(150, 195)),
        )
    patients = list(Patient.objects.select_related("risk_profile"))
    derm = make_user(role=roles.DERMATOLOGIST, clinic=clinic)
    for patient in patients[::2]:  # half the patients have a check
        make_scheduled_item(make_course(patient, derm))
    with_checks = {p.pk for p in patients[::2]}
    for code in risk.BADGE_LABELS:
        by_rule = {p.pk for p in patients if code in {b.code for b in selectors.patient_badges(p, TODAY)}}
        by_query = set(Patient.objects.filter(selectors.badge_q(code, TODAY)).values_list("pk", flat=True))
        assert by_rule == by_query, code
        # the same rule read from a related model (the worklist's risk order reads it from the scheduled checks)
        via_checks = set(
            ScheduledItem.objects.filter(selectors.badge_q(code, TODAY, via="patient__")).values_list(
                "patient_id", flat=True
            )
        )
        assert via_checks == by_rule & with_checks, code


@pytest.mark.django_db
def test_badges_read_from_values_are_the_patients_badges(clinic, catalogue):
    """``badges_of_values`` (the worklist reads patients with values()) gives what ``patient_badges`` gives."""
    smoker = make_patient(clinic=clinic, risk={"smoking_status": "current", "dvt_history": True})
    older = make_patient(clinic=clinic, date_of_birth=TODAY - dt.timedelta(days=70 * 366), weight_kg=Decimal(130))
    no_profile = make_patient(clinic=clinic, risk={"pregnant": True})
    RiskProfile.objects.filter(patient=no_profile).delete()
    rows = {row["id"]: row for row in Patient.objects.values("id", *selectors.badge_value_fields())}
    for patient in Patient.objects.select_related("risk_profile"):
        assert selectors.badges_of_values(rows[patient.pk], TODAY) == selectors.patient_badges(patient, TODAY)
    assert {b.code for b in selectors.badges_of_values(rows[smoker.pk], TODAY)} >= {risk.SMOKER_ANY, risk.VTE_RISK}
    assert risk.VTE_RISK in {b.code for b in selectors.badges_of_values(rows[older.pk], TODAY)}
    assert selectors.badges_of_values(rows[no_profile.pk], TODAY) == []  # the profile (pregnant) is gone


@pytest.mark.django_db
def test_list_page_has_next_without_counting(derm, clinic):
    for _ in range(selectors.PAGE_SIZE + 1):
        make_patient(clinic=clinic)
    first = selectors.patient_list_page(user=derm, today=TODAY)
    second = selectors.patient_list_page(user=derm, today=TODAY, page=2)
    assert len(first.rows) == 25
    assert first.has_next
    assert not first.has_previous
    assert len(second.rows) == 1
    assert not second.has_next
    assert second.has_previous


# --- Baseline screening as the safety check and the schedule read it (patient_facts) ------------------------------


def _screen(patient, item, on, result, actor=None):
    screening_result_record(actor=actor, patient=patient, item=item, performed_on=on, result=result)


@pytest.mark.django_db
def test_facts_screening_from_records_and_risk_profile(clinic, derm):
    patient = make_patient(clinic=clinic, risk={"tb_status": "negative", "hepatitis_c": "negative"})
    _screen(patient, "hbsag", dt.date(2026, 1, 5), "negative", derm)
    facts = selectors.patient_facts(patient, today=TODAY)
    assert {"tb", "hcv"} <= facts.screening_done
    assert "hbv" not in facts.screening_done  # anti-HBc not done yet
    assert (facts.tb_status, facts.hbv, facts.hcv) == ("negative", "unknown", "negative")
    _screen(patient, "hbcab", dt.date(2026, 1, 5), "negative", derm)
    facts = selectors.patient_facts(patient, today=TODAY)
    assert "hbv" in facts.screening_done
    assert facts.hbv == "negative"


@pytest.mark.django_db
def test_facts_newest_result_per_marker_wins(clinic, derm):
    patient = make_patient(clinic=clinic, risk={"hepatitis_b": "positive"})  # no date recorded: the oldest
    _screen(patient, "hbsag", dt.date(2026, 1, 5), "negative", derm)
    _screen(patient, "hbcab", dt.date(2026, 1, 5), "negative", derm)
    assert selectors.patient_facts(patient, today=TODAY).hbv == "negative"
    _screen(patient, "hbcab", dt.date(2026, 2, 5), "positive", derm)
    assert selectors.patient_facts(patient, today=TODAY).hbv == "positive"
    _screen(patient, "hbsag", dt.date(2026, 3, 5), "negative", derm)  # a newer HBsAg leaves anti-HBc as it is
    assert selectors.patient_facts(patient, today=TODAY).hbv == "positive"


@pytest.mark.django_db
def test_facts_tb_status_from_the_newest_source(clinic, derm):
    patient = make_patient(clinic=clinic, risk={"tb_status": "negative"})
    _screen(patient, "tb", dt.date(2026, 1, 5), "positive", derm)
    assert selectors.patient_facts(patient, today=TODAY).tb_status == "latent_untreated"
    risk_profile_update(actor=derm, patient=patient, data={"tb_status": "latent_treated"}, row_version=1)
    facts = selectors.patient_facts(Patient.objects.get(pk=patient.pk), today=TODAY)
    assert facts.tb_status == "latent_treated"  # recorded today, after the positive test


@pytest.mark.django_db
def test_screening_statuses_in_bulk_agree_and_take_three_queries(clinic, derm, django_assert_num_queries):
    patients = [make_patient(clinic=clinic, risk={"tb_status": "negative"}) for _ in range(4)]
    for i, p in enumerate(patients):
        _screen(p, "hcv", dt.date(2026, 1, 1 + i), "negative", derm)
        _screen(p, "hcv", dt.date(2026, 2, 1 + i), "positive" if i % 2 else "negative", derm)
    with django_assert_num_queries(3):
        bulk = selectors.screening_statuses([p.pk for p in patients])
    for p in patients:
        one = selectors.screening_status(Patient.objects.get(pk=p.pk))
        assert bulk[p.pk].newest == one.newest
    assert [bulk[p.pk].serology("hcv") for p in patients] == ["negative", "positive", "negative", "positive"]


@pytest.mark.django_db
def test_facts_a_positive_pregnancy_test_is_read_until_a_newer_negative_one(clinic, derm):
    patient = make_patient(clinic=clinic, sex_at_birth="female", date_of_birth=dt.date(1994, 3, 1), risk={})
    assert selectors.patient_facts(patient, today=TODAY).pregnancy_test_positive_on is None
    _screen(patient, "pregnancy", dt.date(2026, 5, 20), "positive", derm)
    facts = selectors.patient_facts(patient, today=TODAY)
    assert facts.pregnancy_test_positive_on == dt.date(2026, 5, 20)
    assert facts.pregnant_per_record
    assert not facts.pregnant  # the risk profile box is not ticked
    _screen(patient, "pregnancy", dt.date(2026, 5, 28), "negative", derm)
    assert selectors.patient_facts(patient, today=TODAY).pregnancy_test_positive_on is None
