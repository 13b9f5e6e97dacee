"""The label audit of 2026-12-02 (clinical reference §9), case by case, through the real catalogue.

The labels are the bundled seed plus its versioned update (drugs/data/updates/), loaded once per module into a
rolled-back transaction and turned into the engine's plain facts; the cases below then run without a database.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import transaction

from drugs.label import EU, US
from drugs.models import Drug, Medicine
from drugs.selectors import drug_label
from patients.facts import CourseTaken, MedicineTaken, OpenAlert
from tests.therapy.patient_facts import TODAY, codes, find, patient
from therapy.safety import Severity, check_safety

_CACHE: dict[str, tuple] = {}


@pytest.fixture
def catalogue(db):
    """{slug: DrugLabel} and {medicine name: (classes, dose class, limit)} of the loaded catalogue: loaded in the first
    test's (rolled-back) transaction, then kept as plain data for the module."""
    if "catalogue" not in _CACHE:
        with transaction.atomic():
            call_command("load_catalogue", verbosity=0)
            labels = {d.slug: drug_label(d) for d in Drug.objects.all()}
            medicines = {
                m.name: (
                    frozenset(c.code for c in m.classes.all()),
                    m.dose_class.code if m.dose_class else "",
                    m.dose_class_above_mg,
                )
                for m in Medicine.objects.select_related("dose_class").prefetch_related("classes")
            }
            transaction.set_rollback(True)
        _CACHE["catalogue"] = (labels, medicines)
    return _CACHE["catalogue"]


@pytest.fixture
def labels(catalogue):
    return catalogue[0]


@pytest.fixture
def takes(catalogue):
    from patients.facts import daily_mg_from_text

    def build(name: str, dose_text: str = "") -> tuple[MedicineTaken, ...]:
        classes, dose_class, limit = catalogue[1][name]
        return (MedicineTaken(name, dose_text, classes, daily_mg_from_text(dose_text), dose_class, limit),)

    return build


def run(label, p=None, jurisdiction=US, dose=None, purpose="start"):
    return check_safety(
        p or patient(), label, dose=dose, jurisdiction=jurisdiction, catalogue_version=7, today=TODAY, purpose=purpose
    )


def course(slug: str, name: str, route: str = "oral", status: str = "active") -> CourseTaken:
    return CourseTaken(drug_slug=slug, drug_name=name, route=route, drug_class="JAK inhibitor", status=status)


ORAL_JAK = [("upadacitinib", D(15)), ("baricitinib", D(2)), ("tofacitinib", D(5)), ("abrocitinib", D(100))]


# §9.1 The patient's own open courses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("jurisdiction", [US, EU])
@pytest.mark.parametrize(("slug", "dose"), ORAL_JAK[:3])
@pytest.mark.parametrize("status", ["active", "interrupted", "planned"])
def test_second_systemic_jak_inhibitor_is_contraindicated(labels, slug, dose, jurisdiction, status):
    p = patient(courses=(course("abrocitinib", "Abrocitinib", status=status),))
    finding = find(run(labels[slug], p, jurisdiction, dose), "therapy.second_jak.abrocitinib")
    assert finding.severity == Severity.CONTRAINDICATED
    assert "Abrocitinib is already open" in finding.message
    assert status in finding.message


def test_second_jak_is_checked_at_a_dose_change_too(labels):
    p = patient(courses=(course("upadacitinib", "Upadacitinib"),))
    finding = find(run(labels["abrocitinib"], p, US, D(200), purpose="dose_change"), "therapy.second_jak.upadacitinib")
    assert "before changing the dose of" in finding.message


def test_topical_jak_beside_an_oral_course_follows_the_label_row(labels):
    p = patient(courses=(course("abrocitinib", "Abrocitinib"),))
    finding = find(run(labels["ruxolitinib-cream"], p, US), "interaction.other_jak_inhibitor")
    assert finding.severity == Severity.CONTRAINDICATED
    assert "Abrocitinib course (active)" in finding.message


def test_the_same_drug_is_not_an_other_jak_inhibitor(labels, takes):
    assert "interaction.other_jak_inhibitor" not in codes(
        run(labels["abrocitinib"], patient(medicines=takes("abrocitinib")), US, D(100))
    )


COMBINED = [
    ("dupilumab", "interaction.biologic_immunomodulator"),
    ("azathioprine", "interaction.immunosuppressant"),
    ("mycophenolate", "interaction.immunosuppressant"),
    ("upadacitinib", "interaction.other_jak_inhibitor"),
    ("abrocitinib", "interaction.other_jak_inhibitor"),
]


