"""The patient as the clinical rule engines see it: plain, frozen facts built from the record (no Django here).

``patients.selectors.patient_facts`` fills these from a patient's record; tests build them by hand. The risk-badge
codes in ``badges`` are those of ``patients.risk``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from drugs.label import LIVE_VACCINE_CLASS
from drugs.units import DisplayUnit

_MG = re.compile(r"(\d+(?:[.,]\d+)?)\s*mg\b", re.IGNORECASE)
_TIMES_A_DAY = (
    (re.compile(r"\b(four times|qds|qid|4 ?x)\b", re.IGNORECASE), 4),
    (re.compile(r"\b(three times|tds|tid|3 ?x)\b", re.IGNORECASE), 3),
    (re.compile(r"\b(twice|two times|bd|bid|b\.i\.d\.|2 ?x)\b", re.IGNORECASE), 2),
)
_NOT_DAILY = re.compile(r"\b(week|weekly|month|monthly|every other day|alternate days|as needed|prn)\b", re.IGNORECASE)


def daily_mg_from_text(text: str) -> Decimal | None:
    """The daily dose in mg as a clinician writes it on a medicine list ("75 mg", "325mg once daily", "150 mg bd"),
    or None when the text does not say it plainly (no mg, two doses, weekly or as-needed use): the rules that
    depend on the dose then ask for it rather than guess. Written by hand: no library reads free-text sig lines."""
    doses = _MG.findall(text or "")
    if len(doses) != 1 or _NOT_DAILY.search(text):
        return None
    try:
        dose = Decimal(doses[0].replace(",", "."))
    except InvalidOperation:
        return None
    times = next((n for pattern, n in _TIMES_A_DAY if pattern.search(text)), 1)
    return dose * times


@dataclass(frozen=True)
class MedicineTaken:
    """A medicine on the patient's list. A catalogue medicine may count in one more class only above a daily dose
    (aspirin is an antiplatelet for the abrocitinib rule above 81 mg/day): ``dose_class`` above ``dose_class_above_mg``.
    ``daily_mg`` is the recorded daily dose when it can be read from the dose text, else None."""

    name: str
    dose_text: str = ""
    class_codes: frozenset[str] = frozenset()
    daily_mg: Decimal | None = None
    dose_class: str = ""
    dose_class_above_mg: Decimal | None = None

    @property
    def effective_class_codes(self) -> frozenset[str]:
        limit, daily = self.dose_class_above_mg, self.daily_mg
        if self.dose_class and limit is not None and daily is not None and daily > limit:
            return self.class_codes | {self.dose_class}
        return self.class_codes

    def dose_unknown_for(self, class_code: str) -> bool:
        """The medicine may count in ``class_code`` but it cannot be told: its daily dose is not recorded (or not
        readable), or the catalogue sets no dose limit for it yet."""
        unknown = self.daily_mg is None or self.dose_class_above_mg is None
        return self.dose_class == class_code and class_code not in self.class_codes and unknown


@dataclass(frozen=True, kw_only=True)
class CourseTaken:
    """One of the patient's open treatment courses in the portal (planned, active or interrupted)."""

    drug_slug: str
    drug_name: str
    route: str  # oral / topical
    drug_class: str
    status: str
    dose_text: str = ""

    @property
    def is_jak_inhibitor(self) -> bool:
        return "jak" in self.drug_class.lower()

    @property
    def is_systemic(self) -> bool:
        return self.route != "topical"


@dataclass(frozen=True, kw_only=True)
class OpenAlert:
    """An alert about the patient that no one has acknowledged yet: severity urgent / same_day / routine."""

    severity: str
    title: str
    raised_on: date
    ref: str = ""  # the alert's public id: keeps the finding code stable between the preview and the save


@dataclass(frozen=True, kw_only=True)
class ClotHistory:
    dvt: bool = False
    pe: bool = False
    thrombophilia: bool = False
    chc_hrt: bool = False
    surgery_immobilisation: bool = False
    obesity: bool = False

    @property
    def prior_vte(self) -> bool:
        return self.dvt or self.pe


