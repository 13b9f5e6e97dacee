"""Baseline screening (reference §3.1) and topical limits (§2.4, §2.5)."""

import datetime as dt
from decimal import Decimal as D

import pytest

from patients.selectors import patient_facts
from tests.factories import make_patient
from tests.therapy.drug_labels import BY_SLUG
from tests.therapy.patient_facts import ALL_SCREENING, codes, find, patient, run
from therapy.safety import Severity

# Nothing known yet that would show a screening test was done.
UNSCREENED = {"tb_status": "never_tested", "hbv": "unknown", "hcv": "unknown", "egfr": None}

REQUIRED = [
    ("abrocitinib", "US", {"tb", "hbv", "hcv", "cbc", "vaccines"}),
    ("abrocitinib", "EU", {"tb", "hbv", "hcv", "cbc", "vaccines", "lipids", "pregnancy"}),
    ("upadacitinib", "US", {"tb", "hbv", "hcv", "cbc", "liver", "pregnancy", "vaccines"}),
    ("upadacitinib", "EU", {"tb", "hbv", "hcv", "cbc", "liver", "pregnancy", "vaccines"}),
    ("baricitinib", "US", {"tb", "hbv", "hcv", "cbc", "liver", "kidney", "vaccines"}),
    ("baricitinib", "EU", {"tb", "hbv", "hcv", "cbc", "liver", "kidney", "vaccines", "pregnancy"}),
    ("delgocitinib", "US", {"vaccines"}),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "required"), REQUIRED)
def test_each_required_item_missing_is_listed(slug, jurisdiction, required):
    for item in required:
        found = run(
            BY_SLUG[slug], patient(**UNSCREENED, screening_done=ALL_SCREENING - {item}), jurisdiction, dose=None
        )
        finding = find(found, "screening.missing")
        assert finding.needs_acknowledgement


@pytest.mark.parametrize(("slug", "jurisdiction", "required"), REQUIRED)
def test_missing_list_names_every_required_item(slug, jurisdiction, required):
    finding = find(
        run(BY_SLUG[slug], patient(**UNSCREENED, screening_done=frozenset()), jurisdiction, dose=None),
        "screening.missing",
    )
    assert finding.message.count(",") == len(required) - 1


@pytest.mark.parametrize(
    ("slug", "item"), [("abrocitinib", "kidney"), ("upadacitinib", "lipids"), ("ruxolitinib", "tb")]
)
def test_advised_items_are_info(slug, item):
    found = run(BY_SLUG[slug], patient(**UNSCREENED, screening_done=ALL_SCREENING - {item}), dose=None)
    assert find(found, "screening.advised").severity == Severity.INFO
    assert "screening.missing" not in codes(found)


# (drug, jurisdiction, patient facts, code, severity)
POSITIVE = [
    *(
        (s, j, {"tb_status": "latent_untreated"}, "screening.latent_tb", Severity.DO_NOT_START)
        for s in ("abrocitinib", "upadacitinib", "baricitinib")
        for j in ("US", "EU")
    ),
    ("ruxolitinib", "US", {"tb_status": "latent_untreated"}, "screening.latent_tb", Severity.WARNING),
    ("abrocitinib", "US", {"tb_status": "active"}, "screening.active_tb", Severity.DO_NOT_START),
    ("abrocitinib", "EU", {"tb_status": "active"}, "contraindication.active_tb", Severity.CONTRAINDICATED),
    ("upadacitinib", "US", {"tb_status": "latent_treated"}, "screening.latent_tb_treated", Severity.INFO),
    *(
        (s, j, {"hbv": "positive"}, "screening.hbv", Severity.DO_NOT_START)
        for s in ("abrocitinib", "upadacitinib", "baricitinib")
        for j in ("US", "EU")
    ),
    *(
        (s, j, {"hcv": "positive"}, "screening.hcv", Severity.WARNING)
        for s in ("abrocitinib", "upadacitinib", "baricitinib")
        for j in ("US", "EU")
    ),
    *(
        (s, "US", {"zoster_vaccinated": False}, "screening.zoster", Severity.INFO)
        for s in ("abrocitinib", "upadacitinib", "baricitinib", "delgocitinib")
    ),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "facts", "code", "severity"), POSITIVE)
