"""The prescribing safety check: a pure function of the patient's facts and one drug's label facts.

No Django here. Every clinical number comes from the label data passed in (``drugs.label``); the engine only
knows how to match rows to patient facts and how severe each kind of match is:

- CONTRAINDICATED: a contraindication row (severity contraindicated), an interaction or dose row whose action is
  contraindicated, an on-treatment "discontinue" result (urgent).
- DO_NOT_START: investigational drug, below the minimum age or weight, a contraindication row with severity
  not_recommended, a dose row "not recommended"/"avoid", a baseline result past a do-not-start limit, a dose not in
  the catalogue, untreated latent TB / active TB / hepatitis B where that screening is required, above a topical
  limit, an on-treatment "interrupt" result.
- WARNING (needs an acknowledged reason): off-label use, boxed-warning and EU risk groups, clot history, interactions
  to avoid or use with caution, missing required screening or baseline results, a dose above the advice, a
  contraindication row with severity caution, an open same-day alert, a medicine whose dose decides a rule but
  is not recorded.

The patient's own therapy counts too (clinical reference §9.1): a second systemic JAK inhibitor while another course
is open is CONTRAINDICATED whatever the catalogue says, and an open urgent alert is DO_NOT_START. The same check
runs for a start, a dose change (``purpose="dose_change"``) and a resumption (``purpose="resume"``).
- DOSE_ADVICE: a dose row that names or halves a dose (``recommended_dose`` carries it).
- INFO: everything else worth knowing (no dose change, advised screening, missing inputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal

from drugs.label import (
    EU,
    LIVE_VACCINE_CLASS,
    US,
    ContraindicationFact,
    DoseAdjustmentFact,
    DoseOption,
    DrugLabel,
    Fact,
    StatusFact,
    TopicalLimitFact,
    daily_amount,
)
from patients.facts import MedicineTaken, PatientFacts
from patients.risk import EU_LAST_RESORT, MALIGNANCY_RISK, SMOKER_ANY, US_CV_RISK_GROUP, VTE_RISK
from portal.formats import date_text
from therapy.findings import Finding, Severity, fmt, join_sources, sort_findings
from therapy.thresholds import COMPARISON_TEXT, analyte_name, check_result, result_findings, threshold_rule

__all__ = ["Finding", "Severity", "check_result", "check_safety"]


# Adults for the "minimum weight for adolescents" rule (RegulatoryStatus.min_weight_kg).
ADULT_AGE_YEARS = 18
# Age of the DoseAdjustment trigger "age_65".
AGE_65_YEARS = 65
# Class codes the engine links to a contraindication condition; the Medicine catalogue must not tag low-dose
# aspirin (<= 81 mg/day, the label's exception) with this class.
ANTIPLATELET_CLASS = "antiplatelet"
CONDITION_CLASS = {"antiplatelet_3m": ANTIPLATELET_CLASS}
# The catalogue class of another JAK inhibitor; the patient's open courses in the portal count in it too.
OTHER_JAK_CLASS = "other_jak_inhibitor"
START, DOSE_CHANGE, RESUME = "start", "dose_change", "resume"
PURPOSE_TEXT = {START: "starting", DOSE_CHANGE: "changing the dose of", RESUME: "resuming"}
RENAL_MEASURE_TEXT = {"egfr": "eGFR", "crcl": "creatinine clearance (Cockcroft-Gault)"}
RENAL_MEASURE_UNIT = {"egfr": "mL/min/1.73 m²", "crcl": "mL/min"}
# The EMA Article 20 measures cover the systemic (oral) JAK inhibitors; class-level sources of the reference §1.3.
EU_CLASS_SOURCE = "[S63][S64]"

CONTRAINDICATION_SEVERITY = {
    "contraindicated": Severity.CONTRAINDICATED,
    "not_recommended": Severity.DO_NOT_START,
    "caution": Severity.WARNING,
}
CONTRAINDICATION_VERB = {"contraindicated": "contraindicated", "not_recommended": "not recommended (avoid)"}
CONDITION_TEXT = {
    "active_serious_infection": "Active serious infection",
    "active_tb": "Active tuberculosis",
    "pregnancy": "Pregnant",
    "breastfeeding": "Breastfeeding",
    "severe_hepatic": "Severe liver impairment (Child-Pugh C)",
    "antiplatelet_3m": "Takes an antiplatelet medicine",
    "immunocompromised": "Immunocompromised",
}
CHECK_NAMES = {
    "tb": "tuberculosis test",
    "hbv": "hepatitis B",
    "hcv": "hepatitis C",
    "cbc": "blood count",
    "lipids": "lipid panel",
    "liver": "liver tests",
    "kidney": "kidney function (eGFR or creatinine)",
    "pregnancy": "pregnancy status",
    "vaccines": "vaccinations (incl. zoster)",
}
RISK_TEXT = {
    EU_LAST_RESORT: "EMA risk group",
    VTE_RISK: "blood-clot risk",
    MALIGNANCY_RISK: "cancer risk",
}
EFFECT_TEXT = {
    "contraindicated": "contraindicated",
    "avoid": "avoid the combination",
    "caution": "use with caution and monitor",
    "adjust_dose": "adjust the dose",
}
EFFECT_SEVERITY = {
    "contraindicated": Severity.CONTRAINDICATED,
    "avoid": Severity.WARNING,
    "caution": Severity.WARNING,
    "adjust_dose": Severity.INFO,
}
BLOCKING_DOSE_VERB = {
    "not_recommended": "not recommended",
    "avoid": "to be avoided",
    "contraindicated": "contraindicated",
}
BLOCKING_DOSE_ACTIONS = {
    "not_recommended": Severity.DO_NOT_START,
    "avoid": Severity.DO_NOT_START,
    "contraindicated": Severity.CONTRAINDICATED,
}


class _SafetyCheck:
    """Collects findings for one patient, one drug, one jurisdiction."""

    def __init__(
        self,
        patient: PatientFacts,
        label: DrugLabel,
        jurisdiction: str,
        version: int,
        today: date,
        purpose: str,
        frequency: str = "",
    ):
        self.patient = patient
        self.frequency = frequency
        self.full_label = label
        self.purpose = purpose
        self.label = label.for_jurisdiction(jurisdiction)
        self.j = jurisdiction
        self.version = version
        self.today = today
        self.name = label.name
        self.status: StatusFact | None = self.label.status(jurisdiction)
        self.findings: list[Finding] = []
        self.fired_conditions: set[str] = set()
        # Off-label use with no dose rules of its own in this jurisdiction (baricitinib US, tofacitinib EU): the
        # other label's dose adjustments still apply (kidney, liver, interactions), as its doses do (§9.9).
        self.borrowed_from = ""
        if self.status is not None and self.status.status == "other" and not self.label.dose_adjustments:
            borrowed = tuple(a for a in label.dose_adjustments if a.jurisdiction not in (jurisdiction, "ANY"))
            if borrowed:
                self.label = replace(self.label, dose_adjustments=borrowed)
                self.borrowed_from = "/".join(sorted({a.jurisdiction for a in borrowed}))

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        rule: str,
        facts: Sequence[Fact | str] = (),
        *,
        recommended_dose: Decimal | None = None,
        subject: str = "",
    ) -> Finding:
        finding = Finding(
            subject=subject,
            severity=severity,
            code=code,
            message=message,
            rule=rule,
            source=join_sources(facts),
            unconfirmed=any(isinstance(f, Fact) and f.unconfirmed for f in facts),
            catalogue_version=self.version,
            recommended_dose=recommended_dose,
        )
        self.findings.append(finding)
        return finding

    def dose_text(self, dose: Decimal) -> str:
        return f"{fmt(dose)} {self.label.dose_unit}"

    # --- regulatory status --------------------------------------------------------------------------------------

    def check_status(self) -> None:
        status, p = self.status, self.patient
        if self.borrowed_from:
            self.add(
                Severity.INFO,
                "dose.rules_borrowed",
                f"Off-label use: the {self.j} catalogue has no dose adjustments for {self.name}, so those of the "
                f"{self.borrowed_from} label are applied (kidney and liver function, interacting medicines).",
                "Off-label use is checked against the label's rules for other indications or jurisdictions.",
                self.label.dose_adjustments,
            )
        if status is None:
            self.add(
                Severity.DO_NOT_START,
                "status.missing",
                f"No {self.j} regulatory status for {self.name} in the catalogue: check the label before starting.",
                "A drug needs a recorded regulatory status for atopic dermatitis in the clinic's jurisdiction.",
            )
            return
        if status.status == "investigational":
            self.add(
                Severity.DO_NOT_START,
                "status.investigational",
                f"{self.name} is investigational, not approved anywhere: do not start outside a clinical trial.",
                f"Investigational drugs are not prescribed ({self.j}).",
                [status],
            )
        elif status.status != "approved":
            self.add(
                Severity.WARNING,
                "status.not_approved",
                f"{self.name} is not approved for atopic dermatitis in the {self.j} (off-label): record the reason.",
                f"Off-label use for atopic dermatitis needs a documented reason ({self.j}).",
                [status],
            )
        if status.min_age_years is not None and p.age_years < status.min_age_years:
            self.add(
                Severity.DO_NOT_START,
                "status.min_age",
                f"Patient is {p.age_years}; {self.name} is for ages {status.min_age_years} and over ({self.j}).",
                f"Minimum age {status.min_age_years} years ({self.j}).",
                [status],
            )
        if status.min_weight_kg is not None and p.age_years < ADULT_AGE_YEARS:
            if p.weight_kg is None:
                self.add(
                    Severity.WARNING,
                    "status.weight_missing",
                    f"No weight recorded: adolescents need at least {status.min_weight_kg} kg for {self.name}.",
                    f"Adolescents: minimum weight {status.min_weight_kg} kg ({self.j}).",
                    [status],
                )
            elif p.weight_kg < status.min_weight_kg:
                self.add(
                    Severity.DO_NOT_START,
                    "status.min_weight",
                    f"Weight {fmt(p.weight_kg)} kg is under the {status.min_weight_kg} kg minimum for adolescents "
                    f"on {self.name} ({self.j}).",
                    f"Adolescents: minimum weight {status.min_weight_kg} kg ({self.j}).",
                    [status],
                )

    # --- contraindications --------------------------------------------------------------------------------------

    def condition_detail(self, row: ContraindicationFact) -> str | None:
        """Why the patient matches the condition ("" = matches without detail), None when it does not match."""
        p = self.patient
        match row.condition:
            case "active_serious_infection":
                return "" if p.active_serious_infection else None
            case "active_tb":
                return "" if p.tb_status == "active" else None
            case "pregnancy":
                if p.pregnant:
                    return ""
                if p.pregnancy_test_positive_on is not None:
                    return f" (pregnancy test positive on {date_text(p.pregnancy_test_positive_on)})"
                return None
            case "breastfeeding":
                return "" if p.breastfeeding else None
            case "severe_hepatic":
                return "" if p.child_pugh == "C" else None
            case "immunocompromised":
                return "" if p.immunocompromised else None
            case condition if condition in CONDITION_CLASS:
                names = self.medicines_in(CONDITION_CLASS[condition])
                if not names:
                    return None
                days = [
                    i.within_days_of_start
                    for i in self.label.interactions
                    if i.interacting_class == CONDITION_CLASS[condition] and i.within_days_of_start
                ]
                period = f" in the first {max(days)} days" if days else ""
                return f" ({', '.join(names)}){period}"
        return None  # hypersensitivity cannot be known before the first dose

    def check_contraindications(self) -> None:
        for row in self.label.contraindications:
            detail = self.condition_detail(row)
            if detail is None:
                continue
            self.fired_conditions.add(row.condition)
            severity = CONTRAINDICATION_SEVERITY.get(row.severity, Severity.DO_NOT_START)
            what = CONDITION_TEXT.get(row.condition, row.condition)
            if severity == Severity.WARNING:
                message = f"{what}{detail}: use {self.name} with caution ({self.j}). Acknowledge with a reason."
            else:
                verb = CONTRAINDICATION_VERB.get(row.severity, "not recommended")
                message = f"{what}{detail}: {self.name} is {verb} ({self.j})."
            self.add(
                severity, f"contraindication.{row.condition}", message, row.text or f"{what}: {row.severity}.", [row]
            )
        pregnant_or_breastfeeding = self.patient.pregnant_per_record or self.patient.breastfeeding
        if pregnant_or_breastfeeding and not self.fired_conditions & {"pregnancy", "breastfeeding"}:
            items = [i for i in self.label.screening_items if i.item == "pregnancy"]
            self.add(
                Severity.WARNING,
                "risk.pregnancy",
                f"Pregnant or breastfeeding: the {self.j} catalogue has no contraindication for {self.name}, "
                "but safety is not established; check the label's pregnancy section and registry.",
                "Pregnancy and breastfeeding need a documented decision.",
                items,
            )
        if self.patient.planning_pregnancy and not self.patient.pregnant_per_record:
            rows = [c for c in self.label.contraindications if c.condition == "pregnancy"]
            if rows:
                self.add(
                    Severity.WARNING,
                    "risk.planning_pregnancy",
                    f"Planning a pregnancy: {self.name} must not be used in pregnancy ({self.j}); "
                    "discuss timing and effective contraception.",
                    rows[0].text or "Pregnancy is a contraindication.",
                    rows,
                )

    def is_this_drug(self, name: str) -> bool:
        return name.strip().lower() in {self.label.slug.lower(), self.name.lower(), self.label.slug.split("-")[0]}

    def medicines_in(self, class_code: str) -> list[str]:
        """Names of what the patient takes in ``class_code``: the medicine list (with dose-dependent classes) and,
        for the other-JAK class, the patient's other open courses in the portal."""
        names = [
            m.name
            for m in self.patient.medicines
            if class_code in m.effective_class_codes
            and not (class_code == OTHER_JAK_CLASS and self.is_this_drug(m.name))
        ]
        if class_code == OTHER_JAK_CLASS:
            names += [
                f"{c.drug_name} course ({c.status})"
                for c in self.patient.courses
                if c.is_jak_inhibitor and c.drug_slug != self.label.slug
            ]
        if class_code == LIVE_VACCINE_CLASS and self.patient.live_vaccine_planned and not names:
            names = ["live vaccine planned"]
        return names

    def dose_unknown(self, class_code: str) -> list[MedicineTaken]:
        return [m for m in self.patient.medicines if m.dose_unknown_for(class_code)]

    # --- the patient's own therapy: open courses and open alerts (§9.1) -----------------------------------------

    def check_therapy_context(self) -> None:
        jak_rows = [i for i in self.label.interactions if i.interacting_class == OTHER_JAK_CLASS]
        for course in self.patient.courses:
            if course.drug_slug == self.label.slug:
                self.add(
                    Severity.CONTRAINDICATED,
                    "therapy.same_drug_open",
                    f"{self.name} is already open for this patient ({course.status}): change its dose or resume it "
                    "on its course page; a second course of the same drug cannot be started.",
                    "One open course per drug and patient.",
                )
        if self.label.is_jak_inhibitor and self.label.is_systemic:
            for course in self.patient.courses:
                if not (course.is_jak_inhibitor and course.is_systemic) or course.drug_slug == self.label.slug:
                    continue
                self.add(
                    Severity.CONTRAINDICATED,
                    f"therapy.second_jak.{course.drug_slug}",
                    f"{course.drug_name} is already open for this patient ({course.status}"
                    f"{', ' + course.dose_text if course.dose_text else ''}): do not combine two systemic JAK "
                    f"inhibitors. Stop that course before {PURPOSE_TEXT[self.purpose]} {self.name}.",
                    "Every JAK-inhibitor label: not for combination with another JAK inhibitor; a second systemic "
                    "JAK inhibitor while another course is active or interrupted is contraindicated.",
                    jak_rows,
                )
        for alert in self.patient.open_alerts:
            if alert.severity not in ("urgent", "same_day"):
                continue
            urgent = alert.severity == "urgent"
            self.add(
                Severity.DO_NOT_START if urgent else Severity.WARNING,
                f"alert.open.{alert.ref or alert.raised_on.isoformat()}",
                f"Open {'urgent' if urgent else 'same-day'} alert from {alert.raised_on:%d %b %Y}: {alert.title}. "
                f"Act on it before {PURPOSE_TEXT[self.purpose]} {self.name}.",
                "Open urgent and same-day alerts are part of the safety check until acknowledged.",
            )

    # --- interactions -------------------------------------------------------------------------------------------

    def check_interactions(self) -> None:
        covered = {CONDITION_CLASS[c] for c in self.fired_conditions if c in CONDITION_CLASS}
        dosed = {a.interacting_class for a in self.label.dose_adjustments if a.trigger == "class"}
        # A class whose dose row blocks (abrocitinib US + a dual CYP2C19/CYP2C9 inhibitor: avoid) is said once, there.
        blocked = {
            a.interacting_class
            for a in self.label.dose_adjustments
            if a.trigger == "class" and a.action in BLOCKING_DOSE_ACTIONS
        }
        second_jak = {f.code.rsplit(".", 1)[-1] for f in self.findings if f.code.startswith("therapy.second_jak.")}
        for row in self.label.interactions:
            names = self.medicines_in(row.interacting_class)
            if row.interacting_class == OTHER_JAK_CLASS and second_jak:
                names = [n for n in names if not any(n.lower().startswith(s.split("-")[0]) for s in second_jak)]
            if not names or row.interacting_class in covered:
                continue
            if row.effect == "adjust_dose" and row.interacting_class in dosed:
                continue  # the dose adjustment row gives the advice
            if row.effect in ("avoid", "adjust_dose", "caution") and row.interacting_class in blocked:
                continue  # the blocking dose adjustment row says it
            period = f" during the first {row.within_days_of_start} days" if row.within_days_of_start else ""
            effect = EFFECT_TEXT.get(row.effect, row.effect)
            self.add(
                EFFECT_SEVERITY.get(row.effect, Severity.WARNING),
                f"interaction.{row.interacting_class}",
                f"{', '.join(names)} with {self.name}: {effect}{period} ({self.j}).",
                row.text or f"{row.interacting_class}: {effect}{period}.",
                [row],
            )

    def check_dose_dependent_classes(self) -> None:
        """A medicine whose daily dose decides whether a label rule applies (aspirin above 81 mg/day is an
        antiplatelet for abrocitinib in the US) but whose dose is not recorded: ask for it (§9.1)."""
        classes = {i.interacting_class for i in self.label.interactions}
        classes |= {
            CONDITION_CLASS[c.condition] for c in self.label.contraindications if c.condition in CONDITION_CLASS
        }
        classes |= {a.interacting_class for a in self.label.dose_adjustments if a.interacting_class}
        for class_code in sorted(c for c in classes if c):
            for medicine in self.dose_unknown(class_code):
                shown = f" ({medicine.dose_text})" if medicine.dose_text else ""
                rows: list[Fact] = [i for i in self.label.interactions if i.interacting_class == class_code]
                rows += [c for c in self.label.contraindications if CONDITION_CLASS.get(c.condition) == class_code]
                what = class_code.replace("_", " ")
                if medicine.dose_class_above_mg is None:
                    message = (
                        f"{medicine.name}{shown} counts as {what} for {self.name} above a dose the catalogue does not "
                        f"set yet ({self.j}): decide whether this dose does, and set the limit in the catalogue."
                    )
                    rule = f"{medicine.name} above a dose limit counts in the class {class_code} (limit not set)."
                else:
                    limit = fmt(medicine.dose_class_above_mg)
                    message = (
                        f"{medicine.name} has no readable daily dose{shown}: above {limit} mg a day it counts as "
                        f"{what} for {self.name} ({self.j}). Record the daily dose in the medicine list."
                    )
                    rule = f"{medicine.name} above {limit} mg/day counts in the class {class_code}."
                self.add(Severity.WARNING, f"medicine.dose_needed.{class_code}", message, rule, rows)

    # --- dose -----------------------------------------------------------------------------------------------------

    def adjustment_reason(self, row: DoseAdjustmentFact) -> str | None:
        p = self.patient
        match row.trigger:
            case "age_65":
                return f"Age {p.age_years}" if p.age_years >= AGE_65_YEARS else None
            case "renal":
                value = self.kidney_value(row.renal_measure)
                if value is None:
                    return None
                low_ok = row.egfr_min is None or row.egfr_min <= value
                high_ok = row.egfr_max is None or value < row.egfr_max
                text = f"{RENAL_MEASURE_TEXT.get(row.renal_measure, row.renal_measure)} {fmt(value)}"
                return f"{text} {RENAL_MEASURE_UNIT.get(row.renal_measure, '')}".strip() if low_ok and high_ok else None
            case "hepatic_a" | "hepatic_b" | "hepatic_c":
                grade = row.trigger[-1].upper()
                if p.child_pugh != grade or (grade == "C" and "severe_hepatic" in self.fired_conditions):
                    return None
                return f"Child-Pugh {grade} liver impairment"
            case "class":
                names = [n for n in self.medicines_in(row.interacting_class or "") if n not in self.superseded]
                return f"Takes {', '.join(names)}" if names else None
            case "cyp2c19_pm":
                return "CYP2C19 poor metaboliser" if p.cyp2c19_poor_metaboliser else None
            case "high_risk":
                badges = [text for code, text in RISK_TEXT.items() if code in p.badges]
                return f"Higher-risk patient ({', '.join(badges)})" if badges else None
        return None

    def kidney_value(self, measure: str) -> Decimal | None:
        if measure == "crcl":
            if self.patient.age_years < ADULT_AGE_YEARS:
                return None  # Cockcroft-Gault is an adult formula
            return self.patient.creatinine_clearance()[0]
        return self.patient.egfr

    def blocking_class_medicines(self) -> set[str]:
        """Medicines matched by a class row that blocks: the milder advice rows for the same medicine are dropped,
        so fluconazole gets the US "avoid" of the dual CYP2C19 + CYP2C9 rule, not also "use 50 mg" (§9.1)."""
        names: set[str] = set()
        for row in self.label.dose_adjustments:
            if row.trigger == "class" and row.action in BLOCKING_DOSE_ACTIONS:
                names |= set(self.medicines_in(row.interacting_class or ""))
        return names

    def available_doses(self) -> set[Decimal]:
        p = self.patient
        return {o.dose for o in self.full_label.dose_options(self.j, p.age_years, p.weight_kg)}

    def check_dose_adjustments(self, dose: Decimal | None) -> list[Finding]:
        advice: list[Finding] = []
        self.halved: set[frozenset[str]] = set()
        self.advised_frequency: dict[str, str] = {}
        self.superseded: set[str] = set()
        blocking = self.blocking_class_medicines()
        for row in self.label.dose_adjustments:
            if row.trigger == "class" and row.action not in BLOCKING_DOSE_ACTIONS:
                self.superseded = blocking
            else:
                self.superseded = set()
            reason = self.adjustment_reason(row)
            if reason is None:
                continue
            code = f"dose.{row.trigger}" + (f".{row.interacting_class}" if row.trigger == "class" else "")
            if row.action in BLOCKING_DOSE_ACTIONS:
                verb = BLOCKING_DOSE_VERB[row.action]
                self.add(
                    BLOCKING_DOSE_ACTIONS[row.action],
                    code,
                    f"{reason}: {self.name} is {verb} ({self.j}).",
                    row.advice,
                    [row],
                )
            elif row.action == "no_change":
                self.add(Severity.INFO, code, f"{reason}: no dose change needed.", row.advice, [row])
            elif row.action == "use_dose" and row.dose is not None:
                advice.append(
                    self.add(
                        Severity.DOSE_ADVICE,
                        code,
                        f"{reason}: use {self.dose_text(row.dose)}{' ' + row.frequency if row.frequency else ''}.",
                        row.advice,
                        [row],
                        recommended_dose=row.dose,
                        subject=reason,
                    )
                )
                if row.frequency:
                    self.advised_frequency[advice[-1].code] = row.frequency
            elif row.action == "halve":
                half = dose / 2 if dose is not None else None
                halved_for = frozenset(reason.split(", "))
                if halved_for in self.halved:
                    continue  # one medicine in two halving classes (fluconazole, EU): halve once
                self.halved.add(halved_for)
                if half is not None and half not in self.available_doses():
                    lowest = min(self.available_doses(), default=None)
                    self.add(
                        Severity.WARNING,
                        code,
                        f"{reason}: the label halves the dose, but {self.dose_text(half)} is not a dose of {self.name} "
                        f"that can be given"
                        + (f" (the lowest is {self.dose_text(lowest)})" if lowest is not None else "")
                        + ": review the combination or the treatment.",
                        row.advice,
                        [row],
                        subject=reason,
                    )
                    continue
                to = f" (to {self.dose_text(half)})" if half is not None else ""
                advice.append(
                    self.add(
                        Severity.DOSE_ADVICE,
                        code,
                        f"{reason}: halve the dose{to}.",
                        row.advice,
                        [row],
                        recommended_dose=half,
                        subject=reason,
                    )
                )
            else:  # use_dose without a dose: advice only
                self.add(Severity.DOSE_ADVICE, code, f"{reason}: {row.advice}", row.advice, [row])
        self.superseded = set()
        renal_rows = [a for a in self.label.dose_adjustments if a.trigger == "renal"]
        for measure in sorted({a.renal_measure for a in renal_rows}):
            rows = [a for a in renal_rows if a.renal_measure == measure]
            if measure == "crcl" and self.patient.age_years < ADULT_AGE_YEARS:
                self.findings.append(
                    Finding(
                        severity=Severity.INFO,
                        code="dose.renal.crcl_child",
                        message=f"Creatinine clearance by Cockcroft-Gault is an adult formula: for a child, check "
                        f"{self.name}'s paediatric kidney dosing in the label (not in the catalogue).",
                        rule="Paediatric renal dosing follows the label's table (clinical reference §9.3: verify).",
                        source=join_sources(rows),
                        unconfirmed=True,
                        catalogue_version=self.version,
                    )
                )
            elif measure == "crcl":
                value, missing = self.patient.creatinine_clearance()
                if value is None:
                    self.add(
                        Severity.INFO,
                        "dose.renal.crcl_missing",
                        f"Cannot assess kidney function as the {self.name} label does (creatinine clearance by "
                        f"Cockcroft-Gault): {' and '.join(missing)} missing. The dose depends on it.",
                        "Dose by creatinine clearance band (Cockcroft-Gault).",
                        rows,
                    )
                else:
                    self.add(
                        Severity.INFO,
                        "dose.renal.crcl",
                        f"Kidney function by the label's measure: creatinine clearance {fmt(value)} mL/min "
                        f"(Cockcroft-Gault from creatinine, weight {fmt(self.patient.weight_kg or 0)} kg, "
                        f"age {self.patient.age_years}, {self.patient.sex_at_birth}).",
                        "(140 − age) × weight / (72 × creatinine mg/dL), × 0.85 for women.",
                        rows,
                    )
            elif self.patient.egfr is None:
                self.add(
                    Severity.INFO,
                    "dose.renal.missing",
                    f"No eGFR recorded: cannot assess kidney function as the {self.name} label does (eGFR); "
                    "the dose depends on it.",
                    "Dose by kidney function band (eGFR).",
                    rows,
                )
        return advice

    def check_dose(self, dose: Decimal | None, advice: list[Finding]) -> None:
        if dose is None or self.label.route != "oral":
            return
        p = self.patient
        options = self.full_label.dose_options(self.j, p.age_years, p.weight_kg)
        band_rows = [r for r in self.full_label.regimens_for(self.j, p.age_years, p.weight_kg) if r.has_age_band]
        chosen = [o for o in options if o.dose == dose and (not self.frequency or o.frequency == self.frequency)]
        if band_rows and any(r.has_weight_band for r in band_rows) and p.weight_kg is None:
            self.add(
                Severity.WARNING,
                "dose.band.weight_missing",
                f"No weight recorded: the {self.name} dose at age {p.age_years} depends on weight ({self.j}). "
                "Record the weight before choosing the dose.",
                "; ".join(sorted({f"{r.band_text()}: {fmt(r.dose or 0)} {self.label.dose_unit}" for r in band_rows})),
                band_rows,
            )
        elif not chosen:
            self.refuse_dose(dose, options, band_rows)
        elif band_rows and self.purpose == START and all(o.kind == "escalation" for o in chosen):
            starts = sorted({o.dose for o in options if o.band and o.kind not in ("escalation", "advised")})
            self.add(
                Severity.WARNING,
                "dose.band.escalation",
                f"{self.dose_text(dose)} is the escalation dose for {chosen[0].band} ({self.j}): start with "
                f"{' or '.join(self.dose_text(d) for d in starts)} and increase only if the response is inadequate.",
                f"{self.name} {chosen[0].band}: start {', '.join(fmt(d) for d in starts)} {self.label.dose_unit}.",
                band_rows,
            )
        if chosen and chosen[0].off_label:
            self.add(
                Severity.INFO,
                "dose.off_label",
                f"{self.dose_text(dose)} is a dose the {self.name} label gives for other indications or in the "
                f"other jurisdiction; there is no {self.j} dose for atopic dermatitis (off-label).",
                "Off-label use is checked with the label's doses for other indications.",
                [r for r in self.full_label.regimens if r.dose == dose],
            )
        advised = [f for f in advice if f.recommended_dose is not None]
        if advised:
            # Compared per day where the frequencies are known: 5 mg twice daily is above an advised 5 mg once daily.
            chosen_frequency = self.frequency or (chosen[0].frequency if chosen else "")

            def per_day(f: Finding) -> Decimal:
                amount = f.recommended_dose or Decimal(0)
                return daily_amount(amount, self.advised_frequency.get(f.code) or chosen_frequency) or amount

            lowest = min(advised, key=per_day)
            chosen_daily = daily_amount(dose, chosen_frequency) or dose
            if lowest.recommended_dose is not None and chosen_daily > per_day(lowest):
                advised_frequency = self.advised_frequency.get(lowest.code, "")
                shown = self.dose_text(lowest.recommended_dose) + (f" {advised_frequency}" if advised_frequency else "")
                mine = self.dose_text(dose) + (f" {chosen_frequency}" if advised_frequency and chosen_frequency else "")
                self.findings.append(
                    Finding(
                        severity=Severity.WARNING,
                        code="dose.above_advice",
                        message=f"Chosen {mine} is above the advised {shown} ({lowest.subject or lowest.code}).",
                        rule=lowest.rule,
                        source=lowest.source,
                        unconfirmed=lowest.unconfirmed,
                        catalogue_version=self.version,
                        recommended_dose=lowest.recommended_dose,
                    )
                )

    def refuse_dose(self, dose: Decimal, options: list[DoseOption], band_rows) -> None:
        listed = ", ".join(fmt(d) for d in sorted({o.dose for o in options})) or "none"
        if band_rows:
            band = "; ".join(sorted({r.band_text() for r in band_rows}))
            weight = f", {fmt(self.patient.weight_kg)} kg" if self.patient.weight_kg is not None else ""
            self.add(
                Severity.DO_NOT_START,
                "dose.band",
                f"{self.dose_text(dose)} is not a {self.name} dose for this patient (age {self.patient.age_years}"
                f"{weight}; {self.j} bands: {band}). Doses for this patient: {listed} {self.label.dose_unit}"
                f"{'' if options else ' (no dose at this weight)'}.",
                "Dose by the label's age and weight bands.",
                band_rows,
            )
            return
        self.add(
            Severity.DO_NOT_START,
            "dose.not_in_catalogue",
            f"{self.dose_text(dose)} is not a {self.name} dose in the catalogue ({self.j} doses: {listed}).",
            "The dose must be one of the label's regimens or a dose its adjustments name.",
            [r for r in self.label.regimens if r.dose is not None],
        )

    # --- boxed warning and EU risk groups -------------------------------------------------------------------------

    def components(self, *names: str) -> list[Fact]:
        return [b for b in self.label.boxed_warnings if b.component in names]

    def check_risk_groups(self) -> None:
        p = self.patient
        if self.j == US:
            boxed = bool(self.status and self.status.has_boxed_warning) or bool(self.label.boxed_warnings)
            if not boxed:
                return
            rules = [
                (
                    p.badges >= {US_CV_RISK_GROUP},
                    "boxed.us_cv_risk_group",
                    "Age 50+ with a cardiovascular risk factor",
                    "higher risk of death, heart attack, stroke and blood clots",
                    ("mortality", "mace", "thrombosis"),
                ),
                (
                    p.badges >= {SMOKER_ANY},
                    "boxed.smoker",
                    "Current or past smoker",
                    "extra risk of cancer (lymphoma, lung cancer), heart attack and stroke",
                    ("malignancy", "mace"),
                ),
                (
                    p.badges >= {MALIGNANCY_RISK},
                    "boxed.malignancy",
                    "Cancer now or in the past",
                    "lymphoma and other cancers reported",
                    ("malignancy",),
                ),
                (p.prior_mi_stroke, "boxed.prior_mi_stroke", "Prior heart attack or stroke", "MACE", ("mace",)),
                (p.clots.prior_vte, "risk.clot_history", "Prior DVT or PE", "blood clots", ("thrombosis",)),
                (
                    p.badges >= {VTE_RISK},
                    "boxed.vte_risk",
                    "Blood-clot risk factors",
                    "blood clots; use with caution",
                    ("thrombosis",),
                ),
            ]
            for matched, code, who, risk, comps in rules:
                if matched:
                    facts = self.components(*comps) or ([self.status] if self.status else [])
                    self.add(
                        Severity.WARNING,
                        code,
                        f"{who}: {self.name} boxed warning — {risk}. Acknowledge with a reason to continue.",
                        f"US boxed warning ({', '.join(comps)}).",
                        facts,
                    )
            return
        if self.j != EU or self.label.route != "oral":
            return
        high_risk_rows = [a for a in self.label.dose_adjustments if a.trigger == "high_risk"]
        rules_eu = [
            (
                p.badges >= {EU_LAST_RESORT},
                "risk.eu_last_resort",
                "Age 65+, cardiovascular risk, smoker or cancer risk",
                "use only if no suitable alternative",
            ),
            (p.badges >= {VTE_RISK}, "risk.vte", "Blood-clot risk factors", "use with caution"),
            (
                p.badges >= {MALIGNANCY_RISK},
                "risk.malignancy",
                "Cancer now or in the past",
                "use only if no suitable alternative",
            ),
            (p.clots.prior_vte, "risk.clot_history", "Prior DVT or PE", "use with caution"),
        ]
        for matched, code, who, what in rules_eu:
            if matched:
                self.add(
                    Severity.WARNING,
                    code,
                    f"{who}: {what} ({self.name}, EU). Acknowledge with a reason to continue.",
                    f"EMA JAK-inhibitor measures: {what}; lower doses where possible.",
                    [EU_CLASS_SOURCE, *high_risk_rows],
                )

    # --- baseline labs ------------------------------------------------------------------------------------------

    def check_baseline_labs(self) -> None:
        rows = [t for t in self.label.thresholds if t.phase == "baseline" and t.action == "do_not_start"]
        seen: list[str] = []
        for row in rows:
            if row.analyte in seen:
                continue
            seen.append(row.analyte)
            mine = [t for t in rows if t.analyte == row.analyte]
            result = self.patient.latest_results.get(row.analyte)
            if result is None:
                if self.purpose != START:
                    continue  # a missing baseline result matters before the first dose, not at a later change
                shown_in = self.patient.display_units.get(row.analyte)
                limits = " and ".join(
                    f"{COMPARISON_TEXT[t.comparison]} "
                    + (shown_in.text_with_canonical(t.value) if shown_in else f"{fmt(t.value)} {t.unit}")
                    for t in mine
                )
                self.add(
                    Severity.WARNING,
                    f"threshold.{row.analyte}.missing",
                    f"No {analyte_name(row)} result yet: {self.name} must not be started if it is {limits}.",
                    threshold_rule(row, self.name, self.j),
                    mine,
                )
                continue
            value, taken = result
            shown_in = self.patient.display_units.get(row.analyte)
            for finding in result_findings(
                row.analyte, value, mine, self.name, self.j, self.version, taken, shown_in=shown_in
            ):
                self.findings.append(finding)

    # --- screening ----------------------------------------------------------------------------------------------

    def check_screening(self) -> None:
        p, items = self.patient, self.label.screening_items
        # What is done is the record's one reading (patients.screening): a lab result, a screening record or a risk
        # profile status. It is not worked out again here from the TB, hepatitis or eGFR facts.
        missing = [i for i in items if i.item not in p.screening_done and p.screening_applies(i.item)]
        required = [i for i in missing if i.requirement == "required"]
        optional = [i for i in missing if i.requirement != "required"]
        if self.purpose != START:
            required, optional = [], []  # "before the first dose" items: the course has started already
        if required:
            self.add(
                Severity.WARNING,
                "screening.missing",
                "Baseline screening not recorded: " + ", ".join(CHECK_NAMES.get(i.item, i.item) for i in required),
                f"Required before the first dose of {self.name} ({self.j}).",
                required,
            )
        if optional:
            self.add(
                Severity.INFO,
                "screening.advised",
                "Also advised before starting: "
                + ", ".join(f"{CHECK_NAMES.get(i.item, i.item)} ({i.requirement})" for i in optional),
                f"Advised or to consider before the first dose of {self.name} ({self.j}).",
                optional,
            )
        by_item = {i.item: i for i in items}
        tb = by_item.get("tb")
        if tb is not None:
            block = Severity.DO_NOT_START if tb.requirement == "required" else Severity.WARNING
            if p.tb_status == "latent_untreated":
                self.add(
                    block,
                    "screening.latent_tb",
                    f"Latent TB not yet treated: treat latent TB before starting {self.name}.",
                    tb.note or "Treat latent TB before starting.",
                    [tb],
                )
            elif p.tb_status == "active" and "active_tb" not in self.fired_conditions:
                self.add(
                    block,
                    "screening.active_tb",
                    f"Active tuberculosis: do not start {self.name}.",
                    tb.note or "Do not start with active TB.",
                    [tb],
                )
            elif p.tb_status == "latent_treated":
                self.add(
                    Severity.INFO,
                    "screening.latent_tb_treated",
                    "Latent TB treated: keep watching for active TB during treatment.",
                    tb.note or "Watch for TB even after treatment or a negative test.",
                    [tb],
                )
        hbv = by_item.get("hbv")
        if hbv is not None and p.hbv == "positive":
            self.add(
                Severity.DO_NOT_START if hbv.requirement == "required" else Severity.WARNING,
                "screening.hbv",
                f"Hepatitis B positive: do not start {self.name} with active hepatitis B; "
                "check HBV DNA and ask hepatology.",
                hbv.note or "Do not start with active hepatitis B.",
                [hbv],
            )
        hcv = by_item.get("hcv")
        if hcv is not None and p.hcv == "positive":
            self.add(
                Severity.WARNING,
                "screening.hcv",
                f"Hepatitis C positive: confirm it is not active before starting {self.name}.",
                hcv.note or "Do not start with active hepatitis C.",
                [hcv],
            )
        vaccines = by_item.get("vaccines")
        if vaccines is not None and not p.zoster_vaccinated:
            self.add(
                Severity.INFO,
                "screening.zoster",
                f"No zoster vaccination recorded: bring vaccinations up to date, including zoster, before "
                f"starting {self.name}.",
                vaccines.note or "Immunisations up to date, including herpes zoster, before the first dose.",
                [vaccines],
            )

    # --- topical limits -----------------------------------------------------------------------------------------

    def check_topical(self, bsa: Decimal | None, grams: Decimal | None, days: int | None) -> None:
        age = self.patient.age_years
        limits = [lim for lim in self.label.topical_limits if in_age_band(lim, age)]
        bsa_rows = [lim for lim in limits if lim.max_bsa_percent is not None]
        gram_rows = [lim for lim in limits if lim.max_grams is not None and lim.per_days]
        if bsa_rows:
            cap = min(lim.max_bsa_percent for lim in bsa_rows if lim.max_bsa_percent is not None)
            if bsa is None:
                self.add(
                    Severity.INFO,
                    "topical.bsa.missing",
                    f"Enter the body surface area to treat: {self.name} is limited to {fmt(cap)}% BSA.",
                    f"Maximum {fmt(cap)}% body surface area.",
                    bsa_rows,
                )
            elif bsa > cap:
                self.add(
                    Severity.DO_NOT_START,
                    "topical.bsa",
                    f"{fmt(bsa)}% body surface area is above the {fmt(cap)}% maximum for {self.name}.",
                    f"Maximum {fmt(cap)}% body surface area.",
                    bsa_rows,
                )
        if gram_rows:
            caps = " or ".join(f"{fmt(lim.max_grams or 0)} g per {lim.per_days} days" for lim in gram_rows)
            if grams is None or not days:
                self.add(
                    Severity.INFO,
                    "topical.grams.missing",
                    f"Enter the planned amount and period: {self.name} is limited to {caps}.",
                    f"Quantity cap at age {age}: {caps}.",
                    gram_rows,
                )
            elif not any(within_gram_cap(lim, grams, days) for lim in gram_rows):
                self.add(
                    Severity.DO_NOT_START,
                    "topical.grams",
                    f"{fmt(grams)} g over {days} days is above the {self.name} cap for age {age}: {caps}.",
                    f"Quantity cap at age {age}: {caps}.",
                    gram_rows,
                )


