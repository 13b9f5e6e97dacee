"""Reads for the patient pages: one place per screen, each with a bounded number of queries."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import Exists, F, Field, OuterRef, Prefetch, Q, QuerySet, Window
from django.db.models.functions import Rank, RowNumber
from django.http import Http404
from django.utils import timezone

from drugs.models import LabThreshold, Medicine, drug_name
from drugs.selectors import LabCatalogue, lab_catalogue
from patients import risk, scores, screening, timeline
from patients.facts import ClotHistory, MedicineTaken, PatientFacts, daily_mg_from_text
from patients.models import (
    Assessment,
    ConcomitantMedicine,
    LabResult,
    Patient,
    PatientQuerySet,
    ResultFlag,
    RiskProfile,
    ScreeningResult,
)
from patients.timeline import TimelineEvent
from portal.audit import describe_changes, field_words
from portal.clinics import unit_system_of
from portal.formats import decimal_text
from portal.idurls import id_url
from portal.memo import rows_once
from portal.models import AuditEvent, Clinic, staff_name
from portal.web import ListPage, page_of
from portal.wording import FieldWords

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


def _cv_q(via: str = "") -> Q:
    q = Q()
    for name in risk.CV_RISK_FACTOR_LABELS:
        q |= Q(**{f"{via}risk_profile__{name}": True})
    return q


def _obese_q(via: str = "") -> Q:
    # BMI shown to one decimal >= 30.0  <=>  weight / (height/100)^2 >= 29.95 (the rule rounds half up).
    threshold = (risk.OBESITY_MIN_BMI - Decimal("0.05")) / 10000
    height = F(f"{via}height_cm")
    return Q(
        **{
            f"{via}weight_kg__isnull": False,
            f"{via}height_cm__isnull": False,
            f"{via}weight_kg__gte": height * height * threshold,
        }
    )


def badge_q(code: str, today: dt.date, *, via: str = "") -> Q:
    """The database form of each rule in ``patients.risk`` (a test checks both agree). ``via`` is the path from the
    queried model to the patient ("patient__" for scheduled checks), empty for a query of patients."""
    rp = f"{via}risk_profile__"
    born_by = f"{via}date_of_birth__lte"
    smokers = Q(**{f"{rp}smoking_status__in": [risk.SMOKING_FORMER, risk.SMOKING_CURRENT]})
    malignancy = Q(**{f"{rp}cancer_status__in": [risk.CANCER_ACTIVE, risk.CANCER_PAST]})
    long_time = Q(**{f"{rp}smoking_status": risk.SMOKING_CURRENT}) | Q(
        **{f"{rp}smoking_status": risk.SMOKING_FORMER, f"{rp}pack_years__gte": risk.EU_LONG_TIME_SMOKER_MIN_PACK_YEARS}
    )
    if code == risk.US_CV_RISK_GROUP:
        return Q(**{born_by: _years_before(today, risk.US_CV_GROUP_MIN_AGE)}) & _cv_q(via)
    if code == risk.SMOKER_ANY:
        return smokers
    if code == risk.EU_LAST_RESORT:
        return Q(**{born_by: _years_before(today, risk.EU_OLDER_AGE)}) | _cv_q(via) | long_time | malignancy
    if code == risk.VTE_RISK:
        q = Q(**{born_by: _years_before(today, risk.VTE_OLDER_AGE)}) | _obese_q(via)
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


# The risk profile's fields the risk rules read, by their ``RiskInput`` name (the rest have the same name).
_PROFILE_INPUT_FIELDS: dict[str, str] = {
    "smoking_status": "smoking_status",
    "pack_years": "pack_years",
    "quit_year": "smoking_quit_year",
    "cancer_status": "cancer_status",
    "tb_status": "tb_status",
    "hepatitis_b": "hepatitis_b",
    "hepatitis_c": "hepatitis_c",
    "hiv": "hiv",
    **{
        name: name
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
        )
    },
}


def risk_input_of(
    *,
    date_of_birth: dt.date,
    weight_kg: Decimal | None,
    height_cm: Decimal | None,
    profile: dict[str, Any] | None,
    today: dt.date,
) -> risk.RiskInput:
    """``RiskInput`` from the patient's values and the risk profile's (by field name; None: no profile)."""
    base: dict[str, Any] = {"age": risk.age_on(date_of_birth, today), "bmi": risk.bmi(weight_kg, height_cm)}
    if profile is not None:
        base.update((name, profile[field]) for name, field in _PROFILE_INPUT_FIELDS.items())
    return risk.RiskInput(**base)


def risk_input(patient: Patient, profile: RiskProfile | None, today: dt.date) -> risk.RiskInput:
    return risk_input_of(
        date_of_birth=patient.date_of_birth,
        weight_kg=patient.weight_kg,
        height_cm=patient.height_cm,
        profile=None if profile is None else {f: getattr(profile, f) for f in _PROFILE_INPUT_FIELDS.values()},
        today=today,
    )


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


def badge_value_fields(via: str = "") -> tuple[str, ...]:
    """The ``values()`` fields ``badges_of_values`` reads; ``via`` as for ``badge_q`` ("patient__" from a check)."""
    profile = (f"{via}risk_profile__{name}" for name in ("id", *_PROFILE_INPUT_FIELDS.values()))
    return (f"{via}date_of_birth", f"{via}weight_kg", f"{via}height_cm", *profile)


def badges_of_values(row: dict[str, Any], today: dt.date, *, via: str = "") -> list[risk.Badge]:
    """``patient_badges`` from a ``values()`` row holding ``badge_value_fields(via)``: no model instances."""
    profile = None
    if row[f"{via}risk_profile__id"] is not None:
        profile = {name: row[f"{via}risk_profile__{name}"] for name in _PROFILE_INPUT_FIELDS.values()}
    inputs = risk_input_of(
        date_of_birth=row[f"{via}date_of_birth"],
        weight_kg=row[f"{via}weight_kg"],
        height_cm=row[f"{via}height_cm"],
        profile=profile,
        today=today,
    )
    return risk.risk_badges(inputs)


@dataclass(frozen=True)
class PatientListRow:
    """One row of the patient list: only what the list shows (read with ``values()``, no model instances)."""

    url: str
    family_name: str
    given_name: str
    record_number: str
    date_of_birth: dt.date
    age: int | None
    dermatologist: str  # "" when the patient has none
    courses: list[tuple[str, str]]  # open courses by start date: (course text, status label or "" when active)
    badges: list[risk.Badge]


_LIST_FIELDS = ("id", "public_id", "family_name", "given_name", "record_number", "date_of_birth")
_LIST_RISK_FIELDS = ("weight_kg", "height_cm", "risk_profile__id")
_LIST_DERMATOLOGIST_FIELDS = ("dermatologist__first_name", "dermatologist__last_name", "dermatologist__username")


_LIST_PROFILE_KEYS = tuple((f, f"risk_profile__{f}") for f in _PROFILE_INPUT_FIELDS.values())


@functools.cache
def _list_values() -> PatientQuerySet:
    """The list's columns as ``values()``, resolved once per process: resolving the 40 field paths (30 of them
    through the risk profile) was a third of the list query's CPU time (0.3 of 1.0 ms, bench/profile_page.py). Never
    evaluated itself: every request filters it, which makes a copy."""
    fields = (*_LIST_FIELDS, *_LIST_RISK_FIELDS, *_LIST_DERMATOLOGIST_FIELDS, *(key for _, key in _LIST_PROFILE_KEYS))
    return cast(PatientQuerySet, Patient.objects.values(*fields))


@functools.cache
def _open_courses() -> QuerySet:
    """The list's open courses as ``values_list()``, resolved once per process like ``_list_values`` (0.14 of the
    query's 0.7 ms of CPU); every request filters it by its page's patients."""
    from therapy.models import TreatmentCourse  # the one upward import the layering contract allows

    return (
        TreatmentCourse.objects.filter(status__in=TreatmentCourse.OPEN_STATUSES)
        .order_by("start_date", "id")
        .values_list("patient_id", "drug__generic_name", "dose", "dose_unit", "status")
    )


def _open_course_texts(patient_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Per patient, the open courses as the list names them, by start date (one query)."""
    from therapy.models import TreatmentCourse, course_text  # the one upward import the layering contract allows

    labels = dict(TreatmentCourse.Status.choices)
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for patient_id, generic_name, dose, dose_unit, status in _open_courses().filter(patient_id__in=patient_ids):
        label = "" if status == TreatmentCourse.Status.ACTIVE else str(labels.get(status, status)).lower()
        found[patient_id].append((course_text(drug_name(generic_name), dose, dose_unit), label))
    return found


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
    """A page of ``PatientListRow``: two queries (the patients with their risk profile and dermatologist, then
    their open courses). Measured on 10,000 patients: loading model instances and prefetching courses was most
    of the page's time."""
    from therapy.models import TreatmentCourse  # the one upward import the layering contract allows

    qs = search_patients(_list_values().visible_to(user), text)
    if dermatologist_id:
        qs = qs.filter(dermatologist_id=dermatologist_id)
    if drug:
        open_courses = TreatmentCourse.objects.filter(status__in=TreatmentCourse.OPEN_STATUSES)
        qs = qs.filter(Exists(open_courses.filter(patient=OuterRef("pk"), drug__slug=drug)))
    if badge in risk.BADGE_LABELS:
        qs = qs.filter(badge_q(badge, today))
    listed = page_of(qs, page, PAGE_SIZE)
    courses = _open_course_texts([p["id"] for p in listed.rows]) if listed.rows else {}
    rows = []
    for p in listed.rows:
        profile = None
        if p["risk_profile__id"] is not None:
            profile = {f: p[key] for f, key in _LIST_PROFILE_KEYS}
        first, last, username = (p[f] for f in _LIST_DERMATOLOGIST_FIELDS)
        inputs = risk_input_of(
            date_of_birth=p["date_of_birth"],
            weight_kg=p["weight_kg"],
            height_cm=p["height_cm"],
            profile=profile,
            today=today,
        )
        rows.append(
            PatientListRow(
                url=id_url("patients:detail", p["public_id"]),  # one reverse for the page, not one per row
                family_name=p["family_name"],
                given_name=p["given_name"],
                record_number=p["record_number"],
                date_of_birth=p["date_of_birth"],
                age=inputs.age,
                dermatologist=staff_name(first, last, username) if username is not None else "",
                courses=courses.get(p["id"], []),
                badges=risk.risk_badges(inputs),
            )
        )
    listed.rows = rows
    return listed


