"""The codes the CDS Hooks adapter reads from an EHR's prefetch, and what each means for the safety check.

Data only (no Django, no logic): ``interfaces.cds.prefetch`` applies it. Only codes whose meaning is certain are
listed; anything else is named back to the EHR in an info card as "not mapped", never guessed. SNOMED CT concept ids
(international edition) and ICD-10 (WHO, plus the ICD-10-CM codes marked CM). An ICD-10 entry matches the code and
every code below it (``I21`` matches ``I21.4``).
"""

from __future__ import annotations

from decimal import Decimal

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"

# What a condition stands for in the engine's facts. The adapter turns each into patient facts:
#   hypertension / diabetes / dyslipidaemia: a cardiovascular risk factor (patients.risk.CV_RISK_FACTOR_LABELS)
#   mi / stroke:          prior heart attack or stroke (also a CV risk factor, as in the risk profile)
#   dvt / pe / vte:       prior deep vein thrombosis / pulmonary embolism (vte: either, unspecified)
#   malignancy / nmsc:    cancer (non-melanoma skin cancer is counted apart, as the labels do [S19d])
#   malignancy_history:   past cancer
#   tb:                   active tuberculosis
#   hbv / hcv / hiv:      hepatitis B / hepatitis C / HIV infection
#   pregnancy:            pregnant now
#   renal / hepatic:      recognised, but the engine reads a number (eGFR) or a class (Child-Pugh), not a
#                         diagnosis: the card asks for the eGFR result or the Child-Pugh class instead
#   latent_tb:            recognised, but whether it was treated decides the rule: the card asks for it
SNOMED_CONDITIONS: dict[str, str] = {
    "38341003": "hypertension",  # Hypertensive disorder, systemic arterial
    "59621000": "hypertension",  # Essential hypertension
    "73211009": "diabetes",  # Diabetes mellitus
    "44054006": "diabetes",  # Diabetes mellitus type 2
    "46635009": "diabetes",  # Diabetes mellitus type 1
    "55822004": "dyslipidaemia",  # Hyperlipidaemia
    "22298006": "mi",  # Myocardial infarction
    "230690007": "stroke",  # Cerebrovascular accident
    "128053003": "dvt",  # Deep venous thrombosis
    "59282003": "pe",  # Pulmonary embolism
    "363346000": "malignancy",  # Malignant neoplastic disease
    "56717001": "tb",  # Tuberculosis
    "66071002": "hbv",  # Viral hepatitis type B
    "61977001": "hbv",  # Chronic type B viral hepatitis
    "50711007": "hcv",  # Viral hepatitis type C
    "128302006": "hcv",  # Chronic hepatitis C
    "86406008": "hiv",  # Human immunodeficiency virus infection
    "77386006": "pregnancy",  # Pregnancy
    "709044004": "renal",  # Chronic kidney disease
    "19943007": "hepatic",  # Cirrhosis of liver
}

