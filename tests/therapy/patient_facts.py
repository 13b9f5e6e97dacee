"""Synthetic patients and small helpers for the rule-engine tests (no real patient data)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from patients.facts import ClotHistory, MedicineTaken, PatientFacts
from therapy.safety import Finding, Severity, check_safety

TODAY = date(2026, 3, 2)
ALL_SCREENING = frozenset({"tb", "hbv", "hcv", "cbc", "lipids", "liver", "kidney", "pregnancy", "vaccines"})
NORMAL_RESULTS = {
    "platelets": (D(250), date(2026, 2, 20)),
    "anc": (D("3.5"), date(2026, 2, 20)),
    "alc": (D("2.0"), date(2026, 2, 20)),
    "hb": (D("14"), date(2026, 2, 20)),
}
START_DOSE = {"abrocitinib": D(100), "upadacitinib": D(15), "baricitinib": D(4), "tofacitinib": D(5)}


def patient(**changes) -> PatientFacts:
    """A 40-year-old with no risk factors, screening done and normal counts; override what a test needs."""
    results = dict(NORMAL_RESULTS)
    results.update(changes.pop("results", {}))
    for analyte in changes.pop("no_results", ()):
        results.pop(analyte)
    values = {
        "age_years": 40,
        "weight_kg": D(70),
        "tb_status": "negative",
        "hbv": "negative",
        "hcv": "negative",
        "egfr": D(95),
        "zoster_vaccinated": True,
        "screening_done": ALL_SCREENING,
        "latest_results": results,
    }
    values.update(changes)
    return PatientFacts(**values)


def on(*class_codes: str, name: str = "medicine") -> tuple[MedicineTaken, ...]:
    return (MedicineTaken(name, "1 tablet daily", frozenset(class_codes)),)


def clots(**flags) -> ClotHistory:
    return ClotHistory(**flags)


def run(label, p=None, jurisdiction="US", dose="start", **kw) -> list[Finding]:
    if dose == "start":
        dose = START_DOSE.get(label.slug)
    return check_safety(
        p or patient(), label, dose=dose, jurisdiction=jurisdiction, catalogue_version=7, today=TODAY, **kw
    )


def find(findings: list[Finding], code: str) -> Finding:
    matches = [f for f in findings if f.code == code]
    assert len(matches) == 1, f"{code} not found once in {[f.code for f in findings]}"
    return matches[0]


def codes(findings: list[Finding], at_least: Severity = Severity.INFO) -> set[str]:
    return {f.code for f in findings if f.severity >= at_least}