@dataclass(frozen=True, kw_only=True)
class PatientFacts:
    age_years: int
    weight_kg: Decimal | None = None
    sex_at_birth: str = ""
    smoking: str = "never"  # never / former / current
    pack_years: Decimal | None = None
    cv_risk_factors: frozenset[str] = frozenset()
    prior_mi_stroke: bool = False
    clots: ClotHistory = field(default_factory=ClotHistory)
    cancer: str = "none"  # none / active / past / nmsc_only
    tb_status: str = "never_tested"  # never_tested / negative / latent_untreated / latent_treated / active
    hbv: str = "unknown"  # negative / positive / unknown
    hcv: str = "unknown"
    active_serious_infection: bool = False
    pregnant: bool = False
    # The date of the newest pregnancy test when it is positive (patients.screening: a lab hCG or a screening record);
    # None when the newest test is negative or there is none. A positive test counts as pregnant for the rules even
    # while the risk profile still says otherwise (see ``pregnant_per_record``).
    pregnancy_test_positive_on: date | None = None
    breastfeeding: bool = False
    planning_pregnancy: bool = False
    egfr: Decimal | None = None
    child_pugh: str | None = None  # None / "A" / "B" / "C"
    cyp2c19_poor_metaboliser: bool = False
    medicines: tuple[MedicineTaken, ...] = ()
    live_vaccine_planned: bool = False
    zoster_vaccinated: bool = False
    immunocompromised: bool = False
    latest_results: dict[str, tuple[Decimal, date]] = field(default_factory=dict, hash=False)
    # The catalogue's baseline screening items the record satisfies (patients.screening.ScreeningStatus.catalogue_done:
    # a lab result, a screening record or a risk-profile status), e.g. "tb", "hbv" (both markers), "cbc".
    screening_done: frozenset[str] = frozenset()
    badges: frozenset[str] = frozenset()
    # The one pregnancy-relevance rule (patients.screening.pregnancy_test_relevant): sex at birth female, of
    # child-bearing age and not recorded as "no child-bearing potential" (clinical reference §9.6).
    pregnancy_test_relevant: bool = True
    courses: tuple[CourseTaken, ...] = ()  # open courses in the portal (the course being changed is left out)
    open_alerts: tuple[OpenAlert, ...] = ()
    # analyte -> the unit the clinic reads results in, when it is not the canonical one (an SI clinic): findings
    # then give values in it, with the label's own limit beside it.
    display_units: Mapping[str, DisplayUnit] = field(default_factory=dict, hash=False)

    @property
    def pregnant_per_record(self) -> bool:
        """Pregnant as the risk profile says, or as the newest pregnancy test says: a positive test with the box not
        ticked is still a pregnancy, never a reason to skip the pregnancy rules."""
        return self.pregnant or self.pregnancy_test_positive_on is not None

    @property
    def class_codes(self) -> frozenset[str]:
        """Interacting-class codes of everything the patient takes or is about to receive."""
        codes: set[str] = set()
        for medicine in self.medicines:
            codes |= medicine.effective_class_codes
        if self.live_vaccine_planned:
            codes.add(LIVE_VACCINE_CLASS)
        return frozenset(codes)

    def screening_applies(self, item: str) -> bool:
        """Whether a baseline screening item concerns this patient: a pregnancy test only for people who can
        become pregnant; everything else for everyone."""
        return item != "pregnancy" or self.pregnancy_test_relevant

    def creatinine_clearance(self) -> tuple[Decimal | None, list[str]]:
        """Cockcroft-Gault creatinine clearance in mL/min from the latest serum creatinine (mg/dL), weight, age and
        sex (× 0.85 for women), with the inputs that are missing (clinical reference §9.4)."""
        missing = []
        creatinine = self.latest_results.get("creatinine")
        if creatinine is None:
            missing.append("a serum creatinine result")
        if self.weight_kg is None:
            missing.append("the weight")
        if self.sex_at_birth not in ("female", "male"):
            missing.append("the sex at birth")
        if missing or creatinine is None or self.weight_kg is None or creatinine[0] <= 0:
            return None, missing or ["a serum creatinine above 0"]
        clearance = (Decimal(140) - self.age_years) * self.weight_kg / (Decimal(72) * creatinine[0])
        if self.sex_at_birth == "female":
            clearance *= Decimal("0.85")
        return clearance.quantize(Decimal("0.1")), []
