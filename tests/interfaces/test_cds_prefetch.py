"""The prefetch adapter, table by table: FHIR resources in, the safety engine's patient facts and notes out.

Pure: no database. The catalogue is built by hand with the rows the tests need.
"""

import datetime as dt
from decimal import Decimal as D

import pytest
from fhir.resources.R4B import get_fhir_model_class

from interfaces.cds import prefetch as P
from patients.risk import EU_LAST_RESORT, MALIGNANCY_RISK, SMOKER_ANY, US_CV_RISK_GROUP, VTE_RISK

TODAY = dt.date(2026, 12, 4)
SNOMED, ICD10, LOINC = "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm", "http://loinc.org"
CATALOGUE = P.CdsCatalogue(
    medicines=(
        P.CatalogueMedicine(name="clopidogrel", synonyms=("Plavix",), class_codes=frozenset({"antiplatelet"})),
        P.CatalogueMedicine(
            name="aspirin",
            synonyms=("acetylsalicylic acid", "ASA"),
            dose_class="antiplatelet",
            dose_class_above_mg=D(81),
        ),
    ),
    lab_tests={
        "2160-0": P.CatalogueLabTest(
            loinc="2160-0",
            analyte="creatinine",
            short_name="Creatinine",
            panel="kidney",
            coded=False,
            canonical_unit="mg/dL",
            units=(
                P.CatalogueUnit("mg/dL", "mg/dL"),
                P.CatalogueUnit("umol/L", "µmol/L", D(1), D("88.42")),
            ),
            plausible_min=D(0),
            plausible_max=D(40),
            reference_low=D("0.6"),
            reference_high=D("1.3"),
        ),
        "5196-1": P.CatalogueLabTest(
            loinc="5196-1", analyte="hbsag", short_name="HBsAg", panel="screening", coded=True
        ),
        "16933-4": P.CatalogueLabTest(
            loinc="16933-4", analyte="anti_hbc", short_name="Anti-HBc", panel="screening", coded=True
        ),
    },
)


def fhir(data: dict):
    return get_fhir_model_class(data["resourceType"]).model_validate(data)


def patient(birth="1968-03-01", gender="male"):
    return fhir({"resourceType": "Patient", "id": "p", "birthDate": birth, "gender": gender})


def condition(system, code, status="active", verification=None, display="Some condition"):
    data = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": system, "code": code, "display": display}]},
    }
    if status:
        data["clinicalStatus"] = {"coding": [{"code": status}]}
    if verification:
        data["verificationStatus"] = {"coding": [{"code": verification}]}
    return fhir(data)


def observation(loinc, **value):
    return fhir(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": loinc}]},
            "effectiveDateTime": "2026-11-20",
            **value,
        }
    )


def smoking_status(answer):
    return observation("72166-2", valueCodeableConcept={"coding": [{"system": SNOMED, "code": answer}]})


def statement(text, dose=""):
    data = {
        "resourceType": "MedicationStatement",
        "status": "active",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"text": text},
    }
    if dose:
        data["dosage"] = [{"text": dose}]
    return fhir(data)


def mapped(conditions=(), medications=(), observations=(), **kwargs):
    prefetch = P.Prefetch(
        patient=kwargs.pop("patient", patient()),
        conditions=list(conditions),
        medications=list(medications),
        observations=list(observations),
    )
    return P.map_prefetch(prefetch, CATALOGUE, today=TODAY, **kwargs)


def test_the_issue_case_gives_the_portal_badges():
    result = mapped([condition(SNOMED, "38341003")], observations=[smoking_status("449868002")])
    facts = result.facts
    assert (facts.age_years, facts.sex_at_birth, facts.smoking) == (58, "male", "current")
    assert facts.cv_risk_factors == {"hypertension"}
    assert facts.badges >= {US_CV_RISK_GROUP, SMOKER_ANY, EU_LAST_RESORT}


@pytest.mark.parametrize(
    ("system", "code", "check"),
    [
        (SNOMED, "38341003", lambda f: "hypertension" in f.cv_risk_factors),
        (ICD10, "I10", lambda f: "hypertension" in f.cv_risk_factors),
        (SNOMED, "22298006", lambda f: f.prior_mi_stroke and "coronary_disease" in f.cv_risk_factors),
        (ICD10, "I21.4", lambda f: f.prior_mi_stroke),
        (SNOMED, "230690007", lambda f: f.prior_mi_stroke and "stroke" in f.cv_risk_factors),
        (SNOMED, "128053003", lambda f: f.clots.dvt and VTE_RISK in f.badges),
        (ICD10, "I26.99", lambda f: f.clots.pe),
        (SNOMED, "363346000", lambda f: f.cancer == "active" and MALIGNANCY_RISK in f.badges),
        (ICD10, "C50.911", lambda f: f.cancer == "active"),
        (ICD10, "C44.91", lambda f: f.cancer == "nmsc_only" and MALIGNANCY_RISK not in f.badges),
        (ICD10, "Z85.3", lambda f: f.cancer == "past"),
        (SNOMED, "56717001", lambda f: f.tb_status == "active"),
        (ICD10, "A15.0", lambda f: f.tb_status == "active"),
        (SNOMED, "61977001", lambda f: f.hbv == "positive"),
        (ICD10, "B18.2", lambda f: f.hcv == "positive"),
        (SNOMED, "77386006", lambda f: f.pregnant),
        (ICD10, "Z33.1", lambda f: f.pregnant),
    ],
)
def test_condition_codes_map_to_the_engine_facts(system, code, check):
    result = mapped([condition(system, code)])
    assert check(result.facts)
    assert P.UNMAPPED not in result.notes


