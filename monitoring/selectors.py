"""Reads for monitoring pages: the worklist, the alert inbox, lab trends and the home-page counts.

Each read is a fixed number of queries whatever the data size; lists page without COUNT(*) (one extra row).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import RowNumber
from django.http import Http404
from django.urls import reverse
from django.utils import dateformat, formats, timezone

from drugs import units
from drugs.models import Drug, LabTest, LabThreshold, drug_name
from monitoring import alerting, charts, recipients
from monitoring.models import Alert, RecallContact, SymptomCheck
from monitoring.services import SCREENING_CHECK
from patients import risk, screening
from patients.facts import OpenAlert
from patients.models import LabResult, Patient
from patients.selectors import (
    badge_q,
    badge_value_fields,
    badges_of_values,
    get_patient_for_request,
    patient_assessments,
    patient_badges,
    patient_lab_catalogue,
    record_patient_view,
)
from portal.clinics import unit_system_of
from portal.formats import decimal_text as fmt_decimal
from portal.idurls import id_url
from portal.memo import rows_once
from portal.models import User, dermatologist_choices, staff_name
from portal.web import ListPage, page_of, page_of_ids
from therapy.models import CourseEvent, ScheduledItem, course_text
from therapy.schedule import BASELINE, CHECK_NAMES, check_name
from therapy.selectors import SCREENING_CHECKS, open_checks, patient_course_events, patient_courses

PAGE_SIZE = 50
PATIENTS_PER_PAGE = 25  # worklist: patient groups a page
WINDOWS = {
    "": "Overdue, today and the next 30 days",
    "overdue": "Overdue",
    "today": "Due today",
    "7": "Next 7 days",
    "30": "Next 30 days",
}
LAB_PANELS = {"cbc", "lipids", "liver", "kidney", "cpk"}
SCREENING_PANEL_CHECKS = set(SCREENING_CHECK.values())
SYMPTOM_CHECKS = {"infection_check"}


def patient_alerts(patient: Patient) -> list[Alert]:
    """Every alert of the patient with who it went to and who acknowledged it (read once per request: the
    monitoring panel and the timeline)."""
    return rows_once(
        patient,
        "alerts",
        lambda: Alert.objects.filter(patient=patient).select_related(
            "acknowledged_by", "recipient", "patient__dermatologist"
        ),
    )


def patient_symptom_checks(patient: Patient) -> list[SymptomCheck]:
    """The patient's symptom checks, newest first (read once per request: the monitoring panel and the timeline)."""
    return rows_once(
        patient, "symptom_checks", lambda: SymptomCheck.objects.filter(patient=patient).select_related("recorded_by")
    )


def _risk_score(today: dt.date) -> Any:
    """How many risk badges the check's patient carries, computed by the database (patients.selectors.badge_q) from
    the patient and risk-profile columns joined to the check: no subquery per check (one per check over the
    clinic's open checks was most of the worklist's query time, bench/profile_page.py)."""
    one = Value(1)
    zero = Value(0)
    badges = (badge_q(code, today, via="patient__") for code in risk.BADGE_LABELS)
    return sum((Case(When(q, then=one), default=zero, output_field=IntegerField()) for q in badges), zero)


def action_url(item: ScheduledItem) -> tuple[str, str]:
    """Where the row's action is done, and its button text."""
    return action_link(
        check_type=item.check_type, kind=item.kind, item_id=item.public_id, patient_id=item.patient.public_id
    )


def action_link(*, check_type: str, kind: str, item_id: Any, patient_id: Any) -> tuple[str, str]:
    """``action_url`` from the check's values (the worklist reads them with ``values()``)."""
    if check_type in LAB_PANELS:
        return f"{id_url('monitoring:lab_entry', patient_id)}?panel={check_type}", "Enter results"
    if check_type in SCREENING_PANEL_CHECKS:
        return f"{id_url('monitoring:lab_entry', patient_id)}?panel=screening", "Enter results"
    if check_type in SYMPTOM_CHECKS:
        return id_url("monitoring:symptom_check", patient_id), "Run the check"
    if kind == BASELINE and check_type in SCREENING_CHECKS:
        # Baseline screening with no lab test (vaccinations): recorded in the patient's screening record, so the
        # checklist, the safety check and this check all count it ("record done" here would tell only the check).
        part = screening.CATALOGUE_ITEMS[check_type][0]
        return f"{id_url('patients:screening', patient_id)}?item={part}", "Record the result"
    return id_url("monitoring:item_done", item_id), "Record done"


def get_item_for_request(request, public_id) -> tuple[ScheduledItem, Patient]:
    """A scheduled check and its patient for a page (404 outside the user's clinic), the patient's view audited."""
    item = ScheduledItem.objects.select_related("patient", "course__drug").filter(public_id=public_id).first()
    if item is None:
        raise Http404("No such check.")
    return item, get_patient_for_request(request, item.patient.public_id)


def worklist_filters(user: User) -> dict:
    """The filter form's choices: (pk, name) pairs for dermatologists and drugs, read with ``values_list``."""
    drugs = Drug.objects.order_by("generic_name").values_list("pk", "generic_name")
    return {
        "dermatologists": dermatologist_choices(user.clinic_id),
        "drugs": [(pk, drug_name(generic_name)) for pk, generic_name in drugs],
        "check_types": sorted(CHECK_NAMES.items(), key=lambda kv: kv[1]),
        "windows": list(WINDOWS.items()),
    }


WORKLIST_FILTERS = ("window", "dermatologist_id", "drug_id", "check_type")


