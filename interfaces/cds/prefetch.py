"""The one adapter from a CDS Hooks prefetch (FHIR R4 resources) to the safety engine's ``PatientFacts``.

Pure (no Django): the catalogue it needs (medicines and their classes, lab tests and their units) comes in as plain
data (``CdsCatalogue``, built by ``interfaces.cds.selectors``). The portal's own adapter,
``patients.selectors.patient_facts``, fills the same dataclass from the record; this one reads the EHR's resources.
Everything it cannot read is returned as a note (``MappedPrefetch.notes``), shown to the prescriber in an info
card: a value is never guessed, and a missing one keeps the engine's "not known" default.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from drugs import units
from interfaces.cds import codes as C
from patients import risk, screening
from patients.facts import ClotHistory, MedicineTaken, PatientFacts, daily_mg_from_text
from therapy.safety import ADULT_AGE_YEARS

# Note groups, one info card each.
UNMAPPED = "unmapped"  # sent, but with a code or unit the portal does not know
MISSING = "missing"  # not sent at all
ASSUMED = "assumed"  # read, with an interpretation the prescriber should know


class PrefetchError(ValueError):
    """The prefetch lacks what the check cannot run without (the patient's full birth date)."""


@dataclass(frozen=True)
class CatalogueMedicine:
    name: str
    synonyms: tuple[str, ...] = ()
    class_codes: frozenset[str] = frozenset()
    dose_class: str = ""
    dose_class_above_mg: Decimal | None = None

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(t.lower() for t in (self.name, *self.synonyms) if t)


@dataclass(frozen=True)
class CatalogueUnit:
    code: str  # UCUM
    label: str
    factor: Decimal = Decimal(1)
    divisor: Decimal = Decimal(1)


@dataclass(frozen=True)
class CatalogueLabTest:
    loinc: str
    analyte: str
    short_name: str
    panel: str
    coded: bool  # positive / negative results (screening serology), not a quantity
    canonical_unit: str = ""
    units: tuple[CatalogueUnit, ...] = ()
    plausible_min: Decimal | None = None
    plausible_max: Decimal | None = None
    reference_low: Decimal | None = None
    reference_high: Decimal | None = None

    def unit_for(self, code: str) -> CatalogueUnit | None:
        """The accepted unit by its UCUM code, else by a loose but unambiguous match (as ``LabTest.unit_for``)."""
        wanted = code.strip() or self.canonical_unit
        exact = next((u for u in self.units if wanted in (u.code, u.label)), None)
        if exact is not None:
            return exact
        key = units.unit_key(wanted)
        loose = [u for u in self.units if key in (units.unit_key(u.code), units.unit_key(u.label))]
        return loose[0] if len(loose) == 1 else None


@dataclass(frozen=True)
class CdsCatalogue:
    medicines: tuple[CatalogueMedicine, ...] = ()
    lab_tests: Mapping[str, CatalogueLabTest] = field(default_factory=dict)  # by LOINC code


@dataclass(frozen=True)
class Prefetch:
    """The prefetched resources, as ``fhir.resources`` R4B models. ``None`` for a key the EHR did not send."""

    patient: Any
    conditions: Sequence[Any] | None = None
    medications: Sequence[Any] | None = None
    observations: Sequence[Any] | None = None
    # Medication resources the orders and medications may point to (medicationReference), by reference:
    # "Medication/<id>" and the Bundle entry's fullUrl. Contained ones ("#id") are found on the resource itself.
    medication_resources: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MappedPrefetch:
    facts: PatientFacts
    notes: Mapping[str, tuple[str, ...]]
    mapped: tuple[str, ...] = ()  # what was read, in words (no values), for the card detail


def _codings(concept: Any) -> list[tuple[str, str, str]]:
    if concept is None:
        return []
    return [(c.system or "", c.code or "", c.display or "") for c in (concept.coding or [])]


def _concept_words(concept: Any) -> str:
    """A code's words for a note: the text, else the first display, else system|code."""
    if concept is None:
        return "(no code)"
    if concept.text:
        return concept.text
    for system, code, display in _codings(concept):
        if display:
            return f"{display} ({code})" if code else display
        if code:
            return f"{system}|{code}"
    return "(no code)"


def condition_kind(system: str, code: str) -> str | None:
    """What a SNOMED or ICD-10 condition code stands for (``codes.SNOMED_CONDITIONS`` / ``ICD10_CONDITIONS``)."""
    if system == C.SNOMED:
        return C.SNOMED_CONDITIONS.get(code)
    if system not in (C.ICD10, C.ICD10_CM):
        return None
    code = code.strip().upper()
    for length in range(len(code), 2, -1):  # the most specific listed code first: C44.9 -> C44 before "C"
        kind = C.ICD10_CONDITIONS.get(code[:length].rstrip("."))
        if kind is not None:
            return kind
    low, high = C.ICD10_MALIGNANCY_RANGE
    if len(code) >= 3 and code[0] == "C" and low <= code[:3] <= high:
        return "malignancy"
    return None


def _status_code(concept: Any) -> str:
    return next((code for _system, code, _display in _codings(concept)), "")


def _age(birth: Any, today: dt.date) -> int:
    if not isinstance(birth, dt.date):
        raise PrefetchError("prefetch.patient needs a full birthDate (YYYY-MM-DD): the safety check depends on age.")
    return risk.age_on(birth, today) or 0


@dataclass
class _Reading:
    """What the adapter collects before it builds the frozen facts."""

    kinds: set[str] = field(default_factory=set)
    resolved_cancer: bool = False
    smoking: str = ""
    weight: tuple[Decimal, dt.date] | None = None
    medicines: list[MedicineTaken] = field(default_factory=list)
    results: dict[str, tuple[Decimal, dt.date]] = field(default_factory=dict)
    evidence: list[screening.Evidence] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=lambda: {UNMAPPED: [], MISSING: [], ASSUMED: []})
    mapped: list[str] = field(default_factory=list)


