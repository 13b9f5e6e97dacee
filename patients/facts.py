"""The patient as the clinical rule engines see it: plain, frozen facts built from the record (no Django here).

``patients.selectors.patient_facts`` fills these from a patient's record; tests build them by hand. The risk-badge
codes in ``badges`` are those of ``patients.risk``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from drugs.label import LIVE_VACCINE_CLASS


@dataclass(frozen=True)
class MedicineTaken:
    name: str
    dose_text: str = ""
    class_codes: frozenset[str] = frozenset()


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
    screening_done: frozenset[str] = frozenset()
    badges: frozenset[str] = frozenset()

    @property
    def class_codes(self) -> frozenset[str]:
        """Interacting-class codes of everything the patient takes or is about to receive."""
        codes: set[str] = set()
        for medicine in self.medicines:
            codes |= medicine.class_codes
        if self.live_vaccine_planned:
            codes.add(LIVE_VACCINE_CLASS)
        return frozenset(codes)