@pytest.mark.parametrize("jurisdiction", [US, EU])
@pytest.mark.parametrize(
    ("slug", "dose", "medicine", "code"),
    [(slug, dose, medicine, code) for slug, dose in ORAL_JAK[::3] for medicine, code in COMBINED if medicine != slug],
)
def test_jak_with_biologic_or_potent_immunosuppressant_is_contraindicated(
    labels, takes, slug, dose, jurisdiction, medicine, code
):
    finding = find(run(labels[slug], patient(medicines=takes(medicine)), jurisdiction, dose), code)
    assert finding.severity == Severity.CONTRAINDICATED


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "dose"), [("baricitinib", US, D(2)), ("baricitinib", EU, D(2)), ("tofacitinib", US, D(5))]
)
def test_biologic_rules_reach_the_drugs_the_seed_missed(labels, takes, slug, jurisdiction, dose):
    finding = find(
        run(labels[slug], patient(medicines=takes("tralokinumab")), jurisdiction, dose),
        "interaction.biologic_immunomodulator",
    )
    assert finding.severity == Severity.CONTRAINDICATED


def test_open_alerts_are_findings(labels):
    p = patient(
        open_alerts=(
            OpenAlert(severity="urgent", title="Chest pain reported", raised_on=date(2026, 3, 1), ref="a1"),
            OpenAlert(severity="same_day", title="Fever reported", raised_on=date(2026, 3, 1), ref="a2"),
            OpenAlert(severity="routine", title="Routine", raised_on=date(2026, 3, 1), ref="a3"),
        )
    )
    findings = run(labels["upadacitinib"], p, US, D(15))
    assert find(findings, "alert.open.a1").severity == Severity.DO_NOT_START
    assert "Chest pain reported" in find(findings, "alert.open.a1").message
    assert find(findings, "alert.open.a2").severity == Severity.WARNING
    assert "alert.open.a3" not in codes(findings)


# §9.1 Interactions ---------------------------------------------------------------------------------------------------


def test_fluconazole_with_abrocitinib_us_is_avoid_not_50_mg(labels, takes):
    findings = run(labels["abrocitinib"], patient(medicines=takes("fluconazole", "200 mg once daily")), US, D(100))
    assert find(findings, "dose.class.moderate_strong_cyp2c9_inhibitor").severity == Severity.DO_NOT_START
    assert "dose.class.strong_cyp2c19_inhibitor" not in codes(findings)
    assert all(f.recommended_dose != D(50) for f in findings)


def test_fluconazole_with_abrocitinib_eu_still_halves(labels, takes):
    findings = run(labels["abrocitinib"], patient(medicines=takes("fluconazole", "200 mg")), EU, D(200))
    advice = find(findings, "dose.class.strong_cyp2c19_inhibitor")
    assert advice.severity == Severity.DOSE_ADVICE
    assert advice.recommended_dose == D(100)
    assert not codes(findings, Severity.DO_NOT_START)


@pytest.mark.parametrize(
    ("dose_text", "expected"),
    [
        ("325 mg once daily", Severity.CONTRAINDICATED),
        ("100mg", Severity.CONTRAINDICATED),
        ("300 mg daily", Severity.CONTRAINDICATED),
        ("81 mg", None),
        ("75 mg daily", None),
    ],
)
def test_aspirin_dose_decides_the_antiplatelet_rule(labels, takes, dose_text, expected):
    findings = run(labels["abrocitinib"], patient(medicines=takes("aspirin", dose_text)), US, D(100))
    if expected is None:
        assert "contraindication.antiplatelet_3m" not in codes(findings)
    else:
        assert find(findings, "contraindication.antiplatelet_3m").severity == expected
    assert "medicine.dose_needed.antiplatelet" not in codes(findings)


@pytest.mark.parametrize("dose_text", ["", "1 tablet", "as needed"])
def test_aspirin_without_a_readable_dose_asks_for_it(labels, takes, dose_text):
    findings = run(labels["abrocitinib"], patient(medicines=takes("aspirin", dose_text)), US, D(100))
    finding = find(findings, "medicine.dose_needed.antiplatelet")
    assert finding.severity == Severity.WARNING
    assert "81 mg" in finding.message
    assert "contraindication.antiplatelet_3m" not in codes(findings)


def test_aspirin_rule_is_us_only(labels, takes):
    assert not codes(run(labels["abrocitinib"], patient(medicines=takes("aspirin")), EU, D(100)), Severity.WARNING)