def _read_conditions(conditions: Iterable[Any], reading: _Reading) -> None:
    for condition in conditions:
        if _status_code(condition.verificationStatus) in C.NOT_THE_PATIENTS:
            continue
        status = _status_code(condition.clinicalStatus)
        kinds = {k for system, code, _d in _codings(condition.code) if (k := condition_kind(system, code))}
        if not kinds:
            reading.notes[UNMAPPED].append(f"Condition {_concept_words(condition.code)}: code not known to the portal")
            continue
        for kind in kinds:
            if status and status not in C.ACTIVE_STATUSES and kind not in C.HISTORY_KINDS:
                if kind == "malignancy":
                    reading.resolved_cancer = True
                continue  # a resolved hypertension or an old pregnancy is not the patient's now
            reading.kinds.add(kind)


def _smoking_answer(observation: Any, reading: _Reading) -> None:
    answers = [code for system, code, _d in _codings(observation.valueCodeableConcept) if system == C.SNOMED]
    smoking = next((C.SMOKING_ANSWERS[a] for a in answers if a in C.SMOKING_ANSWERS), "")
    if smoking:
        reading.smoking = smoking
        reading.mapped.append("smoking status")
        if "77176002" in answers:
            reading.notes[ASSUMED].append("Smoking status 'smoker, current status unknown' is read as a current smoker")
    elif any(a in C.UNKNOWN_SMOKING_ANSWERS for a in answers):
        reading.notes[MISSING].append("Smoking status is recorded as unknown: smoking risk rules use 'never'")
    else:
        reading.notes[UNMAPPED].append(
            f"Smoking status {_concept_words(observation.valueCodeableConcept)}: answer not known to the portal"
        )


def _body_weight(observation: Any, reading: _Reading, today: dt.date) -> None:
    quantity = observation.valueQuantity
    code = (quantity.code or quantity.unit or "") if quantity is not None else ""
    per_unit = C.BODY_WEIGHT_KG_PER_UNIT.get(code)
    if quantity is None or quantity.value is None or per_unit is None:
        reading.notes[UNMAPPED].append(f"Body weight in {code or 'no unit'}: send it in kg, g or [lb_av]")
        return
    kg = (Decimal(quantity.value) * per_unit).quantize(Decimal("0.1"))
    low, high = C.BODY_WEIGHT_PLAUSIBLE_KG
    if not low <= kg <= high:
        reading.notes[UNMAPPED].append("Body weight: value outside the plausible range, not used")
        return
    on = _observation_date(observation, today)
    if reading.weight is None or reading.weight[1] <= on:
        reading.weight = (kg, on)
    reading.mapped.append("body weight")


def _observation_date(observation: Any, today: dt.date) -> dt.date:
    when = observation.effectiveDateTime or (observation.effectivePeriod and observation.effectivePeriod.start)
    if isinstance(when, dt.datetime):
        return when.date()
    if isinstance(when, dt.date):
        return when
    return today