def worklist_checks(
    *,
    user: User,
    today: dt.date,
    window: str = "",
    dermatologist_id: int | None = None,
    drug_id: int | None = None,
    check_type: str = "",
    checks: QuerySet[ScheduledItem] | None = None,
) -> QuerySet[ScheduledItem]:
    """The open checks the worklist lists with these filters (the page, the bulk actions and the CSV export).
    Baseline screening the record satisfies by now is not listed (``clinic_checks``)."""
    if user.clinic_id is None:
        return ScheduledItem.objects.none()
    qs = clinic_checks(user) if checks is None else checks
    if window == "overdue":
        qs = qs.filter(due_date__lt=today)
    elif window == "today":
        qs = qs.filter(due_date=today)
    elif window == "7":
        qs = qs.filter(due_date__gte=today, due_date__lte=today + dt.timedelta(days=7))
    elif window == "30":
        qs = qs.filter(due_date__gte=today, due_date__lte=today + dt.timedelta(days=30))
    else:
        qs = qs.filter(due_date__lte=today + dt.timedelta(days=30))
    if dermatologist_id:
        qs = qs.filter(patient__dermatologist_id=dermatologist_id)
    if drug_id:
        qs = qs.filter(course__drug_id=drug_id)
    if check_type:
        qs = qs.filter(check_type=check_type)
    return qs


def _last_contact(kind: str) -> Subquery:
    latest = RecallContact.objects.filter(item_id=OuterRef("pk"), kind=kind).order_by("-contacted_on", "-id")
    return Subquery(latest.values("contacted_on")[:1])


def _with_contacts(qs: QuerySet[ScheduledItem]) -> QuerySet[ScheduledItem]:
    """The check's last recall and last letter dates (``last_recalled``, ``last_letter``)."""
    return qs.annotate(
        last_recalled=_last_contact(RecallContact.Kind.RECALLED), last_letter=_last_contact(RecallContact.Kind.LETTER)
    )


def _with_row_data(qs: QuerySet[ScheduledItem]) -> QuerySet[ScheduledItem]:
    """What each row shows: patient (with the risk profile its flags are computed from), course, last contacts."""
    return _with_contacts(
        qs.select_related("patient", "patient__dermatologist", "patient__risk_profile", "course", "course__drug")
    )


@dataclass(frozen=True)
class WorklistPatient:
    """A worklist group's patient: only what the group shows (read with ``values()``)."""

    pk: int
    public_id: Any
    family_name: str
    given_name: str
    record_number: str
    dermatologist: str  # "" when the patient has none


# What a worklist row shows, read with values(): model instances for the check, patient, dermatologist, course and
# drug of every row were a third of the page's CPU time (bench/profile_page.py worklist, issue 16).
ROW_FIELDS = (
    *("public_id", "patient_id", "check_type", "kind", "due_date", "reason", "patient__public_id"),
    *("course__public_id", "course__drug__generic_name", "last_recalled", "last_letter"),
)
_GROUP_FIELDS = ("id", "public_id", "family_name", "given_name", "record_number", "dermatologist_id")
_GROUP_DERMATOLOGIST_FIELDS = tuple(f"dermatologist__{name}" for name in ("first_name", "last_name", "username"))


@functools.cache
def _group_values() -> QuerySet[Patient, dict[str, Any]]:
    """The groups' patient columns as ``values()``, resolved once per process: resolving the 45 field paths (30 of
    them through the risk profile) was 0.4 of the 0.7 ms of building the query (bench DB). Never evaluated itself:
    each request filters it, which makes a copy."""
    return Patient.objects.values(*_GROUP_FIELDS, *_GROUP_DERMATOLOGIST_FIELDS, *badge_value_fields())


def _row(item: dict, today: dt.date, dates: dict[dt.date, str]) -> dict:
    """One check row; ``dates``: the due dates' texts so far this page (a page repeats the same few dozen)."""
    due = item["due_date"]
    if due not in dates:
        dates[due] = dateformat.format(due, "j M Y")
    url, label = action_link(
        check_type=item["check_type"],
        kind=item["kind"],
        item_id=item["public_id"],
        patient_id=item["patient__public_id"],
    )
    days = (today - due).days
    return {
        "public_id": item["public_id"],
        "check_type": item["check_type"],
        "reason": item["reason"],
        "check": check_name(item["check_type"]),
        "bucket": "overdue" if days > 0 else "today" if days == 0 else "upcoming",
        "days_overdue": max(days, 0),
        "days_until": max(-days, 0),
        "action_url": url,
        "action_label": label,
        # what the row shows, as text: no template lookup chain or filter per cell (bench/profile_page.py)
        "due_text": dates[due],
        "course_url": id_url("therapy:course", item["course__public_id"]),
        "drug": drug_name(item["course__drug__generic_name"]),
        "last_recalled": item["last_recalled"],
        "last_letter": item["last_letter"],
    }


# Checks fetched at a time while walking them by due date: a few per patient the page needs (the first page needs
# a few dozen checks; each one fetched costs a patient lookup for the clinic filter: 500 at once was 5.5 ms of the
# page's database time on the bench database), at most WALK_CHUNK.
WALK_CHUNK = 500
WALK_ROWS_PER_PATIENT = 4


