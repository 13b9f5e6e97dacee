"""Reads for the patient pages: one place per screen, each with a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from drugs.models import Medicine
from patients import risk, scores, screening
from patients.facts import ClotHistory, MedicineTaken, PatientFacts, daily_mg_from_text
from patients.models import Assessment, ConcomitantMedicine, LabResult, Patient, RiskProfile, ScreeningResult
from portal.audit import describe_changes
from portal.models import AuditEvent
from portal.web import ListPage, page_of

PAGE_SIZE = 25
HISTORY_LIMIT = 50
PATIENT_OBJECT_TYPE = "patients.patient"
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def get_patient_for_user(user, public_id) -> Patient:
    """The one access helper: the patient if the user's clinic holds it, else 404 (never says it exists).

    Views do not call it directly: they load the patient with ``get_patient_for_request``, which also writes the
    view to the audit trail (a test in tests/security checks every patient page)."""
    try:
        return Patient.objects.visible_to(user).for_detail().get(public_id=public_id)
    except (Patient.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404("No such patient.") from None


SHOWN_METHODS = ("GET", "HEAD")
_VIEWED_ATTR = "_patients_viewed"


def record_patient_view(request, patient: Patient) -> None:
    """Audit that the request shows ``patient``: once per request and patient, for a page read (GET or HEAD).

    Called by the helpers that load a patient, course, scheduled check or alert for a request, never per view,
    so that no page that shows a patient can forget it and none audits twice. A POST is audited by the write it
    makes (the service's own audit row)."""
    if request.method not in SHOWN_METHODS:
        return
    viewed = getattr(request, _VIEWED_ATTR, None)
    if viewed is None:
        viewed = set()
        setattr(request, _VIEWED_ATTR, viewed)
    if patient.pk in viewed:
        return
    viewed.add(patient.pk)
    from patients.services import patient_view_record  # services import selectors; keep this one local

    patient_view_record(actor=request.user, patient=patient)


def get_patient_for_request(request, public_id) -> Patient:
    """The patient a page shows: ``get_patient_for_user`` (404 for other clinics), and the view audited."""
    patient = get_patient_for_user(request.user, public_id)
    record_patient_view(request, patient)
    return patient


def parse_search_date(text: str) -> dt.date | None:
    """ISO (2001-02-03) or day-first (03/02/2001, 3.2.2001) dates; None if the text is not a date."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    match = _DMY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    return None


def _years_before(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _cv_q() -> Q:
    q = Q()
    for name in risk.CV_RISK_FACTOR_LABELS:
        q |= Q(**{f"risk_profile__{name}": True})
    return q


def _obese_q() -> Q:
    # BMI shown to one decimal >= 30.0  <=>  weight / (height/100)^2 >= 29.95 (the rule rounds half up).
    threshold = (risk.OBESITY_MIN_BMI - Decimal("0.05")) / 10000
    return Q(
        weight_kg__isnull=False, height_cm__isnull=False, weight_kg__gte=F("height_cm") * F("height_cm") * threshold
    )


def badge_q(code: str, today: dt.date) -> Q:
    """The database form of each rule in ``patients.risk`` (a test checks both agree)."""
    rp = "risk_profile__"
    smokers = Q(**{f"{rp}smoking_status__in": [risk.SMOKING_FORMER, risk.SMOKING_CURRENT]})
    malignancy = Q(**{f"{rp}cancer_status__in": [risk.CANCER_ACTIVE, risk.CANCER_PAST]})
    long_time = Q(**{f"{rp}smoking_status": risk.SMOKING_CURRENT}) | Q(
        **{f"{rp}smoking_status": risk.SMOKING_FORMER, f"{rp}pack_years__gte": risk.EU_LONG_TIME_SMOKER_MIN_PACK_YEARS}
    )
    if code == risk.US_CV_RISK_GROUP:
        return Q(date_of_birth__lte=_years_before(today, risk.US_CV_GROUP_MIN_AGE)) & _cv_q()
    if code == risk.SMOKER_ANY:
        return smokers
    if code == risk.EU_LAST_RESORT:
        return Q(date_of_birth__lte=_years_before(today, risk.EU_OLDER_AGE)) | _cv_q() | long_time | malignancy
    if code == risk.VTE_RISK:
        q = Q(date_of_birth__lte=_years_before(today, risk.VTE_OLDER_AGE)) | _obese_q()
        for name in (
            "dvt_history",
            "pe_history",
            "thrombophilia",
            "hormonal_therapy",
            "recent_surgery_or_immobilisation",
        ):
            q |= Q(**{f"{rp}{name}": True})
        return q
    if code == risk.MALIGNANCY_RISK:
        return malignancy
    if code == risk.INFECTION_RISK:
        q = Q(**{f"{rp}tb_status__in": [risk.TB_ACTIVE, risk.TB_LATENT_UNTREATED]})
        for name in ("hepatitis_b", "hepatitis_c", "hiv"):
            q |= Q(**{f"{rp}{name}": risk.POSITIVE})
        for name in ("herpes_zoster_history", "recurrent_serious_infections", "active_serious_infection"):
            q |= Q(**{f"{rp}{name}": True})
        return q
    if code == risk.PREGNANT_OR_BREASTFEEDING:
        return Q(**{f"{rp}pregnant": True}) | Q(**{f"{rp}breastfeeding": True}) | Q(**{f"{rp}planning_pregnancy": True})
    raise ValueError(code)


def search_patients(qs: QuerySet[Patient], text: str) -> QuerySet[Patient]:
    """Name (every word must match a name), record number, or date of birth (ISO or dd/mm/yyyy)."""
    text = text.strip()
    if not text:
        return qs
    date = parse_search_date(text)
    if date is not None:
        return qs.filter(date_of_birth=date)
    q = Q(record_number__iexact=text)
    words = Q()
    for word in text.split()[:4]:
        words &= Q(family_name__icontains=word) | Q(given_name__icontains=word)
    return qs.filter(q | words)


def risk_input(patient: Patient, profile: RiskProfile | None, today: dt.date) -> risk.RiskInput:
    base: dict[str, Any] = {
        "age": risk.age_on(patient.date_of_birth, today),
        "bmi": risk.bmi(patient.weight_kg, patient.height_cm),
    }
    if profile is not None:
        base.update(
            smoking_status=profile.smoking_status,
            pack_years=profile.pack_years,
            quit_year=profile.smoking_quit_year,
            cancer_status=profile.cancer_status,
            tb_status=profile.tb_status,
            hepatitis_b=profile.hepatitis_b,
            hepatitis_c=profile.hepatitis_c,
            hiv=profile.hiv,
        )
        for name in (
            *risk.CV_RISK_FACTOR_LABELS,
            "dvt_history",
            "pe_history",
            "thrombophilia",
            "hormonal_therapy",
            "recent_surgery_or_immobilisation",
            "herpes_zoster_history",
            "recurrent_serious_infections",
            "active_serious_infection",
            "immunocompromised",
            "pregnant",
            "breastfeeding",
            "planning_pregnancy",
        ):
            base[name] = getattr(profile, name)
    return risk.RiskInput(**base)


def _profile(patient: Patient) -> RiskProfile | None:
    try:
        return patient.risk_profile
    except RiskProfile.DoesNotExist:
        return None


def patient_risk_profile(patient: Patient) -> RiskProfile:
    """The patient's risk profile, or an empty unsaved one (the services create it on first save)."""
    return _profile(patient) or RiskProfile(patient=patient)


def patient_badges(patient: Patient, today: dt.date) -> list[risk.Badge]:
    return risk.risk_badges(risk_input(patient, _profile(patient), today))


def patient_list_page(
    *,
    user,
    today: dt.date,
    text: str = "",
    dermatologist_id: int | None = None,
    badge: str = "",
    drug: str = "",
    page: int = 1,
) -> ListPage:
    from therapy.models import TreatmentCourse  # the one upward import the layering contract allows

    open_courses = TreatmentCourse.objects.filter(status__in=TreatmentCourse.OPEN_STATUSES).select_related("drug")
    qs = search_patients(Patient.objects.visible_to(user).for_list(), text).prefetch_related(
        Prefetch("courses", queryset=open_courses.order_by("start_date"), to_attr="open_courses")
    )
    if dermatologist_id:
        qs = qs.filter(dermatologist_id=dermatologist_id)
    if drug:
        qs = qs.filter(Exists(open_courses.filter(patient=OuterRef("pk"), drug__slug=drug)))
    if badge in risk.BADGE_LABELS:
        qs = qs.filter(badge_q(badge, today))
    listed = page_of(qs, page, PAGE_SIZE)
    listed.rows = [
        {"patient": p, "age": risk.age_on(p.date_of_birth, today), "badges": patient_badges(p, today)}
        for p in listed.rows
    ]
    return listed


def screening_checklist(
    patient: Patient, results: list[ScreeningResult], today: dt.date
) -> list[screening.ChecklistRow]:
    latest: dict[str, screening.Result] = {}
    for result in results:  # newest first
        latest.setdefault(
            result.item,
            screening.Result(result.performed_on, result.result, result.get_result_display(), result.note),
        )
    relevant = pregnancy_test_relevant(patient, _profile(patient), today)
    return screening.checklist(latest=latest, pregnancy_relevant=relevant)


def pregnancy_test_relevant(patient: Patient, profile: RiskProfile | None, today: dt.date) -> bool:
    """The one pregnancy-relevance rule for the checklist, the safety check and the schedule (§9.6)."""
    return screening.pregnancy_test_relevant(
        sex_at_birth=patient.sex_at_birth,
        age=risk.age_on(patient.date_of_birth, today),
        no_childbearing_potential=bool(profile and profile.no_childbearing_potential),
    )


def score_responses(assessments: list[Assessment]) -> list[scores.Response]:
    """Latest assessment against the first one (the baseline); each instrument's first recorded value."""
    if len(assessments) < 2:
        return []
    ordered = list(reversed(assessments))  # oldest first

    def first(attr):
        return next((getattr(a, attr) for a in ordered[:-1] if getattr(a, attr) is not None), None)

    latest = ordered[-1]
    return scores.responses(
        baseline_easi=first("easi"),
        current_easi=latest.easi,
        baseline_viga=first("viga"),
        current_viga=latest.viga,
        baseline_itch=first("itch_nrs"),
        current_itch=latest.itch_nrs,
    )


def timeline(
    patient: Patient,
    medicines: list[ConcomitantMedicine],
    results: list[ScreeningResult],
    assessments: list[Assessment],
) -> list[dict]:
    events: list[dict[str, Any]] = [{"on": patient.created_at.date(), "what": "Registered", "detail": ""}]
    for a in assessments:
        parts = [
            f"{label} {value}"
            for label, value in (
                ("EASI", a.easi),
                ("vIGA", a.viga),
                ("itch", a.itch_nrs),
                ("POEM", a.poem),
                ("DLQI", a.dlqi),
                ("SCORAD", a.scorad),
            )
            if value is not None
        ]
        events.append({"on": a.assessed_on, "what": "Severity assessment", "detail": ", ".join(parts)})
    for r in results:
        events.append({"on": r.performed_on, "what": r.get_item_display(), "detail": r.get_result_display()})
    for m in medicines:
        if m.started_on:
            events.append({"on": m.started_on, "what": "Medicine started", "detail": str(m)})
        if m.stopped_on:
            events.append({"on": m.stopped_on, "what": "Medicine stopped", "detail": str(m)})
    events.sort(key=lambda e: e["on"], reverse=True)
    return events


def patient_history(patient: Patient) -> list[AuditEvent]:
    """The record's last views and changes, each with ``change_lines`` to show."""
    events = list(AuditEvent.objects.filter(object_type=PATIENT_OBJECT_TYPE, object_id=str(patient.pk))[:HISTORY_LIMIT])
    for event in events:
        event.change_lines = describe_changes(event.changes)  # type: ignore[attr-defined]  # for the template
    return events


def patient_medicines(patient: Patient) -> list[ConcomitantMedicine]:
    return list(
        patient.medicines.select_related("medicine").prefetch_related(
            Prefetch("medicine__classes", to_attr="class_list")
        )
    )


def patient_detail(patient: Patient, *, today: dt.date, with_history: bool) -> dict[str, Any]:
    medicines = patient_medicines(patient)
    results = list(patient.screening_results.select_related("recorded_by"))
    assessments = list(patient.assessments.select_related("recorded_by"))
    checklist = screening_checklist(patient, results, today)
    return {
        "age": risk.age_on(patient.date_of_birth, today),
        "bmi": risk.bmi(patient.weight_kg, patient.height_cm),
        "badges": patient_badges(patient, today),
        "local_definition_note": risk.LOCAL_DEFINITION_NOTE,
        "medicines": medicines,
        "checklist": checklist,
        "missing_screening": screening.missing(checklist),
        "assessments": assessments[:20],
        "responses": score_responses(assessments),
        "timeline": timeline(patient, medicines, results, assessments)[:50],
        "history": patient_history(patient) if with_history else None,
        "risk_items": risk_profile_items(_profile(patient)),
    }


def medicine_choices() -> QuerySet[Medicine]:
    return Medicine.objects.order_by("name")


def risk_profile_items(profile: RiskProfile | None) -> list[dict]:
    """Each recorded item of the risk profile with its value and who recorded it when (from ``item_meta``)."""
    if profile is None:
        return []
    items = []
    for field in RiskProfile._meta.concrete_fields:
        meta = profile.item_meta.get(field.name)
        if not meta:
            continue
        value = getattr(profile, field.name)
        if field.choices:
            value = getattr(profile, f"get_{field.name}_display")()
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        items.append(
            {
                "label": field.verbose_name,
                "value": "—" if value in (None, "") else value,
                "at": dt.datetime.fromisoformat(meta["at"]),
                "by": meta.get("by_name") or meta.get("by", ""),
            }
        )
    return items


# --- The patient as the rule engines see it ----------------------------------------------------------------------

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
        if row.value is not None:  # always, by the filter; tells the type checker
            latest.setdefault(row.lab_test.analyte, (row.value, row.collected_on))
    return latest


def patient_facts(patient: Patient, *, today: dt.date) -> PatientFacts:
    """Adapter: the patient's record (risk profile, medicines, screening, lab results) as the engines' facts."""
    profile = _profile(patient)
    results = latest_results(patient)
    screening = list(ScreeningResult.objects.filter(patient=patient).order_by("performed_on", "id"))
    done = {SCREENING_ITEM_FOR_RESULT[s.item] for s in screening if s.item in SCREENING_ITEM_FOR_RESULT}
    panels = set(LabResult.objects.filter(patient=patient).values_list("lab_test__panel", flat=True).distinct())
    done |= {SCREENING_ITEM_FOR_PANEL[p] for p in panels if p in SCREENING_ITEM_FOR_PANEL}
    positive = {s.item for s in screening if s.result == ScreeningResult.Outcome.POSITIVE}
    medicines = tuple(
        MedicineTaken(
            name=m.medicine.name if m.medicine else m.name,
            dose_text=m.dose_text,
            class_codes=frozenset(c.code for c in m.medicine.classes.all()) if m.medicine else frozenset(),
            daily_mg=daily_mg_from_text(m.dose_text),
            dose_class=m.medicine.dose_class.code if m.medicine and m.medicine.dose_class else "",
            dose_class_above_mg=m.medicine.dose_class_above_mg if m.medicine else None,
        )
        for m in patient.medicines.filter(stopped_on__isnull=True)
        .select_related("medicine__dose_class")
        .prefetch_related("medicine__classes")
    )
    pregnancy_relevant = pregnancy_test_relevant(patient, profile, today)
    badges = frozenset(b.code for b in patient_badges(patient, today))
    age = risk.age_on(patient.date_of_birth, today) or 0
    if profile is None:
        return PatientFacts(
            age_years=age,
            weight_kg=patient.weight_kg,
            sex_at_birth=patient.sex_at_birth,
            medicines=medicines,
            latest_results=results,
            screening_done=frozenset(done),
            badges=badges,
            hbv="positive" if positive & {"hbsag", "hbcab"} else "unknown",
            hcv="positive" if "hcv" in positive else "unknown",
            pregnancy_test_relevant=pregnancy_relevant,
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
    return PatientFacts(
        age_years=age,
        weight_kg=patient.weight_kg,
        sex_at_birth=patient.sex_at_birth,
        smoking=profile.smoking_status or "never",
        pack_years=profile.pack_years,
        cv_risk_factors=frozenset(name for name in risk.CV_RISK_FACTOR_LABELS if getattr(profile, name)),
        prior_mi_stroke=profile.coronary_disease or profile.stroke,
        clots=ClotHistory(
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
        immunocompromised=profile.immunocompromised,
        latest_results=results,
        screening_done=frozenset(done),
        badges=badges,
        pregnancy_test_relevant=pregnancy_relevant,
    )