def _coded_value(observation: Any) -> str:
    concepts = [observation.valueCodeableConcept, *(observation.interpretation or [])]
    for concept in concepts:
        for system, code, _d in _codings(concept):
            if (system, code) in C.CODED_RESULTS:
                return C.CODED_RESULTS[(system, code)]
    return ""


def _lab_value(test: CatalogueLabTest, observation: Any, reading: _Reading) -> Decimal | None:
    quantity = observation.valueQuantity
    if quantity is None or quantity.value is None:
        reading.notes[UNMAPPED].append(f"{test.short_name} result without a numeric value")
        return None
    unit = test.unit_for(quantity.code or quantity.unit or "")
    if unit is None:
        shown = quantity.code or quantity.unit or "no unit"
        reading.notes[UNMAPPED].append(f"{test.short_name} in {shown}: unit not accepted for this test")
        return None
    try:
        value = units.to_canonical(Decimal(quantity.value), unit.factor, unit.divisor)
    except units.EntryError:
        reading.notes[UNMAPPED].append(f"{test.short_name}: value cannot be read")
        return None
    problem = units.plausibility_error(
        value,
        factor=unit.factor,
        divisor=unit.divisor,
        unit_label=unit.label,
        test_name=test.short_name,
        plausible_min=test.plausible_min,
        plausible_max=test.plausible_max,
    )
    if problem:
        reading.notes[UNMAPPED].append(f"{test.short_name}: value outside the plausible range, not used")
        return None
    return value


def _read_observations(observations: Iterable[Any], catalogue: CdsCatalogue, reading: _Reading, today: dt.date) -> None:
    panels: dict[str, dict[dt.date, list[tuple[str, str]]]] = {}
    for observation in observations:
        if observation.status in ("entered-in-error", "cancelled", "preliminary", "registered"):
            continue
        loincs = [code for system, code, _d in _codings(observation.code) if system == C.LOINC]
        if C.SMOKING_STATUS_LOINC in loincs:
            _smoking_answer(observation, reading)
            continue
        if C.BODY_WEIGHT_LOINCS.intersection(loincs):
            _body_weight(observation, reading, today)
            continue
        test = next((catalogue.lab_tests[c] for c in loincs if c in catalogue.lab_tests), None)
        if test is None:
            reading.notes[UNMAPPED].append(f"Observation {_concept_words(observation.code)}: not a catalogue test")
            continue
        on = _observation_date(observation, today)
        if test.coded:
            coded = _coded_value(observation)
            if not coded:
                reading.notes[UNMAPPED].append(f"{test.short_name}: result not coded as positive/negative")
                continue
            evidence = screening.coded_lab_evidence(
                analyte=test.analyte, short_name=test.short_name, coded_value=coded, coded_label=coded, on=on
            )
            if evidence is not None:
                reading.evidence.append(evidence)
            reading.mapped.append(test.short_name)
            continue
        value = _lab_value(test, observation, reading)
        if value is None:
            continue
        if test.analyte not in reading.results or reading.results[test.analyte][1] <= on:
            reading.results[test.analyte] = (value, on)
        flag = units.reference_flag(value, test.reference_low, test.reference_high).code
        panels.setdefault(test.panel, {}).setdefault(on, []).append((test.short_name, flag))
        reading.mapped.append(test.short_name)
    for panel, days in panels.items():
        day = max(days)
        evidence = screening.panel_lab_evidence(panel=panel, on=day, tests=days[day])
        if evidence is not None:
            reading.evidence.append(evidence)


_WORD = re.compile(r"[a-z0-9]+")


def match_medicine(texts: Iterable[str], catalogue: CdsCatalogue) -> CatalogueMedicine | None:
    """The catalogue medicine a medication names (its code's display or its text): a name or brand name that is
    a whole word or words of it ("clopidogrel 75 MG Oral Tablet" is clopidogrel). RxNorm codes are not in the
    medicine catalogue, so a medication is matched by name only."""
    for text in texts:
        words = " " + " ".join(_WORD.findall(text.lower())) + " "
        for medicine in catalogue.medicines:
            if any(f" {' '.join(_WORD.findall(term))} " in words for term in medicine.terms):
                return medicine
    return None


@dataclass(frozen=True)
class _TextOnly:
    """A medicine known only by the text of its reference (``medicationReference.display``)."""

    text: str
    coding: tuple[()] = ()