def test_hiv_counts_in_the_infection_badge():
    assert "INFECTION_RISK" in mapped([condition(ICD10, "B20")]).facts.badges


def test_an_unknown_condition_code_is_named_and_changes_nothing():
    result = mapped([condition(SNOMED, "24079001", display="Atopic dermatitis")])
    assert result.notes[P.UNMAPPED] == ("Condition Atopic dermatitis (24079001): code not known to the portal",)
    assert result.facts.badges == frozenset()
    assert not result.facts.cv_risk_factors


def test_a_code_of_another_system_is_not_read_as_snomed():
    assert P.UNMAPPED in mapped([condition("http://example.org/local", "38341003")]).notes


def test_resolved_conditions_count_only_as_history():
    result = mapped(
        [
            condition(SNOMED, "38341003", status="resolved"),
            condition(SNOMED, "22298006", status="resolved"),
            condition(SNOMED, "363346000", status="remission"),
            condition(SNOMED, "77386006", status="inactive"),
        ]
    )
    facts = result.facts
    assert "hypertension" not in facts.cv_risk_factors
    assert facts.prior_mi_stroke
    assert facts.cancer == "past"
    assert not facts.pregnant


def test_refuted_and_mistaken_conditions_are_ignored():
    result = mapped(
        [
            condition(SNOMED, "38341003", verification="refuted"),
            condition(SNOMED, "56717001", verification="entered-in-error"),
        ]
    )
    assert not result.facts.cv_risk_factors
    assert result.facts.tb_status == "never_tested"


def test_chronic_kidney_disease_asks_for_the_egfr():
    result = mapped([condition(ICD10, "N18.3")])
    assert result.facts.egfr is None
    assert any("eGFR" in note for note in result.notes[P.MISSING])


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("449868002", "current"), ("428041000124106", "current"), ("8517006", "former"), ("266919005", "never")],
)
def test_smoking_status_answers(answer, expected):
    result = mapped(observations=[smoking_status(answer)])
    assert result.facts.smoking == expected
    assert not any("smoking" in n.lower() for notes in result.notes.values() for n in notes)


def test_no_smoking_status_is_said_and_the_engine_default_is_named():
    result = mapped()
    assert any("No smoking status" in note for note in result.notes[P.MISSING])
    assert SMOKER_ANY not in result.facts.badges


def test_smoker_status_unknown_is_read_as_current_and_said_so():
    result = mapped(observations=[smoking_status("77176002")])
    assert result.facts.smoking == "current"
    assert result.notes[P.ASSUMED]


def test_keys_the_ehr_did_not_send_are_listed():
    prefetch = P.Prefetch(patient=patient())
    result = P.map_prefetch(prefetch, CATALOGUE, today=TODAY)
    missing = " ".join(result.notes[P.MISSING])
    for key in ("conditions", "medications", "observations"):
        assert f"No {key} in the prefetch" in missing


def test_a_lab_result_in_si_units_is_converted_to_the_canonical_unit():
    creatinine = observation(
        "2160-0", valueQuantity={"value": 80, "unit": "umol/L", "system": "http://unitsofmeasure.org", "code": "umol/L"}
    )
    result = mapped(observations=[creatinine])
    value, on = result.facts.latest_results["creatinine"]
    assert value == D("0.9048")  # 80 / 88.42, stored to 4 places (clinical reference §9.8)
    assert on == dt.date(2026, 11, 20)
    assert "kidney" in result.facts.screening_done


@pytest.mark.parametrize(
    ("quantity", "note"),
    [
        ({"value": 80, "unit": "mmol/L", "code": "mmol/L"}, "unit not accepted"),
        ({"value": 900, "unit": "mg/dL", "code": "mg/dL"}, "plausible"),
        ({"unit": "mg/dL", "code": "mg/dL"}, "numeric value"),
    ],
)
def test_a_lab_result_that_cannot_be_read_is_not_used_and_is_named(quantity, note):
    result = mapped(observations=[observation("2160-0", valueQuantity=quantity)])
    assert "creatinine" not in result.facts.latest_results
    assert any(note in n for n in result.notes[P.UNMAPPED])