def _page_patients(qs: QuerySet[ScheduledItem], today: dt.date, page: int) -> tuple[ListPage, dict[int, dict]]:
    """Page ``page`` of the patients with checks in ``qs`` (their ids), in the worklist's order: the oldest open
    check first, then the most risk flags, then the patient's id; and the patients' groups, without rows yet.

    Walks the checks by due date (the open checks' due-date index, index-only) and stops after the patients
    through this page, one more (is there a next page?) and those whose oldest check is due the same day as that
    last one (their risk flags may put them before it): every patient left out sorts after all of these. Only the
    patients whose oldest due date they share with one of the page's are read (one query, with their risk
    profile): the flags order those, and the page's groups show them. Two queries; grouping every open check of
    the clinic by patient first was most of the page's time, and the risk flags computed by the database in the
    walk cost 3 ms of query building (bench/profile_page.py worklist)."""
    number = max(1, page or 1)
    wanted = number * PATIENTS_PER_PAGE + 1
    first_due: dict[int, dt.date] = {}
    last_due = None
    walk = qs.order_by("due_date").values_list("patient_id", "due_date")
    for patient_id, due in walk.iterator(chunk_size=min(WALK_CHUNK, WALK_ROWS_PER_PATIENT * wanted)):
        if len(first_due) >= wanted and due != last_due:
            break
        if patient_id not in first_due:  # the patient's first check in due-date order is their oldest
            first_due[patient_id] = due
            last_due = due
    by_due = sorted(first_due, key=lambda patient_id: (first_due[patient_id], patient_id))
    start = (number - 1) * PATIENTS_PER_PAGE
    stop = start + PATIENTS_PER_PAGE + 1  # one more: is there a next page?
    # the patients sharing a due date with one of positions start..stop: only their risk flags move them in or out
    shown_dues = {first_due[patient_id] for patient_id in by_due[start:stop]}
    ties = [patient_id for patient_id in by_due if first_due[patient_id] in shown_dues]
    groups: dict[int, dict] = {}
    for p in _group_values().filter(id__in=ties) if ties else ():
        badges = badges_of_values(p, today)
        first, last, username = (p[f] for f in _GROUP_DERMATOLOGIST_FIELDS)
        groups[p["id"]] = {
            "patient": WorklistPatient(
                pk=p["id"],
                public_id=p["public_id"],
                family_name=p["family_name"],
                given_name=p["given_name"],
                record_number=p["record_number"],
                dermatologist=staff_name(first, last, username) if username is not None else "",
            ),
            "patient_url": id_url("patients:detail", p["public_id"]),
            "badges": badges,
            "risk": len(badges),
            "rows": [],
        }
    before = by_due.index(ties[0]) if ties else start  # the patients sorted before the first tie
    found = (patient_id for patient_id in ties if patient_id in groups)  # one deleted since the walk: left out
    ordered = sorted(found, key=lambda patient_id: (first_due[patient_id], -groups[patient_id]["risk"], patient_id))
    rows = ordered[start - before : stop - before]
    shown = rows[:PATIENTS_PER_PAGE]
    listed = ListPage(number=number, rows=shown, has_next=len(rows) > PATIENTS_PER_PAGE)
    return listed, {patient_id: groups[patient_id] for patient_id in shown}


def worklist_page(*, user: User, today: dt.date, page: int = 1, **filters) -> ListPage:
    """The worklist grouped by patient, PATIENTS_PER_PAGE patients a page (a patient is never split across
    pages): the patient whose oldest open check is most overdue first (then the most risk flags), each patient's
    checks by due date. ``rows`` lists every check of the page in that order, ``groups`` the patients with theirs.

    Three queries whatever the data size: the walk, the patients around the page (``_page_patients``), and their
    checks with the last contacts, read with ``values()``."""
    if user.clinic_id is None:
        empty = ListPage(number=1, rows=[], has_next=False)
        empty.groups = []  # type: ignore[attr-defined]
        return empty
    qs = worklist_checks(user=user, today=today, **filters)
    listed, groups = _page_patients(qs, today, page)
    if groups:
        items = _with_contacts(qs.filter(patient_id__in=groups)).order_by("due_date", "id").values(*ROW_FIELDS)
        dates: dict[dt.date, str] = {}
        for item in items:
            groups[item["patient_id"]]["rows"].append(_row(item, today, dates))
    ordered = list(groups.values())  # in the page's order (_page_patients)
    listed.groups = ordered  # type: ignore[attr-defined]  # ListPage carries the grouping for the template
    listed.rows = [row for group in ordered for row in group["rows"]]
    return listed


def worklist_item_ids(*, user: User, today: dt.date, patient_ids: Iterable, **filters) -> set:
    """The public ids of the checks the filtered worklist lists for these patients (a ticked patient row)."""
    qs = worklist_checks(user=user, today=today, **filters).filter(patient__public_id__in=list(patient_ids))
    return set(qs.values_list("public_id", flat=True))


EXPORT_COLUMNS = (
    "record_number",
    "patient",
    "check",
    "due_date",
    "days_overdue",
    "risk_flags",
    "last_recalled",
    "last_letter_sent",
)


def worklist_export_rows(*, user: User, today: dt.date, **filters) -> Iterable[list[str]]:
    """Every check of the filtered worklist (all pages), in the page's order, as text cells for the CSV export.

    One query: the group order (the patient's first due date and risk flags) comes from window functions."""
    qs = worklist_checks(user=user, today=today, **filters)
    qs = (
        _with_row_data(qs)
        .annotate(
            first_due=Window(Min("due_date"), partition_by=[F("patient_id")]),
            risk=Window(Max(_risk_score(today)), partition_by=[F("patient_id")]),
        )
        .order_by("first_due", "-risk", "patient_id", "due_date", "id")
    )
    for item in qs.iterator(chunk_size=1000):
        patient = item.patient
        flags = "; ".join(b.label for b in patient_badges(patient, today))
        recalled, letter = item.last_recalled, item.last_letter  # type: ignore[attr-defined]
        yield [
            patient.record_number,
            f"{patient.family_name}, {patient.given_name}",
            check_name(item.check_type),
            item.due_date.isoformat(),
            str(max((today - item.due_date).days, 0)),
            flags,
            recalled.isoformat() if recalled else "",
            letter.isoformat() if letter else "",
        ]


def clinic_checks(user: User) -> QuerySet[ScheduledItem]:
    """The open checks of the user's clinic the worklist and its counts show: those the record does not satisfy
    yet (therapy.selectors.open_checks). The worklist page passes it to both, so it is worked out once."""
    return open_checks(patient__clinic_id=user.clinic_id)