def medication_concept(resource: Any, medications: Mapping[str, Any] | None = None) -> Any:
    """The code of the medicine a MedicationStatement or MedicationRequest names: its medicationCodeableConcept,
    else the code of the Medication its medicationReference points to (contained, or one of ``medications``),
    with the reference's display as text when that code has none; None when nothing names it."""
    concept = resource.medicationCodeableConcept
    if concept is not None:
        return concept
    reference = resource.medicationReference
    if reference is None:
        return None
    target = reference.reference or ""
    medication = None
    if target.startswith("#"):
        medication = next(
            (c for c in resource.contained or [] if c.get_resource_type() == "Medication" and c.id == target[1:]),
            None,
        )
    elif target:
        known = medications or {}
        medication = known.get(target) or known.get("/".join(target.rsplit("/", 2)[-2:]))
    code = medication.code if medication is not None else None
    if code is not None and (code.text or code.coding):
        if not code.text and reference.display:
            return _MergedConcept(text=reference.display, coding=tuple(code.coding or ()))
        return code
    return _TextOnly(text=reference.display) if reference.display else None


@dataclass(frozen=True)
class _MergedConcept:
    text: str
    coding: tuple[Any, ...]


def medication_texts(resource: Any, medications: Mapping[str, Any] | None = None) -> list[str]:
    """The names a MedicationStatement or MedicationRequest gives its medicine (code text and displays)."""
    concept = medication_concept(resource, medications)
    if concept is None:
        return []
    return [t for t in (concept.text, *(d for _s, _c, d in _codings(concept))) if t]


def dose_text(resource: Any) -> str:
    """The dose as written ("75 mg once daily"), else built from the structured dose ("75 mg, 1 per 1 d")."""
    dosages = getattr(resource, "dosage", None) or getattr(resource, "dosageInstruction", None) or []
    for dosage in dosages:
        if dosage.text:
            return dosage.text
        for dose_rate in dosage.doseAndRate or []:
            quantity = dose_rate.doseQuantity
            if quantity is None or quantity.value is None or (quantity.code or quantity.unit or "").lower() != "mg":
                continue
            repeat = dosage.timing and dosage.timing.repeat
            if repeat and repeat.frequency and repeat.period == 1 and repeat.periodUnit == "d":
                times = {1: "once daily", 2: "twice daily", 3: "three times daily", 4: "four times daily"}
                return f"{quantity.value} mg {times.get(repeat.frequency, '')}".strip()
            return f"{quantity.value} mg"
    return ""


def medicine_taken(
    resource: Any, catalogue: CdsCatalogue, reading: _Reading, medications: Mapping[str, Any] | None = None
) -> None:
    """A medication the patient takes (or is being ordered) as the engine's ``MedicineTaken``."""
    texts = medication_texts(resource, medications)
    medicine = match_medicine(texts, catalogue)
    written = dose_text(resource)
    if medicine is None:
        name = texts[0] if texts else "(medication without a name)"
        reading.notes[UNMAPPED].append(f"Medication {name}: not in the portal's list of interacting medicines")
        return
    reading.medicines.append(
        MedicineTaken(
            name=medicine.name,
            dose_text=written,
            class_codes=medicine.class_codes,
            daily_mg=daily_mg_from_text(written),
            dose_class=medicine.dose_class,
            dose_class_above_mg=medicine.dose_class_above_mg,
        )
    )
    reading.mapped.append(medicine.name)


def _read_medications(
    medications: Iterable[Any], catalogue: CdsCatalogue, reading: _Reading, known: Mapping[str, Any]
) -> None:
    for resource in medications:
        if resource.status in ("stopped", "completed", "entered-in-error", "not-taken", "cancelled", "revoked"):
            continue
        medicine_taken(resource, catalogue, reading, known)