@pytest.mark.parametrize(
    ("slug", "medicine", "code"),
    [
        ("upadacitinib", "voriconazole", "dose.class.strong_cyp3a4_inhibitor"),
        ("upadacitinib", "carbamazepine", "dose.class.strong_cyp3a4_inducer"),
        ("abrocitinib", "apalutamide", "dose.class.strong_cyp2c19_cyp2c9_inducer"),
    ],
)
def test_fuller_class_members_fire(labels, takes, slug, medicine, code):
    dose = {"upadacitinib": D(15), "abrocitinib": D(100)}[slug]
    assert code in codes(run(labels[slug], patient(medicines=takes(medicine, "1 tablet daily")), US, dose))


# §9.2 Infections ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "dose"),
    [
        ("abrocitinib", D(100)),
        ("upadacitinib", D(15)),
        ("baricitinib", D(2)),
        ("tofacitinib", D(5)),
        ("ruxolitinib-cream", None),
        ("delgocitinib", None),
    ],
)
def test_active_serious_infection_is_avoid_in_the_us(labels, slug, dose):
    finding = find(
        run(labels[slug], patient(active_serious_infection=True), US, dose), "contraindication.active_serious_infection"
    )
    assert finding.severity == Severity.DO_NOT_START


@pytest.mark.parametrize(("slug", "dose"), [("abrocitinib", D(100)), ("upadacitinib", D(15))])
def test_active_serious_infection_stays_contraindicated_in_the_eu(labels, slug, dose):
    finding = find(
        run(labels[slug], patient(active_serious_infection=True), EU, dose), "contraindication.active_serious_infection"
    )
    assert finding.severity == Severity.CONTRAINDICATED


def test_delgocitinib_eu_has_no_infection_warning(labels):
    assert "contraindication.active_serious_infection" not in codes(
        run(labels["delgocitinib"], patient(active_serious_infection=True), EU)
    )


def test_immunocompromised_fires(labels):
    p = patient(immunocompromised=True)
    assert (
        find(run(labels["ruxolitinib-cream"], p, US), "contraindication.immunocompromised").severity
        == Severity.DO_NOT_START
    )
    caution = find(run(labels["abrocitinib"], p, EU, D(100)), "contraindication.immunocompromised")
    assert caution.severity == Severity.WARNING
    assert caution.unconfirmed


# §9.3 Doses by age and weight; every advised dose can be chosen; off-label doses ----------------------------------


def test_adolescent_45_kg_on_abrocitinib_200_mg_eu(labels):
    p = patient(age_years=14, weight_kg=D(45))
    finding = find(run(labels["abrocitinib"], p, EU, D(200)), "dose.band.escalation")
    assert finding.severity == Severity.WARNING
    assert "ages 12–17, 25 kg to under 59 kg" in finding.message
    assert "100 mg" in finding.message
    assert not codes(run(labels["abrocitinib"], p, EU, D(100)), Severity.WARNING)
    assert "dose.band.escalation" not in codes(run(labels["abrocitinib"], p, EU, D(200), purpose="dose_change"))


def test_adolescent_under_25_kg_gets_no_abrocitinib_dose_eu(labels):
    p = patient(age_years=13, weight_kg=D(22))
    assert labels["abrocitinib"].dose_options(EU, 13, D(22)) == []
    finding = find(run(labels["abrocitinib"], p, EU, D(100)), "dose.band")
    assert finding.severity == Severity.DO_NOT_START
    assert "no dose at this weight" in finding.message


@pytest.mark.parametrize(
    ("weight", "dose", "ok"),
    [(20, 4, False), (15, 4, False), (20, 2, True), (35, 4, True), (35, 2, True), (9, 2, False)],
)
def test_baricitinib_child_weight_bands_eu(labels, weight, dose, ok):
    p = patient(age_years=9, weight_kg=D(weight))
    findings = run(labels["baricitinib"], p, EU, D(dose))
    if ok:
        assert "dose.band" not in codes(findings)
    else:
        finding = find(findings, "dose.band")
        assert finding.severity == Severity.DO_NOT_START
        assert f"{dose} mg is not a Baricitinib dose for this patient (age 9, {weight} kg" in finding.message


def test_child_without_weight_is_asked_for_it(labels):
    finding = find(
        run(labels["baricitinib"], patient(age_years=9, weight_kg=None), EU, D(2)), "dose.band.weight_missing"
    )
    assert finding.severity == Severity.WARNING


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "advised"),
    [("abrocitinib", US, D(50)), ("abrocitinib", EU, D(50)), ("upadacitinib", US, D(15)), ("baricitinib", EU, D(2))],
)
def test_every_advised_dose_can_be_chosen(labels, slug, jurisdiction, advised):
    assert advised in {o.dose for o in labels[slug].dose_options(jurisdiction, 40, D(70))}