def worklist_counts(user: User, today: dt.date, checks: QuerySet[ScheduledItem] | None = None) -> dict[str, int]:
    if user.clinic_id is None:
        return {"overdue": 0, "today": 0}
    # due_date <= today changes neither count and lets the open checks' due-date index skip the checks not yet due;
    # counting patient (never null) instead of id keeps it an index-only scan (therapy.ScheduledItem's indexes)
    return (
        (clinic_checks(user) if checks is None else checks)
        .filter(due_date__lte=today)
        .aggregate(
            overdue=Count("patient", filter=Q(due_date__lt=today)), today=Count("patient", filter=Q(due_date=today))
        )
    )


# --- Alerts ---------------------------------------------------------------------------------------------------------


def alert_queryset(user: User):
    return Alert.objects.filter(patient__clinic_id=user.clinic_id).select_related(  # type: ignore[misc]
        "patient",
        "patient__clinic",
        "patient__dermatologist",
        "course",
        "course__drug",
        "recipient",
        "acknowledged_by",
        "lab_result",
        "lab_result__lab_test",
    )


SEVERITY_LABELS = dict(Alert.Severity.choices)
ALERT_ACTION_LABELS = dict(Alert.Action.choices)


@dataclass(frozen=True)
class InboxAlert:
    """One alert as the inbox shows it (read with ``values()``: no model instances)."""

    pk: int
    url: str
    severity: int
    severity_label: str
    title: str
    created_at: dt.datetime
    escalated: bool
    patient: str  # "Family, Given (record number)"
    course: str  # "" without a course
    for_user: str | None  # whom it is for now (``recipients``); None: anyone at the clinic
    reason: str
    advice: str
    acknowledged: bool
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    action_label: str  # "" when acknowledged with a comment only
    comment: str


_USER_NAME = ("first_name", "last_name", "username")
_INBOX_FIELDS = (
    "pk",
    "public_id",
    "severity",
    "title",
    "created_at",
    "escalated_at",
    "reason",
    "advice",
    "status",
    "acknowledged_at",
    "action",
    "comment",
    "patient__family_name",
    "patient__given_name",
    "patient__record_number",
    "course_id",
    "course__drug__generic_name",
    "course__dose",
    "course__dose_unit",
    "for_user_id",
    "recipient_id",
    "patient__dermatologist_id",
    "acknowledged_by_id",
    *(f"recipient__{f}" for f in _USER_NAME),
    *(f"patient__dermatologist__{f}" for f in _USER_NAME),
    *(f"acknowledged_by__{f}" for f in _USER_NAME),
)


def _name_of(row: dict, prefix: str) -> str:
    return staff_name(*(row[f"{prefix}__{f}"] for f in _USER_NAME))


def _inbox_alert(row: dict, labels: dict[str, dict]) -> InboxAlert:
    for_user_id = row["for_user_id"]  # the SQL twin of recipients.current_recipient
    for_user = None
    if for_user_id is not None:
        for_user = _name_of(row, "recipient" if for_user_id == row["recipient_id"] else "patient__dermatologist")
    course = ""
    if row["course_id"] is not None:
        drug = drug_name(row["course__drug__generic_name"])
        course = course_text(drug, row["course__dose"], row["course__dose_unit"])
    action = row["action"]
    return InboxAlert(
        pk=row["pk"],
        url=id_url("monitoring:alert", row["public_id"]),
        severity=row["severity"],
        severity_label=labels["severity"].get(row["severity"], str(row["severity"])),
        title=row["title"],
        created_at=row["created_at"],
        escalated=bool(row["escalated_at"]),
        patient=f"{row['patient__family_name']}, {row['patient__given_name']} ({row['patient__record_number']})",
        course=course,
        for_user=for_user,
        reason=row["reason"],
        advice=row["advice"],
        acknowledged=row["status"] == Alert.Status.ACKNOWLEDGED,
        acknowledged_by=_name_of(row, "acknowledged_by") if row["acknowledged_by_id"] is not None else None,
        acknowledged_at=row["acknowledged_at"],
        action_label=labels["action"].get(action, action.lower()) if action else "",
        comment=row["comment"],
    )


def alert_inbox(*, user: User, scope: str = "mine", status: str = "open", page: int = 1) -> ListPage:
    """Urgent first, then same day, then routine; oldest first within each: a page of ``InboxAlert``.

    "mine" is whom each alert is for now (``monitoring.recipients``), not the stored recipient: an alert whose
    prescriber moved to another clinic is in the treating dermatologist's list, or the clinic's.

    Measured on the bench (500 open alerts): sorting every alert with ten joins (``alert_queryset``) was most of
    the database's time, and its model instances most of the selector's. The page's ids are chosen first; only
    what the inbox shows is read, with ``values()``."""
    if user.clinic_id is None:
        return ListPage(number=1, rows=[], has_next=False)
    clinic_alerts = Alert.objects.filter(patient__clinic_id=user.clinic_id)
    qs = recipients.for_user(clinic_alerts, user) if scope != "clinic" else clinic_alerts
    qs = qs.filter(status=Alert.Status.ACKNOWLEDGED if status == "acknowledged" else Alert.Status.OPEN)
    order = ("severity", "created_at", "id")
    shown = recipients.with_recipient(Alert.objects.all()).order_by(*order).values(*_INBOX_FIELDS)
    listed = page_of_ids(qs.order_by(*order).values("pk"), shown, page, PAGE_SIZE)
    labels: dict[str, dict] = {  # as text once per page (a lazy label is translated on every str())
        "severity": {code: str(label) for code, label in SEVERITY_LABELS.items()},
        "action": {code: str(label).lower() for code, label in ALERT_ACTION_LABELS.items()},
    }
    listed.rows = [_inbox_alert(row, labels) for row in listed.rows]
    return listed


