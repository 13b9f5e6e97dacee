"""The issue's acceptance cases for the safety check."""

from decimal import Decimal as D

from patients.risk import SMOKER_ANY, US_CV_RISK_GROUP
from tests.therapy.drug_labels import ABROCITINIB, BARICITINIB, GUSACITINIB
from tests.therapy.patient_facts import find, on, patient, run
from therapy.safety import Severity
from therapy.thresholds import check_result


def test_abrocitinib_58_year_old_smoker_with_hypertension_gets_boxed_warnings_us():
    p = patient(
        age_years=58,
        smoking="current",
        cv_risk_factors=frozenset({"hypertension"}),
        badges=frozenset({US_CV_RISK_GROUP, SMOKER_ANY}),
    )
    findings = run(ABROCITINIB, p)
    for code in ("boxed.us_cv_risk_group", "boxed.smoker"):
        assert find(findings, code).needs_acknowledgement
        assert find(findings, code).source == "[S5][S6]"


def test_abrocitinib_on_clopidogrel_is_contraindicated_us():
    findings = run(ABROCITINIB, patient(medicines=on("antiplatelet", name="clopidogrel")))
    finding = find(findings, "contraindication.antiplatelet_3m")
    assert finding.severity == Severity.CONTRAINDICATED
    assert "clopidogrel" in finding.message
    assert findings[0] == finding


def test_abrocitinib_egfr_45_advises_50_mg_us():
    finding = find(run(ABROCITINIB, patient(egfr=D(45))), "dose.renal")
    assert (finding.severity, finding.recommended_dose) == (Severity.DOSE_ADVICE, D(50))


def test_abrocitinib_platelets_45_on_treatment_means_discontinue():
    [finding] = check_result("platelets", D(45), ABROCITINIB, "US", True, 7)
    assert (finding.severity, finding.action, finding.urgent) == (Severity.CONTRAINDICATED, "discontinue", True)


def test_abrocitinib_baseline_platelets_140_do_not_start():
    finding = find(run(ABROCITINIB, patient(results={"platelets": (D(140), None)})), "threshold.platelets.baseline")
    assert finding.severity == Severity.DO_NOT_START
    assert "140" in finding.message
    assert "150" in finding.message


def test_abrocitinib_anc_1_1_blocks_start_in_eu_only():
    p = patient(results={"anc": (D("1.1"), None)})
    assert find(run(ABROCITINIB, p, "EU"), "threshold.anc.baseline").severity == Severity.DO_NOT_START
    assert not [f for f in run(ABROCITINIB, p, "US") if f.code.startswith("threshold.anc")]


def test_baricitinib_in_us_is_off_label_warning():
    assert find(run(BARICITINIB, dose=None), "status.not_approved").severity == Severity.WARNING


def test_gusacitinib_is_do_not_start():
    for jurisdiction in ("US", "EU"):
        assert find(run(GUSACITINIB, jurisdiction=jurisdiction), "status.investigational").blocks_start
