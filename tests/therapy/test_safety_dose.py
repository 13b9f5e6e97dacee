"""Dose advice (reference §2 dosing tables): age, kidney, liver, interacting classes, CYP2C19, risk groups."""

from decimal import Decimal as D

import pytest

from patients.risk import EU_LAST_RESORT
from tests.therapy.drug_labels import BY_SLUG
from tests.therapy.patient_facts import codes, find, on, patient, run
from therapy.safety import Severity

A, S = Severity.DOSE_ADVICE, Severity.DO_NOT_START

# (drug, jurisdiction, patient facts, chosen dose, expected code, severity, recommended dose)
ADVICE = [
    ("abrocitinib", "US", {"egfr": D(75)}, 100, "dose.renal", Severity.INFO, None),
    ("abrocitinib", "US", {"egfr": D(60)}, 100, "dose.renal", Severity.INFO, None),
    ("abrocitinib", "US", {"egfr": D(59)}, 100, "dose.renal", A, D(50)),
    ("abrocitinib", "US", {"egfr": D(30)}, 100, "dose.renal", A, D(50)),
    ("abrocitinib", "US", {"egfr": D(29)}, 100, "dose.renal", S, None),
    ("abrocitinib", "EU", {"egfr": D(45)}, 200, "dose.renal", A, D(100)),
    ("abrocitinib", "EU", {"egfr": D(45)}, 100, "dose.renal", A, D(50)),
    ("abrocitinib", "EU", {"egfr": D(20)}, 50, "dose.renal", A, D(50)),
    ("abrocitinib", "US", {"child_pugh": "A"}, 100, "dose.hepatic_a", Severity.INFO, None),
    ("abrocitinib", "US", {"child_pugh": "B"}, 100, "dose.hepatic_b", Severity.INFO, None),
    ("abrocitinib", "US", {"child_pugh": "C"}, 100, "dose.hepatic_c", S, None),
    ("abrocitinib", "EU", {"child_pugh": "B"}, 100, "dose.hepatic_b", Severity.INFO, None),
    (
        "abrocitinib",
        "US",
        {"medicines": on("strong_cyp2c19_inhibitor")},
        100,
        "dose.class.strong_cyp2c19_inhibitor",
        A,
        D(50),
    ),
    (
        "abrocitinib",
        "EU",
        {"medicines": on("strong_cyp2c19_inhibitor")},
        200,
        "dose.class.strong_cyp2c19_inhibitor",
        A,
        D(100),
    ),
    (
        "abrocitinib",
        "US",
        {"medicines": on("cyp2c19_and_cyp2c9_inhibitor")},
        100,
        "dose.class.cyp2c19_and_cyp2c9_inhibitor",
        S,
        None,
    ),
    (
        "abrocitinib",
        "EU",
        {"medicines": on("cyp2c19_and_cyp2c9_inhibitor")},
        100,
        "dose.class.cyp2c19_and_cyp2c9_inhibitor",
        A,
        D(50),
    ),
    (
        "abrocitinib",
        "US",
        {"medicines": on("cyp2c19_cyp2c9_inducer")},
        100,
        "dose.class.cyp2c19_cyp2c9_inducer",
        S,
        None,
    ),
    (
        "abrocitinib",
        "EU",
        {"medicines": on("cyp2c19_cyp2c9_inducer")},
        100,
        "dose.class.cyp2c19_cyp2c9_inducer",
        S,
        None,
    ),
    ("abrocitinib", "US", {"cyp2c19_poor_metaboliser": True}, 100, "dose.cyp2c19_pm", A, D(50)),
    ("abrocitinib", "EU", {"age_years": 67}, 100, "dose.age_65", A, D(100)),
    ("abrocitinib", "EU", {"badges": frozenset({EU_LAST_RESORT})}, 100, "dose.high_risk", A, D(100)),
    ("upadacitinib", "US", {"age_years": 65}, 15, "dose.age_65", A, D(15)),
    ("upadacitinib", "EU", {"age_years": 70}, 15, "dose.age_65", A, D(15)),
    ("upadacitinib", "US", {"egfr": D(20)}, 15, "dose.renal", A, D(15)),
    ("upadacitinib", "US", {"egfr": D(14)}, 15, "dose.renal", S, None),
    ("upadacitinib", "US", {"child_pugh": "C"}, 15, "dose.hepatic_c", S, None),
    (
        "upadacitinib",
        "US",
        {"medicines": on("strong_cyp3a4_inhibitor")},
        15,
        "dose.class.strong_cyp3a4_inhibitor",
        A,
        D(15),
    ),
    ("upadacitinib", "US", {"medicines": on("strong_cyp3a4_inducer")}, 15, "dose.class.strong_cyp3a4_inducer", S, None),
    ("upadacitinib", "EU", {"badges": frozenset({EU_LAST_RESORT})}, 15, "dose.high_risk", A, D(15)),
    ("baricitinib", "EU", {"age_years": 66}, 4, "dose.age_65", A, D(2)),
    ("baricitinib", "EU", {"badges": frozenset({EU_LAST_RESORT})}, 4, "dose.high_risk", A, D(2)),
    ("baricitinib", "EU", {"egfr": D(45)}, 4, "dose.renal", A, D(2)),
    ("baricitinib", "EU", {"egfr": D(29)}, 4, "dose.renal", S, None),
    ("baricitinib", "EU", {"medicines": on("strong_oat3_inhibitor")}, 4, "dose.class.strong_oat3_inhibitor", A, D(2)),
    ("baricitinib", "EU", {"child_pugh": "C"}, 4, "dose.hepatic_c", S, None),
    ("tofacitinib", "US", {"egfr": D(50)}, 5, "dose.renal", A, D(5)),
    ("tofacitinib", "EU", {"child_pugh": "B"}, 5, "dose.hepatic_b", A, D(5)),
    ("tofacitinib", "US", {"child_pugh": "C"}, 5, "dose.hepatic_c", S, None),
    (
        "tofacitinib",
        "US",
        {"medicines": on("strong_cyp3a4_inhibitor")},
        5,
        "dose.class.strong_cyp3a4_inhibitor",
        A,
        D(5),
    ),
    (
        "tofacitinib",
        "US",
        {"medicines": on("moderate_cyp3a4_strong_cyp2c19_inhibitor")},
        5,
        "dose.class.moderate_cyp3a4_strong_cyp2c19_inhibitor",
        A,
        D(5),
    ),
    ("tofacitinib", "EU", {"medicines": on("strong_cyp3a4_inducer")}, 5, "dose.class.strong_cyp3a4_inducer", S, None),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "facts", "dose", "code", "severity", "recommended"), ADVICE)