def get_alert_for_user(user: User, public_id) -> Alert:
    alert = alert_queryset(user).filter(public_id=public_id).first() if user.clinic_id else None
    if alert is None:
        raise Http404("No such alert.")
    if alert.lab_result_id:
        prefetch_related_objects([alert.lab_result.lab_test], "units")  # its unit labels, one query
    return alert


def get_alert_for_request(request, public_id) -> Alert:
    """The alert a page shows (404 outside the user's clinic), its patient's view audited."""
    alert = get_alert_for_user(request.user, public_id)
    record_patient_view(request, alert.patient)
    return alert


def urgent_open_alerts(user: User, limit: int = 10) -> list[Alert]:
    """The open urgent alerts of the user's clinic that are for the user now, and those for nobody in particular
    (no active prescriber or treating dermatologist at the clinic); ``for_user_id`` None marks the latter."""
    open_urgent = Alert.objects.filter(status=Alert.Status.OPEN, severity=Alert.Severity.URGENT)
    return list(
        recipients.for_user_or_unassigned(open_urgent, user)
        .select_related("patient")
        .order_by("created_at", "id")[:limit]
    )


NOTICES_SHOWN = 10  # alert messages after one save (a CSV import can raise many: the rest are counted)
EVERY_DERMATOLOGIST = "every dermatologist of the clinic"


@dataclass(frozen=True)
class AlertNotice:
    severity: int
    text: str


@dataclass(frozen=True)
class AlertNotices:
    shown: list[AlertNotice]
    more: int


def is_emergency(alert: Alert) -> bool:
    """Heart attack, stroke or blood clot signs: the patient must seek emergency care now."""
    return alert.severity == Alert.Severity.URGENT and alerting.EMERGENCY_ADVICE in alert.advice


def recipient_text(alert: Alert) -> str:
    """Whom the alert is for now, by name (``recipients.current_recipient``), or the whole clinic's dermatologists."""
    to = recipients.current_recipient(alert)
    return str(to) if to is not None else EVERY_DERMATOLOGIST


def alert_notice(alert: Alert) -> AlertNotice:
    """What the nurse who saved the result or check is told about the alert it raised."""
    text = f"{alert.get_severity_display()} alert sent to {recipient_text(alert)}: {alert.title}. {alert.advice}"
    if is_emergency(alert):
        number = alert.patient.clinic.emergency_number or "the emergency number"
        text = f"EMERGENCY: call {number} now; the patient must seek emergency care. {text}"
    return AlertNotice(severity=alert.severity, text=text)


def alerts_raised(*, lab_results: Iterable[LabResult] = (), alert_ids: Iterable[int] = ()) -> AlertNotices:
    """Notices for the alerts a save just raised (of these results, or these alerts), most severe first: one query
    (the alerts with their patients, clinics and recipients), and a count when there are more than can be told."""
    wanted = Q(lab_result_id__in=[r.pk for r in lab_results]) | Q(pk__in=list(alert_ids))
    qs = Alert.objects.filter(wanted).select_related("patient__clinic", "patient__dermatologist", "recipient")
    qs = qs.order_by("severity", "id")
    alerts = list(qs[: NOTICES_SHOWN + 1])
    more = qs.count() - NOTICES_SHOWN if len(alerts) > NOTICES_SHOWN else 0
    return AlertNotices(shown=[alert_notice(a) for a in alerts[:NOTICES_SHOWN]], more=more)


ALERT_SEVERITY_CODE = {
    Alert.Severity.URGENT: "urgent",
    Alert.Severity.SAME_DAY: "same_day",
    Alert.Severity.ROUTINE: "routine",
}


def open_alert_facts(patient: Patient) -> tuple[OpenAlert, ...]:
    """The patient's open alerts as the safety check reads them (registered with therapy in apps.py; one query)."""
    alerts = Alert.objects.filter(patient=patient, status=Alert.Status.OPEN).order_by("severity", "created_at", "id")
    return tuple(
        OpenAlert(
            severity=ALERT_SEVERITY_CODE[Alert.Severity(a.severity)],
            title=a.title,
            raised_on=timezone.localdate(a.created_at),
            ref=str(a.public_id),
        )
        for a in alerts
    )


# --- Lab entry ------------------------------------------------------------------------------------------------------


def panel_tests(panel: str) -> list[LabTest]:
    return list(LabTest.objects.with_unit_labels().filter(panel=panel).order_by("display_order", "name"))


# --- Trends on the patient page -------------------------------------------------------------------------------------

TREND_LIMIT = 1000  # severity assessments
TREND_POINTS_PER_TEST = 60  # the latest results per lab test on the patient page (years at the label's intervals)
FLAG_LABELS = {value: str(label) for value, label in LabResult._meta.get_field("flag").choices or ()}
SCORES = (  # field, title, targets: (value, label (the line's tooltip), short label in the chart)
    ("easi", "EASI (0–72)", ((Decimal("7"), "Mild/moderate boundary (7)", "Mild/moderate 7"),)),
    ("viga", "vIGA-AD (0–4)", ((Decimal("1"), "Target: clear or almost clear (0–1)", "Target ≤1"),)),
    ("itch_nrs", "Itch NRS (0–10)", ((Decimal("4"), "Moderate itch from 4", "Moderate from 4"),)),
    ("poem", "POEM (0–28)", ((Decimal("2"), "Clear/almost clear up to 2", "Clear ≤2"),)),
    ("dlqi", "DLQI (0–30)", ((Decimal("5"), "Small effect up to 5", "Small effect ≤5"),)),
)
COMPARISON_SIGN: dict[str, str] = {
    LabThreshold.Comparison.LT: "<",
    LabThreshold.Comparison.LE: "≤",
    LabThreshold.Comparison.GT: ">",
    LabThreshold.Comparison.GE: "≥",
}
EVENT_LABEL: dict[str, str] = {
    CourseEvent.Kind.START: "start",
    CourseEvent.Kind.DOSE_CHANGE: "dose change",
    CourseEvent.Kind.INTERRUPTION: "interrupted",
    CourseEvent.Kind.RESUMPTION: "resumed",
    CourseEvent.Kind.STOP: "stopped",
}
PANEL_ORDER = {value: n for n, value in enumerate(LabTest.Panel.values)}  # the catalogue's order: CBC first
PANEL_LABELS = dict(LabTest.Panel.choices)
ACTION_LABELS = {value: str(label) for value, label in LabThreshold.Action.choices}
OUT_OF_RANGE = {"low": "L", "high": "H"}