def test_coded_serology_answers_the_screening_items():
    negative = {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "260385009"}]}}
    result = mapped(observations=[observation("5196-1", **negative), observation("16933-4", **negative)])
    assert result.facts.hbv == "negative"
    assert "hbv" in result.facts.screening_done


def test_a_positive_marker_is_positive_hepatitis_b():
    positive = {
        "interpretation": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "POS"}
                ]
            }
        ]
    }
    result = mapped(observations=[observation("16933-4", **positive)])
    assert result.facts.hbv == "positive"


def test_an_unknown_observation_is_named():
    result = mapped(observations=[observation("8480-6", valueQuantity={"value": 150, "code": "mm[Hg]"})])
    assert any("not a catalogue test" in n for n in result.notes[P.UNMAPPED])


def test_medicines_are_matched_by_name_or_brand_with_their_classes():
    result = mapped(medications=[statement("clopidogrel 75 MG Oral Tablet"), statement("Plavix 75 mg")])
    assert [m.name for m in result.facts.medicines] == ["clopidogrel", "clopidogrel"]
    assert "antiplatelet" in result.facts.class_codes


def test_aspirin_counts_as_an_antiplatelet_only_above_its_dose():
    low = mapped(medications=[statement("aspirin 81 MG Oral Tablet", dose="81 mg once daily")]).facts
    high = mapped(medications=[statement("aspirin 325 MG Oral Tablet", dose="325 mg once daily")]).facts
    assert "antiplatelet" not in low.class_codes
    assert "antiplatelet" in high.class_codes


def test_a_word_inside_another_is_no_match():
    assert P.match_medicine(["Aspirinex compound"], CATALOGUE) is None
    assert P.match_medicine(["ASA 81 mg"], CATALOGUE).name == "aspirin"


def test_stopped_medications_do_not_count_and_unknown_ones_are_named():
    stopped = statement("clopidogrel 75 mg")
    stopped.status = "stopped"
    result = mapped(medications=[stopped, statement("cetirizine 10 mg")])
    assert result.facts.medicines == ()
    assert any("cetirizine" in n for n in result.notes[P.UNMAPPED])


def test_a_draft_order_signed_with_the_jak_inhibitor_counts_as_a_medicine():
    order = fhir(
        {
            "resourceType": "MedicationRequest",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": "Patient/p"},
            "medicationCodeableConcept": {"text": "clopidogrel 75 mg tablet"},
            "dosageInstruction": [
                {
                    "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                    "doseAndRate": [{"doseQuantity": {"value": 75, "unit": "mg"}}],
                }
            ],
        }
    )
    facts = mapped(other_orders=[order]).facts
    assert facts.medicines[0].daily_mg == D(75)
    assert "antiplatelet" in facts.class_codes


def test_a_partial_birth_date_is_refused():
    with pytest.raises(P.PrefetchError, match="birthDate"):
        mapped(patient=patient(birth="1968"))


def test_no_gender_is_said():
    result = mapped(patient=fhir({"resourceType": "Patient", "birthDate": "1990-01-01"}))
    assert result.facts.sex_at_birth == ""
    assert any("Sex" in note for note in result.notes[P.MISSING])


def weight(value, code="kg", loinc="29463-7", when="2026-11-20"):
    quantity = {"value": value, "unit": code, "system": "http://unitsofmeasure.org", "code": code}
    return observation(loinc, valueQuantity=quantity, effectiveDateTime=when)


@pytest.mark.parametrize(
    ("obs", "kg"),
    [
        (weight(41.5), D("41.5")),
        (weight(41500, "g"), D("41.5")),
        (weight(100, "[lb_av]"), D("45.4")),
        (weight(38, loinc="3141-9"), D("38")),  # "Body weight Measured", as some EHRs code it
    ],
)
def test_body_weight_is_read_in_kg(obs, kg):
    result = mapped(observations=[obs])
    assert result.facts.weight_kg == kg
    assert "body weight" in result.mapped


def test_the_latest_weight_counts():
    result = mapped(observations=[weight(40, when="2026-11-25"), weight(30, when="2026-01-02")])
    assert result.facts.weight_kg == D("40")


@pytest.mark.parametrize("obs", [weight(41, "stone"), weight(0.5), weight(900)])
def test_a_weight_in_an_unknown_unit_or_implausible_is_not_used(obs):
    result = mapped(observations=[obs])
    assert result.facts.weight_kg is None
    assert any("Body weight" in n for n in result.notes[P.UNMAPPED])


def test_no_weight_of_an_adolescent_is_a_missing_note_not_a_guess():
    result = mapped(observations=[smoking_status("449868002")], patient=patient(birth="2012-01-10"))
    assert result.facts.weight_kg is None
    assert any("weight" in n.lower() for n in result.notes[P.MISSING])