def test_dose_adjustment(slug, jurisdiction, facts, dose, code, severity, recommended):
    finding = find(run(BY_SLUG[slug], patient(**facts), jurisdiction, dose=D(dose)), code)
    assert (finding.severity, finding.recommended_dose) == (severity, recommended)
    assert finding.source


NO_ADVICE = [
    ("abrocitinib", "US", {"age_years": 70}, "dose.age_65"),
    ("abrocitinib", "EU", {"cyp2c19_poor_metaboliser": True}, "dose.cyp2c19_pm"),  # EU handling UNCONFIRMED
    ("abrocitinib", "EU", {"child_pugh": "C"}, "dose.hepatic_c"),  # EU: a contraindication instead
    ("abrocitinib", "US", {"egfr": D(90)}, "dose.renal"),
    ("upadacitinib", "EU", {"egfr": D(20)}, "dose.renal"),
    ("upadacitinib", "US", {"egfr": D(30)}, "dose.renal"),
    ("upadacitinib", "EU", {"medicines": on("strong_cyp3a4_inhibitor")}, "dose.class.strong_cyp3a4_inhibitor"),
    ("upadacitinib", "US", {"badges": frozenset({EU_LAST_RESORT})}, "dose.high_risk"),
    ("baricitinib", "EU", {"egfr": D(60)}, "dose.renal"),
    ("tofacitinib", "US", {"egfr": D(51)}, "dose.renal"),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "facts", "code"), NO_ADVICE)
def test_no_dose_adjustment(slug, jurisdiction, facts, code):
    assert code not in codes(run(BY_SLUG[slug], patient(**facts), jurisdiction))


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "dose"),
    [("abrocitinib", "US", 150), ("abrocitinib", "EU", 25), ("upadacitinib", "US", 45), ("baricitinib", "EU", 1)],
)
def test_dose_not_in_catalogue_blocks(slug, jurisdiction, dose):
    finding = find(run(BY_SLUG[slug], jurisdiction=jurisdiction, dose=D(dose)), "dose.not_in_catalogue")
    assert finding.severity == Severity.DO_NOT_START


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "dose"),
    [("abrocitinib", "US", 50), ("abrocitinib", "US", 200), ("abrocitinib", "EU", 200), ("upadacitinib", "EU", 30)],
)
def test_catalogue_doses_pass(slug, jurisdiction, dose):
    assert "dose.not_in_catalogue" not in codes(run(BY_SLUG[slug], jurisdiction=jurisdiction, dose=D(dose)))


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "facts", "dose"),
    [
        ("abrocitinib", "US", {"egfr": D(45)}, 100),
        ("abrocitinib", "US", {"cyp2c19_poor_metaboliser": True}, 200),
        ("abrocitinib", "EU", {"badges": frozenset({EU_LAST_RESORT})}, 200),
        ("upadacitinib", "US", {"age_years": 68}, 30),
        ("baricitinib", "EU", {"egfr": D(40)}, 4),
    ],
)
def test_dose_above_advice_warns(slug, jurisdiction, facts, dose):
    finding = find(run(BY_SLUG[slug], patient(**facts), jurisdiction, dose=D(dose)), "dose.above_advice")
    assert finding.needs_acknowledgement


def test_dose_at_advice_does_not_warn():
    assert "dose.above_advice" not in codes(run(BY_SLUG["abrocitinib"], patient(egfr=D(45)), dose=D(50)))


def test_lowest_advice_wins():
    p = patient(egfr=D(45), age_years=70, badges=frozenset({EU_LAST_RESORT}))
    finding = find(run(BY_SLUG["abrocitinib"], p, "EU", dose=D(200)), "dose.above_advice")
    assert finding.recommended_dose == D(100)


def test_missing_egfr_is_info_where_dose_depends_on_it():
    assert find(run(BY_SLUG["abrocitinib"], patient(egfr=None)), "dose.renal.missing").severity == Severity.INFO


def test_unconfirmed_row_marks_finding():
    finding = find(
        run(BY_SLUG["upadacitinib"], patient(medicines=on("strong_cyp3a4_inducer"))), "dose.class.strong_cyp3a4_inducer"
    )
    assert finding.unconfirmed