def _catalogue_order(test: LabTest) -> tuple:
    return (PANEL_ORDER.get(test.panel, len(PANEL_ORDER)), test.display_order, test.name)


def _trend_results_query(patient_id: int) -> QuerySet:
    """The latest TREND_POINTS_PER_TEST results of each test, and how many there are in all: one query, as tuples of
    the columns the panel shows (lab test id, collected on, value, entered value and unit, flag, action, in all)."""
    per_test = Window(RowNumber(), partition_by=[F("lab_test_id")], order_by=[F("collected_on").desc(), F("id").desc()])
    in_all = Window(Count("id"), partition_by=[F("lab_test_id")])
    return (
        LabResult.objects.filter(patient_id=patient_id, value__isnull=False)
        .annotate(nth=per_test, in_all=in_all)
        .filter(nth__lte=TREND_POINTS_PER_TEST)
        .order_by("collected_on", "id")
        .values_list(
            "lab_test_id", "collected_on", "value", "entered_value", "entered_unit", "flag", "action", "in_all"
        )
    )


@functools.cache
def _trend_results_sql(alias: str) -> str:
    """``_trend_results_query``'s SQL, built by the ORM once per process: building it (two windows, the filter on
    one of them) was 1.1 ms of the query's 1.4 ms CPU on the typical bench patient page (bench/profile_page.py).
    Its parameters are the patient's id and TREND_POINTS_PER_TEST, checked here."""
    sql, params = _trend_results_query(0).query.get_compiler(alias).as_sql()
    if list(params) != [0, TREND_POINTS_PER_TEST]:
        raise AssertionError(f"unexpected trend query parameters: {params}")
    return sql


def _trend_results(patient: Patient) -> list[tuple]:
    """``_trend_results_query`` for the patient. On PostgreSQL the SQL built once runs as it is: psycopg returns
    these columns as the ORM does (date, Decimal, str, int), so no converter is skipped; elsewhere (SQLite stores
    dates and decimals as text) through the ORM."""
    alias = patient._state.db or DEFAULT_DB_ALIAS
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return list(_trend_results_query(patient.pk).using(alias))
    with connection.cursor() as cursor:
        cursor.execute(_trend_results_sql(alias), [patient.pk, TREND_POINTS_PER_TEST])
        return cursor.fetchall()