def in_age_band(limit: TopicalLimitFact, age: int) -> bool:
    return (limit.min_age_years is None or age >= limit.min_age_years) and (
        limit.max_age_years is None or age < limit.max_age_years
    )


def within_gram_cap(limit: TopicalLimitFact, grams: Decimal, days: int) -> bool:
    """The planned daily rate (grams / days) is at most the cap's rate (max_grams / per_days).

    Caps of one age band are alternatives ("one 60 g tube per week or one 100 g tube per 2 weeks"), so a plan is
    within the label when it keeps to any one of them.
    """
    cap, per_days = limit.max_grams or Decimal(0), limit.per_days or 1
    return grams * per_days <= cap * days


def check_safety(
    patient: PatientFacts,
    label: DrugLabel,
    *,
    dose: Decimal | None,
    jurisdiction: str,
    catalogue_version: int,
    today: date,
    topical_bsa_percent: Decimal | None = None,
    topical_grams: Decimal | None = None,
    topical_days: int | None = None,
    purpose: str = START,
    frequency: str = "",
) -> list[Finding]:
    """Everything the prescriber must know before starting ``label``'s drug at ``dose`` (or changing to it, or
    resuming it: ``purpose``), most severe first. ``patient.courses`` holds the patient's other open courses."""
    check = _SafetyCheck(patient, label, jurisdiction, catalogue_version, today, purpose, frequency)
    check.check_status()
    check.check_therapy_context()
    check.check_contraindications()
    check.check_interactions()
    check.check_dose_dependent_classes()
    advice = check.check_dose_adjustments(dose)
    check.check_dose(dose, advice)
    check.check_risk_groups()
    check.check_baseline_labs()
    check.check_screening()
    if label.route == "topical":
        check.check_topical(topical_bsa_percent, topical_grams, topical_days)
    return sort_findings(check.findings)