ICD10_CONDITIONS: dict[str, str] = {
    "I10": "hypertension",  # Essential (primary) hypertension
    "I11": "hypertension",  # Hypertensive heart disease
    "I12": "hypertension",  # Hypertensive renal disease
    "I13": "hypertension",  # Hypertensive heart and renal disease
    "I15": "hypertension",  # Secondary hypertension
    "E10": "diabetes",  # Type 1 diabetes mellitus
    "E11": "diabetes",  # Type 2 diabetes mellitus
    "E78": "dyslipidaemia",  # Disorders of lipoprotein metabolism and other lipidaemias
    "I21": "mi",  # Acute myocardial infarction
    "I22": "mi",  # Subsequent myocardial infarction
    "I25.2": "mi",  # Old myocardial infarction
    "I63": "stroke",  # Cerebral infarction
    "I64": "stroke",  # Stroke, not specified as haemorrhage or infarction (WHO)
    "I26": "pe",  # Pulmonary embolism
    "I82.4": "dvt",  # Acute embolism and thrombosis of deep veins of lower extremity (CM)
    "Z86.71": "vte",  # Personal history of venous thrombosis and embolism (CM)
    "C44": "nmsc",  # Other malignant neoplasms of skin (non-melanoma)
    "Z85": "malignancy_history",  # Personal history of malignant neoplasm
    "A15": "tb",  # Respiratory tuberculosis
    "A16": "tb",
    "A17": "tb",  # Tuberculosis of nervous system
    "A18": "tb",  # Tuberculosis of other organs
    "A19": "tb",  # Miliary tuberculosis
    "Z22.7": "latent_tb",  # Latent tuberculosis (CM)
    "B16": "hbv",  # Acute hepatitis B
    "B18.0": "hbv",  # Chronic viral hepatitis B with delta-agent
    "B18.1": "hbv",  # Chronic viral hepatitis B without delta-agent
    "B17.1": "hcv",  # Acute hepatitis C
    "B18.2": "hcv",  # Chronic viral hepatitis C
    "B20": "hiv",  # HIV disease (CM; WHO B20-B24)
    "B21": "hiv",
    "B22": "hiv",
    "B23": "hiv",
    "B24": "hiv",
    "Z21": "hiv",  # Asymptomatic HIV infection status
    "Z33.1": "pregnancy",  # Pregnant state, incidental (CM)
    "N18": "renal",  # Chronic kidney disease
    "K74": "hepatic",  # Fibrosis and cirrhosis of liver
    "K70.3": "hepatic",  # Alcoholic cirrhosis of liver
}
# Malignant neoplasms C00-C97 (except C44, above) are "malignancy".
ICD10_MALIGNANCY_RANGE = ("C00", "C97")

# Condition kinds that stay true after the condition resolved (a healed heart attack is still a prior one).
HISTORY_KINDS = frozenset({"mi", "stroke", "dvt", "pe", "vte", "malignancy_history"})
# clinicalStatus codes of a condition the patient has now.
ACTIVE_STATUSES = frozenset({"active", "recurrence", "relapse"})
# verificationStatus codes that mean the condition is not the patient's.
NOT_THE_PATIENTS = frozenset({"refuted", "entered-in-error"})

# Tobacco smoking status (LOINC 72166-2) and its SNOMED answers (the US Core smoking status value set).
SMOKING_STATUS_LOINC = "72166-2"
SMOKING_ANSWERS: dict[str, str] = {
    "449868002": "current",  # Smokes tobacco daily
    "428041000124106": "current",  # Occasional tobacco smoker
    "77176002": "current",  # Smoker (current status unknown is not "never": counted as a smoker)
    "428071000124103": "current",  # Heavy tobacco smoker
    "428061000124105": "current",  # Light tobacco smoker
    "8517006": "former",  # Ex-smoker
    "266919005": "never",  # Never smoked tobacco
}
UNKNOWN_SMOKING_ANSWERS = frozenset({"266927001"})  # Tobacco smoking consumption unknown

# A coded lab result (TB IGRA, HBsAg, anti-HBc, HCV antibody, hCG): SNOMED qualifier values or the v3
# interpretation codes, as patients.screening reads them.
CODED_RESULTS: dict[tuple[str, str], str] = {
    (SNOMED, "10828004"): "positive",
    (SNOMED, "260385009"): "negative",
    (SNOMED, "82334004"): "indeterminate",
    (INTERPRETATION, "POS"): "positive",
    (INTERPRETATION, "NEG"): "negative",
    (INTERPRETATION, "IND"): "indeterminate",
}


# Body weight: "Body weight" (US Core vital signs) and "Body weight Measured". UCUM unit -> kg per unit.
BODY_WEIGHT_LOINCS = frozenset({"29463-7", "3141-9"})
BODY_WEIGHT_KG_PER_UNIT: dict[str, Decimal] = {
    "kg": Decimal(1),
    "g": Decimal("0.001"),
    "[lb_av]": Decimal("0.45359237"),
}
# The bounds the portal's own record accepts (patients.models.Patient.weight_kg); outside them it is not read.
BODY_WEIGHT_PLAUSIBLE_KG = (Decimal(2), Decimal(350))
