"""Adapter: a patient's record (risk profile, medicines, screening, lab results) as the engine's ``PatientFacts``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from monitoring import label as L
from monitoring.models import LabResult
from patients import risk
from patients.models import Patient, ScreeningResult
from patients.selectors import _profile, patient_badges

# Screening results and lab panels that count as the catalogue's baseline screening items being done.
SCREENING_ITEM_FOR_RESULT = {
    "tb": "tb",
    "hbsag": "hbv",
    "hbcab": "hbv",
    "hcv": "hcv",
    "cbc": "cbc",
    "lipids": "lipids",
    "liver": "liver",
    "kidney": "kidney",
    "pregnancy": "pregnancy",
    "vaccinations": "vaccines",
}
SCREENING_ITEM_FOR_PANEL = {"cbc": "cbc", "lipids": "lipids", "liver": "liver", "kidney": "kidney"}


def latest_results(patient: Patient) -> dict[str, tuple[Decimal, dt.date]]:
    """The newest numeric value per analyte (one query)."""
    latest: dict[str, tuple[Decimal, dt.date]] = {}
    rows = (
        LabResult.objects.filter(patient=patient, value__isnull=False)
        .select_related("lab_test")
        .order_by("-collected_on", "-id")
    )
    for row in rows:
        latest.setdefault(row.lab_test.analyte, (row.value, row.collected_on))
    return latest


def patient_facts(patient: Patient, *, today: dt.date) -> L.PatientFacts:
    profile = _profile(patient)
    results = latest_results(patient)
    screening = list(ScreeningResult.objects.filter(patient=patient).order_by("performed_on", "id"))
    done = {SCREENING_ITEM_FOR_RESULT[s.item] for s in screening if s.item in SCREENING_ITEM_FOR_RESULT}
    panels = set(LabResult.objects.filter(patient=patient).values_list("lab_test__panel", flat=True).distinct())
    done |= {SCREENING_ITEM_FOR_PANEL[p] for p in panels if p in SCREENING_ITEM_FOR_PANEL}
    positive = {s.item for s in screening if s.result == ScreeningResult.Outcome.POSITIVE}
    medicines = tuple(
        L.MedicineTaken(
            name=m.medicine.name if m.medicine else m.name,
            dose_text=m.dose_text,
            class_codes=frozenset(c.code for c in m.medicine.classes.all()) if m.medicine else frozenset(),
        )
        for m in patient.medicines.filter(stopped_on__isnull=True)
        .select_related("medicine")
        .prefetch_related("medicine__classes")
    )
    badges = frozenset(b.code for b in patient_badges(patient, today))
    age = risk.age_on(patient.date_of_birth, today) or 0
    if profile is None:
        return L.PatientFacts(
            age_years=age,
            weight_kg=patient.weight_kg,
            sex_at_birth=patient.sex_at_birth,
            medicines=medicines,
            latest_results=results,
            screening_done=frozenset(done),
            badges=badges,
            hbv="positive" if positive & {"hbsag", "hbcab"} else "unknown",
            hcv="positive" if "hcv" in positive else "unknown",
        )
    bmi = risk.bmi(patient.weight_kg, patient.height_cm)
    hbv = (
        "positive"
        if (profile.hepatitis_b == "positive" or positive & {"hbsag", "hbcab"})
        else (profile.hepatitis_b or "unknown")
    )
    hcv = "positive" if (profile.hepatitis_c == "positive" or "hcv" in positive) else (profile.hepatitis_c or "unknown")
    egfr = profile.egfr
    if "egfr" in results and (profile.egfr_measured_on is None or results["egfr"][1] >= profile.egfr_measured_on):
        egfr = results["egfr"][0]
    return L.PatientFacts(
        age_years=age,
        weight_kg=patient.weight_kg,
        sex_at_birth=patient.sex_at_birth,
        smoking=profile.smoking_status or "never",
        pack_years=profile.pack_years,
        cv_risk_factors=frozenset(name for name in risk.CV_RISK_FACTOR_LABELS if getattr(profile, name)),
        prior_mi_stroke=profile.coronary_disease or profile.stroke,
        clots=L.ClotHistory(
            dvt=profile.dvt_history,
            pe=profile.pe_history,
            thrombophilia=profile.thrombophilia,
            chc_hrt=profile.hormonal_therapy,
            surgery_immobilisation=profile.recent_surgery_or_immobilisation,
            obesity=bmi is not None and bmi >= risk.OBESITY_MIN_BMI,
        ),
        cancer=profile.cancer_status or "none",
        tb_status=profile.tb_status or "never_tested",
        hbv=hbv,
        hcv=hcv,
        active_serious_infection=profile.active_serious_infection,
        pregnant=profile.pregnant,
        breastfeeding=profile.breastfeeding,
        planning_pregnancy=profile.planning_pregnancy,
        egfr=egfr,
        child_pugh=profile.child_pugh if profile.child_pugh in ("A", "B", "C") else None,
        cyp2c19_poor_metaboliser=profile.cyp2c19_poor_metaboliser == "yes",
        medicines=medicines,
        live_vaccine_planned=profile.live_vaccine_planned,
        zoster_vaccinated=profile.zoster_vaccinated,
        immunocompromised=False,
        latest_results=results,
        screening_done=frozenset(done),
        badges=badges,
    )
