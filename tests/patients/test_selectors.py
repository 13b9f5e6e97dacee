import datetime as dt
import random
from decimal import Decimal

import pytest
from django.http import Http404

from patients import risk, selectors
from patients.models import Patient
from tests.factories import make_clinic, make_patient, make_user

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
def test_badge_filter_agrees_with_the_pure_rules(clinic):
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
    for code in risk.BADGE_LABELS:
        by_rule = {p.pk for p in patients if code in {b.code for b in selectors.patient_badges(p, TODAY)}}
        by_query = set(Patient.objects.filter(selectors.badge_q(code, TODAY)).values_list("pk", flat=True))
        assert by_rule == by_query, code


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