def test_egfr_45_on_abrocitinib_us_advises_a_dose_that_can_be_chosen(labels):
    findings = run(labels["abrocitinib"], patient(egfr=D(45)), US, D(200), purpose="dose_change")
    assert find(findings, "dose.renal").recommended_dose == D(50)
    assert find(findings, "dose.above_advice").severity == Severity.WARNING
    assert not codes(run(labels["abrocitinib"], patient(egfr=D(45)), US, D(50)), Severity.WARNING)


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "doses"), [("baricitinib", US, {1, 2, 4}), ("tofacitinib", EU, {5, 10, 11})]
)
def test_off_label_drugs_offer_their_other_label_doses(labels, slug, jurisdiction, doses):
    options = labels[slug].dose_options(jurisdiction, 40, D(70))
    assert {int(o.dose) for o in options} == doses
    assert all(o.off_label for o in options)
    findings = run(labels[slug], patient(), jurisdiction, options[-1].dose)
    assert "dose.not_in_catalogue" not in codes(findings)
    assert find(findings, "dose.off_label").severity == Severity.INFO
    assert find(findings, "status.not_approved").severity == Severity.WARNING


def test_every_offered_dose_passes_the_dose_check(labels):
    """The start page never offers a dose its own check refuses: every drug, jurisdiction and option."""
    for label in labels.values():
        for jurisdiction in (US, EU):
            for age, weight in ((40, D(70)), (14, D(45)), (14, D(65)), (9, D(20)), (9, D(35))):
                for option in label.dose_options(jurisdiction, age, weight):
                    findings = run(label, patient(age_years=age, weight_kg=weight), jurisdiction, option.dose)
                    refused = codes(findings) & {"dose.not_in_catalogue", "dose.band"}
                    assert not refused, (label.slug, jurisdiction, age, weight, option)


# §9.4 Kidney function by the label's measure ---------------------------------------------------------------------


def test_baricitinib_uses_creatinine_clearance(labels):
    # (140 - 70) × 50 / (72 × 1.2) × 0.85 = 34.4 mL/min: the 30-60 band, 2 mg (an eGFR of 95 would say nothing)
    p = patient(age_years=70, weight_kg=D(50), sex_at_birth="female", results={"creatinine": (D("1.2"), TODAY)})
    findings = run(labels["baricitinib"], p, EU, D(4))
    renal = find(findings, "dose.renal")
    assert renal.recommended_dose == D(2)
    assert "creatinine clearance (Cockcroft-Gault) 34.4 mL/min" in renal.message
    assert "34.4 mL/min" in find(findings, "dose.renal.crcl").message


def test_creatinine_clearance_without_creatinine_cannot_be_assessed(labels):
    finding = find(run(labels["baricitinib"], patient(), EU, D(4)), "dose.renal.crcl_missing")
    assert "a serum creatinine result" in finding.message


def test_tofacitinib_crcl_50_gives_5_mg_once_daily(labels):
    p = patient(age_years=80, weight_kg=D(60), sex_at_birth="male", results={"creatinine": (D("1.5"), TODAY)})
    # (140 - 80) × 60 / (72 × 1.5) = 33.3 mL/min
    assert find(run(labels["tofacitinib"], p, US, D(10)), "dose.renal").recommended_dose == D(5)


def test_upadacitinib_keeps_egfr(labels):
    finding = find(run(labels["upadacitinib"], patient(egfr=D(20)), US, D(30)), "dose.renal")
    assert "eGFR 20" in finding.message
    assert finding.recommended_dose == D(15)


# §9.6 Pregnancy: one relevance rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("relevant", "expected"), [(True, True), (False, False)])
def test_pregnancy_status_is_asked_only_when_relevant(labels, relevant, expected):
    p = patient(
        screening_done=frozenset({"tb", "hbv", "hcv", "cbc", "lipids", "liver", "kidney", "vaccines"}),
        pregnancy_test_relevant=relevant,
    )
    findings = run(labels["baricitinib"], p, EU, D(4))
    missing = [f for f in findings if f.code == "screening.missing"]
    asked = bool(missing) and "pregnancy" in missing[0].message
    assert asked is expected