def test_positive_screening(slug, jurisdiction, facts, code, severity):
    assert find(run(BY_SLUG[slug], patient(**facts), jurisdiction, dose=None), code).severity == severity


def test_active_tb_is_reported_once_where_contraindicated():
    assert "screening.active_tb" not in codes(run(BY_SLUG["upadacitinib"], patient(tb_status="active"), "EU"))


def test_latent_tb_message_says_treat_first():
    assert (
        "treat latent TB"
        in find(run(BY_SLUG["abrocitinib"], patient(tb_status="latent_untreated")), "screening.latent_tb").message
    )


def test_no_screening_findings_for_drug_without_items():
    assert not {
        c
        for c in codes(run(BY_SLUG["tofacitinib"], patient(hbv="positive", tb_status="latent_untreated")))
        if c.startswith("screening.")
    }


RUX, DELGO = BY_SLUG["ruxolitinib"], BY_SLUG["delgocitinib"]

# (label, age, bsa %, grams, days, expected DO_NOT_START codes)
TOPICAL = [
    (RUX, 30, "20", "60", 7, set()),
    (RUX, 30, "21", "60", 7, {"topical.bsa"}),
    (RUX, 30, "10", "61", 7, {"topical.grams"}),
    (RUX, 30, "10", "100", 14, set()),
    (RUX, 30, "10", "120", 14, set()),  # two 60 g tubes
    (RUX, 30, "10", "121", 14, {"topical.grams"}),
    (RUX, 12, "10", "85", 10, set()),
    (RUX, 12, "10", "90", 10, {"topical.grams"}),
    (RUX, 12, "10", "200", 28, set()),
    (RUX, 12, "10", "250", 28, {"topical.grams"}),
    (RUX, 11, "10", "60", 14, set()),
    (RUX, 11, "10", "61", 14, {"topical.grams"}),
    (RUX, 5, "10", "30", 7, set()),
    (RUX, 5, "10", "60", 7, {"topical.grams"}),
    (RUX, 5, "25", "120", 14, {"topical.bsa", "topical.grams"}),
    (DELGO, 40, None, "30", 14, set()),
    (DELGO, 40, None, "31", 14, {"topical.grams"}),
    (DELGO, 40, None, "60", 30, set()),
    (DELGO, 40, None, "64", 30, set()),  # 30 g per 2 weeks
    (DELGO, 40, None, "65", 30, {"topical.grams"}),
]


@pytest.mark.parametrize(("label", "age", "bsa", "grams", "days", "expected"), TOPICAL)
def test_topical_limits_us(label, age, bsa, grams, days, expected):
    found = run(
        label,
        patient(age_years=age),
        dose=None,
        topical_bsa_percent=D(bsa) if bsa else None,
        topical_grams=D(grams),
        topical_days=days,
    )
    assert {c for c in codes(found, Severity.DO_NOT_START) if c.startswith("topical.")} == expected


def test_topical_inputs_missing_is_info():
    found = run(RUX, dose=None)
    assert find(found, "topical.bsa.missing").severity == Severity.INFO
    assert find(found, "topical.grams.missing").severity == Severity.INFO


def test_no_topical_limits_in_eu_catalogue():
    found = run(RUX, jurisdiction="EU", dose=None, topical_bsa_percent=D(50), topical_grams=D(500), topical_days=7)
    assert not {c for c in codes(found) if c.startswith("topical.")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("profile", "item"),
    [
        ({"tb_status": "latent_treated"}, "tuberculosis"),
        ({"hepatitis_b": "negative"}, "hepatitis B"),
        ({"egfr": D(80)}, "kidney"),
    ],
)
def test_screening_known_from_the_risk_profile_is_not_listed_missing(clinic, profile, item):
    # What is done comes from the record's one reading (patients.selectors.screening_status), not from the engine.
    facts = patient_facts(make_patient(clinic=clinic, risk=profile), today=dt.date(2026, 3, 2))
    found = run(BY_SLUG["baricitinib"], facts, "EU")
    assert item not in find(found, "screening.missing").message


def test_the_check_reads_what_is_done_from_screening_done_only():
    found = run(BY_SLUG["baricitinib"], patient(tb_status="negative", screening_done=ALL_SCREENING - {"tb"}), "EU")
    assert "tuberculosis" in find(found, "screening.missing").message