def patient_monitoring(patient: Patient, user=None) -> dict:
    """Lab trends with action levels and therapy events (a chart where a test or score has two values or more; a
    line in ``single_results`` where a test has one), severity-score trends, and recent alerts (fixed queries).

    Lab values and action levels are shown in the unit system of the user's clinic (US or SI)."""
    system = unit_system_of(user) if user is not None else units.US
    results = _trend_results(patient)
    catalogue = patient_lab_catalogue(patient) if results else None  # shared with the timeline: read once
    tests = catalogue.tests if catalogue is not None else {}
    tested = {r[0] for r in results}
    courses = patient_courses(patient)  # shared with the therapy section: read once per request
    events = patient_course_events(patient)
    chart_events = [
        charts.Event(on=e.on, label=f"{e.course.drug} {EVENT_LABEL.get(e.kind, e.kind)}", kind=e.kind) for e in events
    ]
    levels_by_test: dict[int, list[charts.Level]] = defaultdict(list)
    if courses and catalogue is not None:
        jurisdictions = {c.drug_id: c.jurisdiction for c in courses}
        thresholds = [
            t for t in catalogue.thresholds if t.drug_id in jurisdictions and t.phase == LabThreshold.Phase.ON_TREATMENT
        ]
        seen = set()
        for t in thresholds:
            if t.jurisdiction not in ("ANY", jurisdictions[t.drug_id]):
                continue
            key = (t.lab_test_id, t.drug_id, t.value, t.action)
            if key in seen:
                continue
            seen.add(key)
            if t.lab_test_id not in tested:
                continue  # no result of this test to draw
            shown = tests[t.lab_test_id].display_unit(system)
            levels_by_test[t.lab_test_id].append(
                charts.Level(
                    value=shown.value(t.value),
                    label=(
                        f"{t.get_action_display()} {t.drug} ({t.get_comparison_display()} "
                        f"{shown.text_with_canonical(t.value)})"
                    ),
                    kind=t.action,
                    short=f"{t.drug}: {t.get_action_display().lower()} {COMPARISON_SIGN.get(t.comparison, '')}"
                    f"{fmt_decimal(shown.value(t.value))}",
                )
            )
    by_test: dict[int, list[tuple]] = defaultdict(list)
    for r in results:
        by_test[r[0]].append(r)
    lab_charts, single_results = [], []
    history_url_of = _lab_history_urls(patient)
    for test_id, results_of_test in sorted(by_test.items(), key=lambda kv: _catalogue_order(tests[kv[0]])):
        test = tests[test_id]
        shown = test.display_unit(system)
        unit = shown.label
        in_all = results_of_test[0][7]
        # (collected on, value in the unit shown, flag, action): what the figure and its table show of a result
        rows = [
            (on, shown.entered(text, code, value), flag, action)
            for _, on, value, text, code, flag, action, _ in results_of_test
        ]
        history_url = history_url_of(test.analyte)
        if len(rows) < 2:  # one value is a line of text, not a chart
            ((on, value, flag, action),) = rows
            single_results.append(
                {
                    "title": test.short_name,
                    "on": on,
                    "value": f"{fmt_decimal(value)} {unit}".strip(),
                    "flag": FLAG_LABELS.get(flag, "") if flag in OUT_OF_RANGE else "",
                    "action": ACTION_LABELS.get(action, action.capitalize()),
                    "history_url": history_url,
                }
            )
            continue
        points = [charts.Point(on, value) for on, value, _, _ in rows]
        chart = _as_text(charts.line_chart(points, levels=levels_by_test.get(test_id, []), events=chart_events))
        lab_charts.append(
            {
                "id": f"trend-{test.analyte}",
                "title": f"{test.short_name} ({unit})",
                "desc": _desc(test.short_name, unit, rows, in_all, levels_by_test.get(test_id, [])),
                "shown": _shown(len(rows), in_all),
                "chart": chart,
                "rows": [
                    _table_row(on, value, FLAG_LABELS.get(flag, ""), action)
                    for on, value, flag, action in reversed(rows)
                ],
                "unit": unit,
                "history_url": history_url,
                "count": in_all,
            }
        )
    assessments = sorted(patient_assessments(patient), key=lambda a: (a.assessed_on, a.pk))[:TREND_LIMIT]
    score_charts = []
    for field, title, targets in SCORES:
        points = [
            charts.Point(a.assessed_on, Decimal(getattr(a, field)))
            for a in assessments
            if getattr(a, field) is not None
        ]
        if len(points) < 2:
            continue  # a single assessment is in the patient page's severity table
        levels = [charts.Level(value=v, label=label, kind="target", short=short) for v, label, short in targets]
        score_charts.append(
            {
                "id": f"trend-{field}",
                "title": title,
                "desc": f"{title}: {len(points)} assessments from {points[0].on} to {points[-1].on}; latest "
                f"{charts.fmt_number(float(points[-1].value))}.",
                "chart": _as_text(charts.line_chart(points, levels=levels, events=chart_events)),
                "rows": [_table_row(p.on, p.value) for p in reversed(points)],
                "unit": "points",
            }
        )
    # Open alerts first (most severe, newest first), then acknowledged ones: the panel shows ten, and an open alert
    # must never be pushed off it by older acknowledged ones.
    alerts = sorted(patient_alerts(patient), key=lambda a: (a.status != Alert.Status.OPEN, a.severity, -a.pk))[:10]
    for alert in alerts:
        alert.sent_to = recipient_text(alert)  # type: ignore[attr-defined]  # for the template
    checks = patient_symptom_checks(patient)[:5]
    for check in checks:
        check.labels = [alerting.SYMPTOM_LABELS.get(c, c) for c in check.symptoms]  # type: ignore[attr-defined]
    return {
        "lab_charts": lab_charts,
        "single_results": single_results,
        "trend_events": chart_events,
        "score_charts": score_charts,
        "patient_alerts": alerts,
        "symptom_checks": checks,
    }


def _lab_history_urls(patient: Patient):
    """analyte -> the patient's full-history URL of that test: ``reverse`` once per page, not once per trend (a
    ``reverse`` costs about as much as a trend's table rows). The analyte is a slug (the URL's ``<slug:analyte>``),
    which ``reverse`` puts in the path as it is."""
    head, _, tail = reverse("monitoring:lab_history", args=[patient.public_id, "analyte"]).rpartition("/analyte/")
    return lambda analyte: f"{head}/{analyte}/{tail}"


def _number_text(value: Any) -> Any:
    """A coordinate as the template would print it: ``str`` is what localize gives for an int or a float in this
    portal's locale (decimal point ".", no thousand separator: USE_THOUSAND_SEPARATOR is off), done once here
    instead of a localize call per SVG attribute (hundreds per patient page)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    text = str(value)
    return text if "e" not in text else formats.localize(value)


def _as_text(chart: charts.Chart) -> charts.Chart:
    """The chart with its numbers as text (``_number_text``): the same SVG, without a number format per cell.
    The dots (one per value: most of the numbers) stay floats: ``monitoring.render`` prints them as they are."""
    for rows in (chart.levels, chart.events, chart.y_ticks, chart.x_ticks, [chart.plot]):
        for row in rows:
            for key, value in row.items():
                row[key] = _number_text(value)
    return chart


def _table_row(on: dt.date, value: Decimal, flag: str = "", action: str = "") -> dict:
    """One line of a chart's "values as a table", as text (hundreds per page: no per-cell template filters)."""
    return {"on": on, "date": on.isoformat(), "value": f"{value.normalize():f}", "flag": flag, "action": action}


def _shown(count: int, in_all: int) -> str:
    """'the latest 60 of 412 results' when the chart leaves older results out, else ''."""
    return f"the latest {count} of {in_all} results" if in_all > count else ""


def _desc(name: str, unit: str, rows: list[tuple], in_all: int, levels: list[charts.Level]) -> str:
    """The chart's description; ``rows`` are (collected on, value shown, flag, action), oldest first."""
    (first_on, *_), (latest_on, latest_value, latest_flag, _) = rows[0], rows[-1]
    shown = _shown(len(rows), in_all) or f"{len(rows)} results"
    text = (
        f"{name} in {unit}: {shown} from {first_on} to {latest_on}; latest "
        f"{latest_value.normalize():f} {unit} ({FLAG_LABELS.get(latest_flag) or 'not flagged'})."
    )
    if levels:
        text += " Action levels drawn: " + "; ".join(level.label for level in levels) + "."
    return text