# The clean patient and analyte names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sex", ["male", "female"])
def test_clean_patient_gets_nothing_above_info_where_the_label_has_a_dose(labels, sex):
    for label in labels.values():
        for jurisdiction in (US, EU):
            status = label.status(jurisdiction)
            options = [o for o in label.dose_options(jurisdiction, 40, D(70)) if not o.off_label]
            if status is None or status.status != "approved" or (label.is_systemic and not options):
                continue
            dose = options[0].dose if options else None
            p = patient(sex_at_birth=sex, results={"creatinine": (D("0.9"), TODAY)})
            above = [f for f in run(label, p, jurisdiction, dose) if f.severity > Severity.INFO]
            assert not above, (label.slug, jurisdiction, [f.code for f in above])


def test_findings_name_analytes_in_words(labels):
    findings = run(labels["abrocitinib"], patient(results={"anc": (D("0.8"), TODAY)}), US, D(100))
    assert "neutrophils (ANC)" in find(findings, "threshold.anc.baseline").message


# Found by an independent clinical review of this work -------------------------------------------------------------


def _frail_woman(creatinine="1.2"):
    # (140 - 80) × 50 / (72 × 1.2) × 0.85 = 29.5 mL/min
    return patient(age_years=80, weight_kg=D(50), sex_at_birth="female", results={"creatinine": (D(creatinine), TODAY)})


@pytest.mark.parametrize(("slug", "jurisdiction", "dose"), [("baricitinib", US, D(4)), ("tofacitinib", EU, D(5))])
def test_off_label_use_still_gets_the_kidney_rules_of_the_other_label(labels, slug, jurisdiction, dose):
    findings = run(labels[slug], _frail_woman(), jurisdiction, dose)
    assert "dose.rules_borrowed" in codes(findings)
    renal = find(findings, "dose.renal")
    assert "creatinine clearance (Cockcroft-Gault) 29.5 mL/min" in renal.message


def test_baricitinib_us_off_label_below_30_ml_min_is_not_recommended(labels):
    assert find(run(labels["baricitinib"], _frail_woman(), US, D(2)), "dose.renal").severity == Severity.DO_NOT_START


def test_tofacitinib_5_mg_twice_daily_is_above_5_mg_once_daily(labels):
    options = labels["tofacitinib"].dose_options(US, 80, D(50))
    assert (D(5), "once daily") in {(o.dose, o.frequency) for o in options}
    findings = check_safety(
        _frail_woman(),
        labels["tofacitinib"],
        dose=D(5),
        frequency="twice daily",
        jurisdiction=US,
        catalogue_version=7,
        today=TODAY,
    )
    above = find(findings, "dose.above_advice")
    assert "Chosen 5 mg twice daily is above the advised 5 mg once daily" in above.message
    once = check_safety(
        _frail_woman(),
        labels["tofacitinib"],
        dose=D(5),
        frequency="once daily",
        jurisdiction=US,
        catalogue_version=7,
        today=TODAY,
    )
    assert "dose.above_advice" not in codes(once)


def test_halving_to_a_dose_that_does_not_exist_is_a_warning_not_advice(labels, takes):
    findings = run(labels["abrocitinib"], patient(medicines=takes("fluconazole", "200 mg")), EU, D(50))
    halved = [f for f in findings if f.code.startswith("dose.class.")]
    assert len(halved) == 1
    assert halved[0].severity == Severity.WARNING
    assert "25 mg is not a dose of Abrocitinib that can be given" in halved[0].message
    assert "dose.above_advice" not in codes(findings)


def test_a_second_course_of_the_same_drug_is_a_finding(labels):
    p = patient(courses=(course("abrocitinib", "Abrocitinib"),))
    assert (
        find(run(labels["abrocitinib"], p, US, D(100)), "therapy.same_drug_open").severity == Severity.CONTRAINDICATED
    )


def test_adolescent_escalation_names_the_band_start_dose_only(labels):
    finding = find(
        run(labels["abrocitinib"], patient(age_years=14, weight_kg=D(45)), EU, D(200)), "dose.band.escalation"
    )
    assert "start with 100 mg and" in finding.message


def test_children_get_no_adult_creatinine_clearance(labels):
    p = patient(age_years=8, weight_kg=D(20), results={"creatinine": (D("0.5"), TODAY)})
    findings = run(labels["baricitinib"], p, EU, D(2))
    assert "dose.renal" not in codes(findings)
    assert find(findings, "dose.renal.crcl_child").unconfirmed


def test_avoid_with_fluconazole_is_said_once_and_in_plain_words(labels, takes):
    findings = run(labels["abrocitinib"], patient(medicines=takes("fluconazole", "200 mg")), US, D(100))
    assert "Abrocitinib is to be avoided (US)" in find(findings, "dose.class.moderate_strong_cyp2c9_inhibitor").message
    assert "interaction.moderate_strong_cyp2c9_inhibitor" not in codes(findings)