def screening_checklist(
    patient: Patient, status: screening.ScreeningStatus, today: dt.date
) -> list[screening.ChecklistRow]:
    relevant = pregnancy_test_relevant(patient, _profile(patient), today)
    return screening.checklist(status=status, pregnancy_relevant=relevant)


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


# --- The timeline: this app's events (the registry and the other apps' events are in patients.timeline) ---------------

RISK_PROFILE_CHANGED = "Risk profile changed"  # the summary of risk_profile_update's audit row
TIMELINE_ON_PAGE = 20  # the patient page shows the newest ones; the timeline page shows all, paged
TIMELINE_PAGE_SIZE = 50
_SCORES = (("EASI", "easi"), ("vIGA-AD", "viga"), ("itch NRS", "itch_nrs"), ("POEM", "poem"), ("DLQI", "dlqi"))


def _local(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def _value_text(value: Any) -> str:
    return decimal_text(value) if isinstance(value, Decimal) else str(value)


def _assessment_events(patient: Patient) -> list[TimelineEvent]:
    events = []
    for a in patient_assessments(patient):
        parts = [f"{label} {_value_text(getattr(a, name))}" for label, name in _SCORES if getattr(a, name) is not None]
        if a.scorad is not None:
            parts.append(f"SCORAD {_value_text(a.scorad)}")
        events.append(
            TimelineEvent(on=a.assessed_on, kind="assessment", title="Severity assessment", detail=", ".join(parts))
        )
    return events


def _screening_events(patient: Patient) -> list[TimelineEvent]:
    return [
        TimelineEvent(
            on=r.performed_on,
            kind="screening",
            title=f"{r.get_item_display()}: {r.get_result_display()}",
            detail=r.note,
            at=r.recorded_at,
        )
        for r in patient_screening_results(patient)
    ]


def _medicine_events(patient: Patient) -> list[TimelineEvent]:
    url = id_url("patients:medicines", patient.public_id)
    events = []
    for m in patient_medicines(patient):
        if m.started_on:
            events.append(TimelineEvent(on=m.started_on, kind="medicine", title=f"Medicine started: {m}", url=url))
        if m.stopped_on:
            events.append(TimelineEvent(on=m.stopped_on, kind="medicine", title=f"Medicine stopped: {m}", url=url))
    return events


# Labels read once: a model's get_<field>_display() hashes every choice on each call (the cost of a 2,000-result
# timeline was mostly that); the labels stay lazy, so they are translated when shown.
_FLAG_LABELS = dict(LabResult._meta.get_field("flag").flatchoices)
_ACTION_LABELS = dict(LabThreshold.Action.choices)
_AUDIT_ACTION_LABELS = dict(AuditEvent._meta.get_field("action").flatchoices)


def patient_lab_catalogue(patient: Patient) -> LabCatalogue:
    """The catalogue's lab tests (by id, with their units) and thresholds, for the patient's results
    (``drugs.selectors.lab_catalogue``: built once per catalogue version and cached; 1 query when cached), read
    once per request: the timeline and the trends share them."""
    (catalogue,) = rows_once(patient, "lab_catalogue", lambda: [lab_catalogue()])
    return catalogue


def _newest_results(patient: Patient, newest: int | None) -> QuerySet[LabResult]:
    """The patient's results; with ``newest``, only those that can be among the timeline's ``newest`` events:
    the ``newest`` latest by (date, time recorded), and every result tied with the last of them (the timeline
    orders ties by title, worked out later): those ranked ``newest`` or better, as ``RANK()`` gives ties one rank.
    One query either way (the window is filtered in an outer query; measured on the bench's 2,000-result record,
    it cost 0.35 ms less CPU to build and 0.8 ms less wall time than the earlier bound by three subqueries)."""
    results = patient.lab_results.all()
    if newest is None:
        return results
    rank = Window(Rank(), order_by=[F("collected_on").desc(), F("recorded_at").desc()])
    return results.annotate(newest_rank=rank).filter(newest_rank__lte=newest)


def _lab_events(patient: Patient, unit_system: str, newest: int | None = None) -> list[TimelineEvent]:
    """Each result in the clinic's display unit, with its reference flag and any action level reached (with
    ``newest``, those that can be among the newest events: ``_newest_results``)."""
    rows = list(_newest_results(patient, newest).order_by("collected_on", "id").values_list(
        "lab_test_id", "value", "entered_value", "entered_unit", "coded_value", "flag", "action", "collected_on",
        "recorded_at",
    ))  # fmt: skip
    if not rows:
        return []  # no test to read either
    tests = patient_lab_catalogue(patient).tests
    tested = {row[0] for row in rows}
    names = {pk: tests[pk].short_name for pk in tested}
    shown = {pk: tests[pk].display_unit(unit_system) for pk in tested}
    events = []
    for test_id, value, entered_value, entered_unit, coded, flag, action, on, at in rows:
        # LabResult.display_text, without building the result and its test for every row
        text = (
            (coded or "").capitalize()
            if value is None
            else shown[test_id].entered_text(entered_value, entered_unit, value)
        )
        flag_text = (
            str(_FLAG_LABELS.get(flag, flag)) if flag and flag not in (ResultFlag.CODED, ResultFlag.NO_RANGE) else ""
        )
        title = f"{names[test_id]} {text}" + (f" ({flag_text.lower()})" if flag_text else "")
        detail = f"Action level reached: {_ACTION_LABELS.get(action, action)}" if action else ""
        events.append(TimelineEvent(on=on, kind="lab", title=title, detail=detail, at=at))
    return events


def _risk_events(patient: Patient) -> list[TimelineEvent]:
    rows = (
        AuditEvent.objects.filter(
            object_type=PATIENT_OBJECT_TYPE, object_id=str(patient.pk), summary=RISK_PROFILE_CHANGED
        )
        .order_by("at", "id")
        .values_list("at", "changes")
    )
    return [
        TimelineEvent(
            on=_local(at),
            kind="risk",
            title="Risk profile changed",
            detail="; ".join(describe_changes(changes, PATIENT_OBJECT_TYPE)),
            at=at,
        )
        for at, changes in rows
    ]


def _loaded_clinic(patient: Patient) -> Clinic | None:
    """The patient's clinic when the patient was read with it (``for_detail``), else None (no query for it)."""
    return patient.clinic if Patient.clinic.is_cached(patient) else None


def record_timeline_events(patient: Patient, user, newest: int | None = None) -> list[TimelineEvent]:
    """The record's own events: registration, results, screening, assessments, medicines, risk-profile changes
    (7 queries, 6 once the user's unit system is known or the patient came with its clinic, whatever the size of
    the record)."""
    return [
        TimelineEvent(on=_local(patient.created_at), kind="record", title="Registered", at=patient.created_at),
        *_assessment_events(patient),
        *_screening_events(patient),
        *_medicine_events(patient),
        *_lab_events(patient, unit_system_of(user, clinic=_loaded_clinic(patient)), newest),
        *_risk_events(patient),
    ]


def patient_timeline(patient: Patient, user, newest: int | None = None) -> list[TimelineEvent]:
    """Every clinical event of the patient from every app, newest first (``patients.timeline``); only the
    ``newest`` first when given (the patient page)."""
    return timeline.events_for(patient, user, newest)


def timeline_page(patient: Patient, user, page: int) -> ListPage:
    events = patient_timeline(patient, user)
    start = (max(page, 1) - 1) * TIMELINE_PAGE_SIZE
    rows = events[start : start + TIMELINE_PAGE_SIZE + 1]
    return ListPage(rows=rows[:TIMELINE_PAGE_SIZE], number=max(page, 1), has_next=len(rows) > TIMELINE_PAGE_SIZE)


def patient_change_words() -> dict[str, FieldWords]:
    """The keys the patient's audit rows hold besides the patient's own fields: the risk profile's and an
    assessment's fields, and the screening items a screening record names."""
    outcomes = {str(code): str(label) for code, label in ScreeningResult.Outcome.choices}
    words = {**field_words(Assessment), **field_words(RiskProfile)}
    words.update({str(code): FieldWords(str(label), outcomes) for code, label in ScreeningResult.Item.choices})
    words["medicine"] = FieldWords("medicine")
    words["easi_weights"] = FieldWords("EASI weights")
    return words


@dataclass(frozen=True)
class HistoryRow:
    """One row of the record's access and change history: what the page shows of an audit event (read with
    ``values_list``, no model instances: 50 rows 1.13 -> 1.02 ms of CPU on the bench database)."""

    at: dt.datetime
    actor_username: str
    action_label: str
    summary: str
    change_lines: list[str]


def patient_history(patient: Patient) -> list[HistoryRow]:
    """The record's last views and changes, newest first, each with its ``change_lines`` to show (one query, the
    shown columns only: no model instances)."""
    rows = AuditEvent.objects.filter(object_type=PATIENT_OBJECT_TYPE, object_id=str(patient.pk)).values_list(
        "at", "actor_username", "action", "summary", "changes"
    )[:HISTORY_LIMIT]
    return [
        HistoryRow(
            at=at,
            actor_username=actor_username,
            action_label=str(_AUDIT_ACTION_LABELS.get(action, action)),
            summary=summary,
            change_lines=describe_changes(changes, PATIENT_OBJECT_TYPE),
        )
        for at, actor_username, action, summary, changes in rows
    ]


def patient_medicines(patient: Patient) -> list[ConcomitantMedicine]:
    return rows_once(
        patient,
        "medicines",
        lambda: patient.medicines.select_related("medicine").prefetch_related(
            Prefetch("medicine__classes", to_attr="class_list")
        ),
    )


_SCREENING_SHOWN = ("id", "patient_id", "item", "performed_on", "result", "note", "recorded_at")


def patient_screening_results(patient: Patient) -> list[ScreeningResult]:
    """The record's screening results, newest first (read once per request: the page and the timeline share it),
    with only the columns they show: neither reads who recorded them (the join to the user was most of the query's
    0.6 ms of CPU, measured on the bench database)."""
    return rows_once(patient, "screening", lambda: patient.screening_results.only(*_SCREENING_SHOWN))


def patient_assessments(patient: Patient) -> list[Assessment]:
    """The record's severity assessments, newest first (read once per request: the page, trends and timeline)."""
    return rows_once(patient, "assessments", lambda: patient.assessments.select_related("recorded_by"))


def patient_detail(patient: Patient, *, today: dt.date, with_history: bool) -> dict[str, Any]:
    medicines = patient_medicines(patient)
    results = patient_screening_results(patient)
    assessments = patient_assessments(patient)
    checklist = screening_checklist(patient, screening_status(patient, records=results), today)
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


# --- Baseline screening: the one reading of the record (the rule is in patients.screening) --------------------------

SCREENING_LAB_TESTS = Q(lab_test__panel__in=list(screening.LAB_PANEL_ITEM)) | Q(
    lab_test__analyte__in=list(screening.LAB_ANALYTE_ITEM)
)
PROFILE_SCREENING_FIELDS = (*screening.PROFILE_FIELD_ITEMS, "egfr", "egfr_measured_on", "item_meta")


def _outcome_label(value: str) -> str:
    return str(ScreeningResult.Outcome(value).label) if value in ScreeningResult.Outcome.values else value.capitalize()


def _lab_evidence(patient_ids: Iterable[int]) -> dict[int, list[screening.Evidence]]:
    """Per patient, the newest result of each lab test that answers a screening item (one query, a row per test)."""
    newest_per_test = Window(
        RowNumber(),
        partition_by=[F("patient_id"), F("lab_test_id")],
        order_by=[F("collected_on").desc(), F("id").desc()],
    )
    rows = (
        LabResult.objects.filter(SCREENING_LAB_TESTS, patient_id__in=list(patient_ids))
        .annotate(nth=newest_per_test)
        .filter(nth=1)
        .values_list(
            "id",
            "patient_id",
            "collected_on",
            "coded_value",
            "flag",
            "lab_test__analyte",
            "lab_test__panel",
            "lab_test__short_name",
            "lab_test__display_order",
        )
    )
    found: dict[int, list[screening.Evidence]] = defaultdict(list)
    panels: dict[tuple[int, str], list[tuple[dt.date, int, str, str]]] = defaultdict(list)
    for pk, patient_id, on, coded, flag, analyte, panel, name, order in rows:
        if analyte in screening.LAB_ANALYTE_ITEM:
            evidence = screening.coded_lab_evidence(
                analyte=analyte, short_name=name, coded_value=coded, coded_label=_outcome_label(coded), on=on, order=pk
            )
            if evidence is not None:
                found[patient_id].append(evidence)
        else:
            panels[(patient_id, panel)].append((on, order, name, flag))
    for (patient_id, panel), results in panels.items():
        day = max(on for on, *_rest in results)
        tests = [(name, flag) for on, _order, name, flag in sorted(results) if on == day]
        evidence = screening.panel_lab_evidence(panel=panel, on=day, tests=tests)
        if evidence is not None:
            found[patient_id].append(evidence)
    return found


def _newest_records(patient_ids: Iterable[int]) -> dict[int, list[ScreeningResult]]:
    """Per patient, the newest screening record of each item (one query)."""
    newest_per_item = Window(
        RowNumber(), partition_by=[F("patient_id"), F("item")], order_by=[F("performed_on").desc(), F("id").desc()]
    )
    found: dict[int, list[ScreeningResult]] = defaultdict(list)
    for record in (
        ScreeningResult.objects.filter(patient_id__in=list(patient_ids)).annotate(nth=newest_per_item).filter(nth=1)
    ):
        found[record.patient_id].append(record)
    return found


def _record_evidence(records: Iterable[ScreeningResult]) -> list[screening.Evidence]:
    return [
        screening.record_evidence(
            item=r.item,
            on=r.performed_on,
            result=r.result,
            result_label=r.get_result_display(),
            note=r.note,
            order=r.pk,
        )
        for r in records
    ]


def _recorded_on(profile: RiskProfile, name: str) -> dt.date | None:
    """The day a risk-profile item was last recorded (``item_meta``, written by ``risk_profile_update``), or None
    when the profile does not say (values stored without the service, e.g. imported)."""
    at = (profile.item_meta or {}).get(name, {}).get("at")
    try:
        when = dt.datetime.fromisoformat(at) if at else None
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return timezone.localdate(when) if timezone.is_aware(when) else when.date()


@functools.cache
def _profile_labels(name: str) -> dict:
    """The choice labels of a risk-profile field (lazy: translated when shown)."""
    return dict(cast(Field, RiskProfile._meta.get_field(name)).flatchoices)


def _profile_evidence(profile: RiskProfile | None) -> list[screening.Evidence]:
    if profile is None:
        return []
    entries = {}
    for name in screening.PROFILE_FIELD_ITEMS:
        field = cast(Field, RiskProfile._meta.get_field(name))  # a concrete field with choices
        value = getattr(profile, name)
        entries[name] = screening.ProfileEntry(
            value=value,
            label=str(_profile_labels(name).get(value, value)),  # get_<name>_display(), without hashing the choices
            name=str(field.verbose_name),
            on=_recorded_on(profile, name),
        )
    # The eGFR's own date is when it was measured; the day it was typed in only when that is missing.
    egfr_on = profile.egfr_measured_on or _recorded_on(profile, "egfr")
    return screening.profile_evidence(entries, egfr=profile.egfr, egfr_on=egfr_on)


def screening_status(
    patient: Patient, *, records: Iterable[ScreeningResult] | None = None
) -> screening.ScreeningStatus:
    """The one reading of the patient's baseline screening: per item, the newest lab result, screening record or
    risk-profile status. The patient page, ``patient_facts`` (safety check, course schedule) and, through
    ``screening_statuses``, the worklist all read it. Two queries (one when the page has loaded the screening
    records already); the risk profile comes with the patient."""
    if records is None:
        records = _newest_records([patient.pk]).get(patient.pk, [])
    evidence = [
        *_lab_evidence([patient.pk]).get(patient.pk, []),
        *_record_evidence(records),
        *_profile_evidence(_profile(patient)),
    ]
    return screening.ScreeningStatus.of(evidence)


def screening_statuses(patient_ids: Iterable[int]) -> dict[int, screening.ScreeningStatus]:
    """``screening_status`` for many patients at once, in three queries whatever their number."""
    ids = set(patient_ids)
    if not ids:
        return {}
    labs = _lab_evidence(ids)
    records = _newest_records(ids)
    profiles = {
        p.patient_id: p
        for p in RiskProfile.objects.filter(patient_id__in=list(ids)).only("patient_id", *PROFILE_SCREENING_FIELDS)
    }
    return {
        pk: screening.ScreeningStatus.of(
            [*labs.get(pk, []), *_record_evidence(records.get(pk, [])), *_profile_evidence(profiles.get(pk))]
        )
        for pk in ids
    }


# --- The patient as the rule engines see it ----------------------------------------------------------------------


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
    """Adapter: the patient's record (risk profile, medicines, screening, lab results) as the engines' facts.

    Baseline screening (the catalogue items done, hepatitis B and C, the TB status) is ``screening_status``: the
    same reading as the patient page's checklist, so the safety check and the course schedule agree with it."""
    profile = _profile(patient)
    results = latest_results(patient)
    status = screening_status(patient)
    done = status.catalogue_done()
    hbv, hcv, tb_status = status.serology("hbv"), status.serology("hcv"), status.tb_status()
    pregnancy_test = status.evidence("pregnancy")
    # A positive test the profile dates nowhere counts from today: it is the newest reading the record has.
    pregnancy_positive_on = (
        (pregnancy_test.on or today) if pregnancy_test is not None and pregnancy_test.positive else None
    )
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
            screening_done=done,
            badges=badges,
            tb_status=tb_status,
            hbv=hbv,
            hcv=hcv,
            pregnancy_test_relevant=pregnancy_relevant,
            pregnancy_test_positive_on=pregnancy_positive_on,
        )
    bmi = risk.bmi(patient.weight_kg, patient.height_cm)
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
        tb_status=tb_status,
        hbv=hbv,
        hcv=hcv,
        active_serious_infection=profile.active_serious_infection,
        pregnant=profile.pregnant,
        pregnancy_test_positive_on=pregnancy_positive_on,
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
        screening_done=done,
        badges=badges,
        pregnancy_test_relevant=pregnancy_relevant,
    )