def latest_saved_results(patient: Patient, limit: int = 20) -> list[LabResult]:
    """The patient's most recently recorded results with their alerts, whom each was sent to (``sent_to``) and unit
    labels (four queries)."""
    alerts = Alert.objects.select_related("recipient", "patient__dermatologist").order_by("severity", "id")
    results = list(
        patient.lab_results.select_related("lab_test")
        .prefetch_related(Prefetch("alerts", queryset=alerts), "lab_test__units")
        .order_by("-recorded_at", "-id")[:limit]
    )
    for result in results:
        for alert in result.alerts.all():
            alert.sent_to = recipient_text(alert)  # type: ignore[attr-defined]  # for the template
    return results


# --- The cumulative results table and one test's full history -------------------------------------------------------

TABLE_DATES_PER_PAGE = 12  # collection dates (columns) a page: fits A4 landscape with the test names
HISTORY_PAGE_SIZE = 50


def _value_text(result: LabResult, shown: units.DisplayUnit) -> str:
    """The value without its unit, in the unit shown (as typed when typed in it), or the coded result."""
    if result.value is None:
        return result.get_coded_display()
    return fmt_decimal(shown.entered(result.entered_value, result.entered_unit, result.value))


def _cell(result: LabResult, shown: units.DisplayUnit) -> dict:
    return {
        "value": _value_text(result, shown),
        "flag": OUT_OF_RANGE.get(result.flag, ""),
        "flag_label": FLAG_LABELS.get(result.flag, "") if result.flag in OUT_OF_RANGE else "",
        "action": ACTION_LABELS.get(result.action, result.action.capitalize()),
        "action_code": result.action,
    }


def results_table(patient: Patient, user, page: int = 1) -> dict:
    """Every test the patient has results of (rows, grouped by panel in catalogue order) by collection date
    (columns, newest first, ``TABLE_DATES_PER_PAGE`` a page), each cell the value in the clinic's unit system with
    its reference flag and the action level reached. Four queries whatever the record's size (the user's unit
    system is one more, once a request)."""
    system = unit_system_of(user)
    dates_page = page_of(
        LabResult.objects.filter(patient=patient)
        .order_by("-collected_on")
        .values_list("collected_on", flat=True)
        .distinct(),
        page,
        TABLE_DATES_PER_PAGE,
    )
    dates: list[dt.date] = dates_page.rows
    tested = LabResult.objects.filter(patient=patient).values("lab_test_id")  # a semi-join, not a DISTINCT over rows
    tests = sorted(LabTest.objects.with_unit_labels().filter(pk__in=tested), key=_catalogue_order)
    cells: dict[tuple[int, dt.date], list[dict]] = defaultdict(list)
    shown_units = {t.pk: t.display_unit(system) for t in tests}
    if dates:
        results = LabResult.objects.filter(
            patient=patient, collected_on__gte=dates[-1], collected_on__lte=dates[0]
        ).order_by("-collected_on", "-id")
        for r in results:
            cells[(r.lab_test_id, r.collected_on)].append(_cell(r, shown_units[r.lab_test_id]))
    groups: list[dict] = []
    for test in tests:
        if not groups or groups[-1]["panel"] != test.panel:
            groups.append({"panel": test.panel, "label": PANEL_LABELS.get(test.panel, test.panel), "rows": []})
        unit = shown_units[test.pk].label if test.value_type == LabTest.ValueType.QUANTITY else ""
        groups[-1]["rows"].append(
            {
                "test": test,
                "unit": unit,
                "history_url": reverse("monitoring:lab_history", args=[patient.public_id, test.analyte]),
                "cells": [cells.get((test.pk, on), []) for on in dates],
            }
        )
    return {"page": dates_page, "dates": dates, "groups": groups, "unit_system": system}


def get_lab_test(analyte: str) -> LabTest:
    """A catalogue lab test by its analyte key, with its unit labels (two queries); 404 when there is none."""
    test = LabTest.objects.with_unit_labels().filter(analyte=analyte).first()
    if test is None:
        raise Http404("No such lab test.")
    return test


def lab_history(patient: Patient, test: LabTest, user, page: int = 1) -> dict:
    """All the patient's results of one test, newest first, ``HISTORY_PAGE_SIZE`` a page: the value in the
    clinic's unit system, as typed, its flag, the action level reached and who recorded it (one query)."""
    system = unit_system_of(user)
    shown = test.display_unit(system)
    listed = page_of(
        LabResult.objects.filter(patient=patient, lab_test=test)
        .select_related("recorded_by")
        .order_by("-collected_on", "-id"),
        page,
        HISTORY_PAGE_SIZE,
    )
    rows = []
    for r in listed.rows:
        r.lab_test = test  # its unit labels are loaded: no query per row
        rows.append(
            {
                "result": r,
                "shown": r.display_text(system),
                "as_entered": (
                    f"{r.entered_value} {test.label_of(r.entered_unit)}".strip()
                    if r.value is not None
                    else r.get_coded_display()
                ),
                "converted": r.value is not None and r.entered_unit != shown.code,
                "flag": FLAG_LABELS.get(r.flag, ""),
                "out_of_range": r.flag in OUT_OF_RANGE,
                "action": ACTION_LABELS.get(r.action, r.action.capitalize()),
                "action_code": r.action,
            }
        )
    listed.rows = rows
    reference = ""
    if test.reference_low is not None and test.reference_high is not None:
        reference = f"{fmt_decimal(shown.value(test.reference_low))}–{shown.text(test.reference_high)}"
    elif test.reference_low is not None:
        reference = f"from {shown.text(test.reference_low)}"
    elif test.reference_high is not None:
        reference = f"up to {shown.text(test.reference_high)}"
    unit = shown.label if test.value_type == LabTest.ValueType.QUANTITY else ""
    return {"test": test, "page": listed, "unit": unit, "reference": reference, "unit_system": system}