def map_prefetch(
    prefetch: Prefetch, catalogue: CdsCatalogue, *, today: dt.date, other_orders: Sequence[Any] = ()
) -> MappedPrefetch:
    """The patient facts the prefetch gives, and notes on what it does not. ``other_orders`` are the draft
    MedicationRequests signed together with the checked one: they count as medicines the patient will take."""
    reading = _Reading()
    patient = prefetch.patient
    age = _age(patient.birthDate, today)
    sex = {"female": "female", "male": "male"}.get(patient.gender or "", "")
    if not sex:
        reading.notes[MISSING].append("Sex (Patient.gender male or female): the pregnancy rules cannot be applied")
    for key, resources in (
        ("conditions", prefetch.conditions),
        ("medications", prefetch.medications),
        ("observations", prefetch.observations),
    ):
        if resources is None:
            reading.notes[MISSING].append(f"No {key} in the prefetch: none are assumed")
    _read_conditions(prefetch.conditions or (), reading)
    _read_medications(prefetch.medications or (), catalogue, reading, prefetch.medication_resources)
    for order in other_orders:
        medicine_taken(order, catalogue, reading, prefetch.medication_resources)
    _read_observations(prefetch.observations or (), catalogue, reading, today)
    if not reading.smoking:
        reading.notes[MISSING].append("No smoking status (LOINC 72166-2): the smoking rules use 'never smoked'")
    if reading.weight is None and age < ADULT_AGE_YEARS:
        reading.notes[MISSING].append("No body weight (LOINC 29463-7): the adolescent weight and dose rules lack it")
    kinds = reading.kinds
    for kind, words in (
        ("renal", "Chronic kidney disease is recorded: the dose rules need an eGFR result (LOINC 98979-8)"),
        ("hepatic", "Liver cirrhosis is recorded: the liver rules need the Child-Pugh class, not sent"),
        ("latent_tb", "Latent tuberculosis is recorded: whether it was treated is not sent; check before starting"),
    ):
        if kind in kinds and not (kind == "renal" and "egfr" in reading.results):
            reading.notes[MISSING].append(words)
    if prefetch.observations is not None and not reading.results:
        reading.notes[MISSING].append("No catalogue lab results in the observations: baseline limits not checked")

    cancer = "none"
    if "malignancy" in kinds:
        cancer = "active"
    elif "malignancy_history" in kinds or reading.resolved_cancer:
        cancer = "past"
    elif "nmsc" in kinds:
        cancer = "nmsc_only"
    status = screening.ScreeningStatus.of(reading.evidence)
    tb_status = "active" if "tb" in kinds else status.tb_status()
    hbv = "positive" if "hbv" in kinds else status.serology("hbv")
    hcv = "positive" if "hcv" in kinds else status.serology("hcv")
    cv = {
        "hypertension": "hypertension" in kinds,
        "diabetes": "diabetes" in kinds,
        "dyslipidaemia": "dyslipidaemia" in kinds,
        "coronary_disease": "mi" in kinds,
        "stroke": "stroke" in kinds,
    }
    dvt = bool(kinds & {"dvt", "vte"})
    badges = risk.risk_badges(
        risk.RiskInput(
            age=age,
            smoking_status=reading.smoking,
            dvt_history=dvt,
            pe_history="pe" in kinds,
            cancer_status=cancer,
            tb_status=tb_status,
            hepatitis_b=hbv,
            hepatitis_c=hcv,
            hiv="positive" if "hiv" in kinds else "",
            pregnant="pregnancy" in kinds,
            hypertension=cv["hypertension"],
            diabetes=cv["diabetes"],
            dyslipidaemia=cv["dyslipidaemia"],
            coronary_disease=cv["coronary_disease"],
            stroke=cv["stroke"],
        )
    )
    egfr = reading.results.get("egfr")
    facts = PatientFacts(
        age_years=age,
        weight_kg=reading.weight[0] if reading.weight else None,
        sex_at_birth=sex,
        smoking=reading.smoking or "never",
        cv_risk_factors=frozenset(name for name, present in cv.items() if present),
        prior_mi_stroke=bool(kinds & {"mi", "stroke"}),
        clots=ClotHistory(dvt=dvt, pe="pe" in kinds),
        cancer=cancer,
        tb_status=tb_status,
        hbv=hbv,
        hcv=hcv,
        pregnant="pregnancy" in kinds,
        egfr=egfr[0] if egfr else None,
        medicines=tuple(reading.medicines),
        latest_results=reading.results,
        screening_done=status.catalogue_done(),
        badges=frozenset(b.code for b in badges),
        pregnancy_test_relevant=screening.pregnancy_test_relevant(
            sex_at_birth=sex, age=age, no_childbearing_potential=False
        ),
    )
    notes = {group: tuple(dict.fromkeys(items)) for group, items in reading.notes.items() if items}
    return MappedPrefetch(facts=facts, notes=notes, mapped=tuple(dict.fromkeys(reading.mapped)))
