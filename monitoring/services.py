"""Writes for monitoring: lab results (form and CSV), their interpretation and alerts, symptom checks, checks done,
and acknowledging or acting on alerts. Every write is one transaction and audited; rules come from
``drugs.units``, ``therapy.thresholds`` and ``monitoring.alerting`` (pure functions)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from drugs import units
from drugs.models import LabTest
from drugs.selectors import drug_label
from drugs.services import current_catalogue_version
from monitoring import alerting, reminders
from monitoring.models import Alert, RecallContact, SymptomCheck
from monitoring.recipients import recipient_for
from patients import screening
from patients.dates import result_date_error
from patients.models import LabResult, Patient, ResultFlag
from patients.services import screening_facts_changed, screening_result_record
from portal import errors
from portal.audit import audit_record
from portal.formats import date_text
from portal.models import AuditEvent, User
from portal.outbox import email_enqueue
from therapy import services
from therapy.models import ScheduledItem, TreatmentCourse
from therapy.schedule import BASELINE, check_name
from therapy.selectors import SCREENING_CHECKS, baseline_done_by_record
from therapy.thresholds import check_result, needs_previous

# Screening lab tests: the patient's screening record item they update, and the schedule check they complete (the
# catalogue item). Both come from the one bridge table, patients.screening.
SCREENING_RECORD_ITEM = screening.LAB_ANALYTE_ITEM
SCREENING_CHECK = {analyte: screening.CATALOGUE_ITEM_OF[item] for analyte, item in SCREENING_RECORD_ITEM.items()}
LAB_CHECK_TYPES = {"cbc", "lipids", "liver", "kidney", "cpk", *SCREENING_CHECK.values()}
# Checks that are completed by their result, never by "record done": a lab panel or screening test (by the lab
# entry or CSV import that stores the result) and the warning-sign check (by its own form).
RESULT_CHECK_TYPES = LAB_CHECK_TYPES | {"infection_check"}
# Checks with no result form of their own, which "record done" is for.
DONE_BY_HAND_CHECK_TYPES = {"efficacy_review", "skin_exam", "vaccines"}
ALERT_SEVERITY = {
    alerting.URGENT: Alert.Severity.URGENT,
    alerting.SAME_DAY: Alert.Severity.SAME_DAY,
    alerting.ROUTINE: Alert.Severity.ROUTINE,
}
INTERPRETED_STATUSES = (TreatmentCourse.Status.ACTIVE, TreatmentCourse.Status.INTERRUPTED)


class MonitoringError(errors.DomainError):
    """A monitoring action that cannot be done; ``field`` names the form field the message belongs to."""


@dataclass(frozen=True, kw_only=True)
class ResultRow:
    """One validated result, value already in the canonical unit."""

    patient: Patient
    lab_test: LabTest
    collected_on: dt.date
    value: Decimal | None = None
    coded_value: str = ""
    entered_value: str = ""
    entered_unit: str = ""
    source_row: int = 0  # the CSV line it came from (0: not from a file), to name it in the import summary


def check_type_for(lab_test: LabTest) -> str:
    if lab_test.panel == LabTest.Panel.SCREENING:
        return SCREENING_CHECK.get(lab_test.analyte, "")
    return lab_test.panel


def _completable(item: ScheduledItem, on: dt.date) -> bool:
    """Baseline items, and items whose window has opened by ``on`` (due, or overdue)."""
    return item.kind == "baseline" or item.earliest is None or item.earliest <= on


def _complete_items(actor: User, wanted: dict[int, dict[str, dt.date]]) -> int:
    """Close the open items of each patient's check types; ``wanted`` is patient id -> check type -> date done."""
    if not wanted:
        return 0
    types = {t for per_patient in wanted.values() for t in per_patient}
    items = list(
        ScheduledItem.objects.filter(patient_id__in=wanted, status=ScheduledItem.Status.OPEN, check_type__in=types)
    )
    # A baseline screening check closes only when the record satisfies it (the one reading, patients.screening): an
    # HBsAg result alone does not close "hepatitis B", which needs the core antibody too.
    by_record = baseline_done_by_record(items)
    done = []
    for item in items:
        on = wanted[item.patient_id].get(item.check_type)
        if item.kind == BASELINE and item.check_type in SCREENING_CHECKS and item.pk not in by_record:
            continue
        if on is not None and _completable(item, on):
            item.status = ScheduledItem.Status.DONE
            item.completed_on = on
            item.completed_by = actor
            done.append(item)
    ScheduledItem.objects.bulk_update(done, ["status", "completed_on", "completed_by"])
    return len(done)


def _open_courses(patient_ids: Iterable[int]) -> dict[int, list[TreatmentCourse]]:
    by_patient: dict[int, list[TreatmentCourse]] = defaultdict(list)
    courses = TreatmentCourse.objects.filter(patient_id__in=set(patient_ids), status__in=INTERPRETED_STATUSES)
    for course in courses.select_related("drug", "prescriber").order_by("id"):
        by_patient[course.patient_id].append(course)
    return by_patient


def _previous_result(result: LabResult, *, since: dt.date) -> tuple[Decimal, dt.date] | None:
    """The patient's result of the same test before ``result``, taken on the course (from ``since``): one query,
    only for a result that passes a level whose action depends on it."""
    earlier = (
        LabResult.objects.filter(
            patient_id=result.patient_id, lab_test_id=result.lab_test_id, value__isnull=False, collected_on__gte=since
        )
        .filter(Q(collected_on__lt=result.collected_on) | Q(collected_on=result.collected_on, pk__lt=result.pk))
        .order_by("-collected_on", "-pk")
        .values_list("value", "collected_on")
        .first()
    )
    return (earlier[0], earlier[1]) if earlier and earlier[0] is not None else None


def interpret_results(results: list[LabResult]) -> list[Alert]:
    """Flag each result against its reference range, apply the action levels of the patient's open courses, store
    the worst action on the result and raise one alert per result and course (never twice)."""
    version = current_catalogue_version()
    courses = _open_courses(r.patient_id for r in results)
    # Alert text is written once, in the units the patient's clinic reads (US or SI); the patient's clinic and
    # dermatologist also decide whom an alert is for.
    patients = Patient.objects.select_related("clinic", "dermatologist").in_bulk({r.patient_id for r in results})
    systems = {pk: p.clinic.unit_system for pk, p in patients.items()}
    labels = {}
    alerts = []
    for result in results:
        test = result.lab_test
        shown_in = test.display_unit(systems.get(result.patient_id) or units.US)
        result.interpreted_version = version
        if test.value_type == LabTest.ValueType.CODED or result.value is None:
            result.flag = ResultFlag.CODED
            continue
        result.flag = units.reference_flag(result.value, test.reference_low, test.reference_high).code
        worst = None
        for course in courses.get(result.patient_id, []):
            if result.collected_on < course.start_date:
                continue  # taken before the first dose: a baseline value, not an on-treatment action level
            if course.drug_id not in labels:
                labels[course.drug_id] = drug_label(course.drug)
            label = labels[course.drug_id]
            previous = None
            if needs_previous(test.analyte, result.value, label, course.jurisdiction):
                previous = _previous_result(result, since=course.start_date)
            findings = check_result(
                test.analyte,
                result.value,
                label,
                course.jurisdiction,
                True,
                version,
                previous=previous,
                shown_in=shown_in if shown_in.converts else None,
            )
            finding = alerting.worst_finding(findings)
            if finding is None:
                continue
            draft = alerting.lab_alert(
                finding, test_name=test.finding_name, drug_name=str(course.drug), collected_on=str(result.collected_on)
            )
            if worst is None or alerting.SEVERITY_ORDER[draft.severity] < alerting.SEVERITY_ORDER[worst.severity]:
                worst = draft
            alerts.append(_alert(draft, patient=patients[result.patient_id], course=course, lab_result=result))
        if worst is not None:
            result.action, result.action_rule, result.action_source = worst.action, worst.rule, worst.source[:200]
    LabResult.objects.bulk_update(
        results, ["flag", "action", "action_rule", "action_source", "interpreted_version"], batch_size=500
    )
    Alert.objects.bulk_create(alerts, ignore_conflicts=True)
    return alerts


def _alert(draft: alerting.AlertDraft, *, patient: Patient, course, lab_result=None, symptom_check=None):
    """An unsaved alert, for whom ``recipients.recipient_for`` says (None: the whole patient's clinic)."""
    return Alert(
        patient_id=patient.pk,
        course=course,
        recipient=recipient_for(patient, course),
        lab_result=lab_result,
        symptom_check=symptom_check,
        kind=Alert.Kind.LAB_ACTION if lab_result is not None else Alert.Kind.SYMPTOM,
        severity=ALERT_SEVERITY[draft.severity],
        title=draft.title,
        reason=draft.reason,
        advice=draft.advice,
        rule=draft.rule,
        source=draft.source[:200],
        catalogue_version=draft.catalogue_version,
    )


@dataclass(frozen=True)
class Recorded:
    """What ``lab_results_record`` stored, and the rows it did not store because the same result (patient, test,
    collection date and value) was already recorded, by an earlier entry or by a simultaneous one."""

    results: list[LabResult]
    already_recorded: list[ResultRow]


def _row_key(row: ResultRow) -> tuple:
    return (row.patient.pk, row.lab_test.pk, row.collected_on, row.value is None, row.value or 0, row.coded_value)


def _store(rows: list[ResultRow], actor: User) -> tuple[list[LabResult], list[ResultRow]]:
    """Insert the rows; those the database refuses as duplicates (patients.LabResult's unique constraints) are
    returned apart. All in one savepoint first (the usual case); if any row clashes, one savepoint per row, so the
    others are still stored. Rows go in a fixed order, so two imports of overlapping files lock the same index
    entries in the same order and wait for each other instead of deadlocking."""

    def new(row: ResultRow) -> LabResult:
        return LabResult(
            patient=row.patient,
            lab_test=row.lab_test,
            collected_on=row.collected_on,
            value=row.value,
            coded_value=row.coded_value,
            entered_value=row.entered_value[:40],
            entered_unit=row.entered_unit[:30],
            recorded_by=actor,
        )

    ordered = sorted(rows, key=_row_key)
    try:
        with transaction.atomic():
            return LabResult.objects.bulk_create([new(row) for row in ordered]), []
    except IntegrityError:
        pass  # a simultaneous request stored some of them first (it had committed, or we waited for it to)
    stored, already = [], []
    for row in ordered:
        try:
            with transaction.atomic():
                stored.append(LabResult.objects.bulk_create([new(row)])[0])
        except IntegrityError:
            already.append(row)
    return stored, already


@transaction.atomic
def lab_results_record(*, actor: User, rows: list[ResultRow], origin: str = "form") -> Recorded:
    """Store validated results once, complete the matching checks, update screening records, interpret (alerts for
    the stored results only), audit. A row already recorded is not stored again and raises no second alert: it is
    returned in ``already_recorded`` for the page to say so."""
    if not rows:
        raise MonitoringError("Enter at least one result.")
    results, already = _store(rows, actor)
    skipped = {id(row) for row in already}
    rows = [row for row in rows if id(row) not in skipped]
    wanted: dict[int, dict[str, dt.date]] = defaultdict(dict)
    for row in rows:
        check_type = check_type_for(row.lab_test)
        if check_type:
            current = wanted[row.patient.pk].get(check_type)
            wanted[row.patient.pk][check_type] = max(current, row.collected_on) if current else row.collected_on
        item = SCREENING_RECORD_ITEM.get(row.lab_test.analyte)
        if item and row.coded_value:
            screening_result_record(
                actor=actor,
                patient=row.patient,
                item=item,
                performed_on=row.collected_on,
                result=row.coded_value,
                note=f"From the lab result ({row.lab_test.short_name})",
            )
    completed = _complete_items(actor, wanted)
    screening_facts_changed(actor=actor, patient_ids={r.patient_id for r in results})
    alerts = interpret_results(results) if results else []
    by_patient: dict[int, list[ResultRow]] = defaultdict(list)
    for row in rows:
        by_patient[row.patient.pk].append(row)
    for patient_rows in by_patient.values():
        patient = patient_rows[0].patient
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=patient,
            summary=f"{len(patient_rows)} lab result(s) recorded ({origin})",
            changes={
                "tests": ", ".join(sorted({r.lab_test.short_name for r in patient_rows})),
                "alerts": sum(1 for a in alerts if a.patient_id == patient.pk),
            },
        )
    if origin == "csv":
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            object_type="monitoring.labresult",
            summary=f"CSV import: {len(results)} results for {len(by_patient)} patients",
            changes={
                "results": len(results),
                "already_recorded": len(already),
                "checks_completed": completed,
                "alerts": len(alerts),
            },
        )
    return Recorded(results, already)


# --- Symptom checks -------------------------------------------------------------------------------------------------


def _latest_open_course(patient: Patient) -> TreatmentCourse | None:
    return (
        TreatmentCourse.objects.filter(patient=patient, status__in=INTERPRETED_STATUSES)
        .select_related("drug", "prescriber")
        .order_by("-start_date", "-id")
        .first()
    )


@transaction.atomic
def symptom_check_record(
    *, actor: User, patient: Patient, checked_on: dt.date, symptoms: list[str], none_reported: bool, note: str = ""
) -> tuple[SymptomCheck, Alert | None]:
    unknown = [s for s in symptoms if s not in alerting.SYMPTOM_LABELS]
    if unknown:
        raise MonitoringError("Choose symptoms from the list.", "symptoms")
    if symptoms and none_reported:
        raise MonitoringError("Tick symptoms or “none of these”, not both.", "none_reported")
    if not symptoms and not none_reported:
        raise MonitoringError("Tick the symptoms the patient reports, or “none of these”.", "symptoms")
    if message := result_date_error(checked_on, patient.date_of_birth, timezone.localdate()):
        raise MonitoringError(message, "checked_on")
    check = SymptomCheck.objects.create(
        patient=patient,
        checked_on=checked_on,
        symptoms=list(dict.fromkeys(symptoms)),
        none_reported=none_reported,
        note=note.strip(),
        recorded_by=actor,
    )
    _complete_items(actor, {patient.pk: {"infection_check": checked_on}})
    alert = None
    course = _latest_open_course(patient)
    rule = None
    if course is not None:
        rules = drug_label(course.drug).for_jurisdiction(course.jurisdiction).infection_rules
        rule = rules[0] if rules else None
    draft = alerting.escalate_symptoms(symptoms, infection_rule=rule, drug_name=str(course.drug) if course else "")
    if draft is not None:
        alert = _alert(draft, patient=patient, course=course, symptom_check=check)
        alert.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=patient,
        summary="Infection and warning-sign check recorded",
        changes={
            "symptoms": ", ".join(check.symptoms) or "none reported",
            "alert": alert.get_severity_display() if alert else None,
        },
    )
    return check, alert


# --- Checks done ----------------------------------------------------------------------------------------------------


@transaction.atomic
def scheduled_item_done(*, actor: User, item: ScheduledItem, done_on: dt.date, note: str = "") -> ScheduledItem:
    item = ScheduledItem.objects.select_for_update().select_related("patient").get(pk=item.pk)
    if item.status != ScheduledItem.Status.OPEN:
        raise MonitoringError("This check is no longer open (someone completed or cancelled it).")
    if item.check_type not in DONE_BY_HAND_CHECK_TYPES:
        raise MonitoringError(
            f"{check_name(item.check_type)} is completed by entering its result, not by recording it as done."
        )
    if message := result_date_error(done_on, item.patient.date_of_birth, timezone.localdate()):
        raise MonitoringError(message, "done_on")
    item.status = ScheduledItem.Status.DONE
    item.completed_on = done_on
    item.completed_by = actor
    item.completion_note = note.strip()[:300]
    item.save(update_fields=["status", "completed_on", "completed_by", "completion_note"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=item.patient,
        summary=f"Check done: {item.check_type} due {item.due_date}",
        changes={"item": str(item.public_id), "done_on": done_on.isoformat()},
    )
    return item


# --- Alerts ---------------------------------------------------------------------------------------------------------


def _lock_alert(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().select_related("patient").get(pk=alert.pk)


@transaction.atomic
def alert_acknowledge(*, actor: User, alert: Alert, comment: str) -> Alert:
    if not comment.strip():
        raise MonitoringError("Write a comment: what you decided and why.", "comment")
    alert = _lock_alert(alert)
    if alert.status != Alert.Status.OPEN:
        raise MonitoringError("This alert was already acknowledged.")
    alert.status = Alert.Status.ACKNOWLEDGED
    alert.acknowledged_by = actor
    alert.acknowledged_at = timezone.now()
    alert.comment = comment.strip()
    alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "comment"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=alert.patient,
        summary=f"Alert acknowledged: {alert.title}",
        changes={"alert": str(alert.public_id)},
    )
    return alert


ALERT_ACTIONS = ("stop", "interrupt", "resume", "dose")


@transaction.atomic
def alert_act(*, actor: User, alert: Alert, action: str, data: dict, comment: str) -> Alert:
    """Change the course the alert is about (stop, interrupt, resume, dose) and acknowledge it, all or nothing."""
    if not comment.strip():
        raise MonitoringError("Write a comment: what you decided and why.", "comment")
    if alert.course is None:
        raise MonitoringError("This alert is not linked to a course; acknowledge it instead.")
    if alert.status != Alert.Status.OPEN:
        raise MonitoringError("This alert was already acknowledged.")
    course = alert.course
    common = {"actor": actor, "course": course, "on": data["on"], "row_version": data.get("row_version")}
    # Acknowledged first, in the same transaction: the safety check of a dose change or resumption then does not
    # list the alert being acted on as an open alert; if the action is refused, both roll back.
    acknowledged = alert_acknowledge(actor=actor, alert=alert, comment=comment)
    try:
        if action == "stop":
            services.course_stop(**common, reason=data["reason"], note=data.get("note", ""))
        elif action == "interrupt":
            services.course_interrupt(**common, reason=data["reason"], analyte=data.get("analyte", ""))
        elif action == "resume":
            services.course_resume(**common, reason=data["reason"])
        elif action == "dose":
            services.course_change_dose(
                **common, dose=data["dose"], frequency=data.get("frequency", ""), reason=data["reason"]
            )
        else:
            raise MonitoringError("Unknown action.")
    except services.TherapyError as exc:
        raise MonitoringError(str(exc), exc.field) from None
    acknowledged.action = action
    acknowledged.save(update_fields=["action"])
    return acknowledged


def alerts_escalate(*, older_than: dt.timedelta, now: dt.datetime | None = None) -> list[Alert]:
    """Mark urgent alerts left open longer than ``older_than`` as escalated (once), audit each one and queue its
    email in the outbox, all in one transaction: an escalated alert always has its email queued, and the row lock
    (plus the email's dedupe key) keeps simultaneous runs from escalating or emailing twice.

    Each returned alert carries ``emailed_to``, the number of addresses its email was queued for (0: nobody has an
    email address)."""
    now = now or timezone.now()
    # With what ``recipients.current_recipient`` reads to say whom to tell now.
    related = ("patient", "patient__clinic", "patient__dermatologist", "recipient")
    with transaction.atomic():
        due = list(
            Alert.objects.select_for_update()
            .filter(
                status=Alert.Status.OPEN,
                severity=Alert.Severity.URGENT,
                escalated_at__isnull=True,
                created_at__lte=now - older_than,
            )
            .order_by("created_at", "id")
        )
        for alert in due:
            alert.escalated_at = now
        Alert.objects.bulk_update(due, ["escalated_at"])
        escalated = list(Alert.objects.filter(pk__in=[a.pk for a in due]).select_related(*related))
        escalated.sort(key=lambda a: (a.created_at, a.pk))
        for alert in escalated:
            to = reminders.escalation_recipients(alert)
            alert.emailed_to = len(to)  # type: ignore[attr-defined]  # for the command's report
            if to:
                subject, body = reminders.escalation_email(alert, older_than=older_than)
                email_enqueue(key=reminders.escalation_key(alert), to=to, subject=subject, body=body, now=now)
            audit_record(
                actor=None,
                action=AuditEvent.Action.CHANGE,
                object_type="monitoring.alert",
                object_id=str(alert.pk),
                summary="Urgent alert escalated: unacknowledged",
                changes={"alert": str(alert.public_id), "escalated_at": now.isoformat(), "emailed_to": len(to)},
            )
    return escalated


DIGEST_AUDIT_SUMMARY = "Reminder digest queued for {}"


@transaction.atomic
def reminder_digest_enqueue(*, digest: reminders.Digest) -> bool:
    """Queue a clinic's digest for its day in the outbox, once (its key names the clinic and the day), with the
    audit row. False when it was already queued, by an earlier run or a simultaneous one."""
    _, created = email_enqueue(key=digest.key, to=digest.recipients, subject=digest.subject, body=digest.body)
    if created:
        audit_record(
            actor=None,
            action=AuditEvent.Action.CREATE,
            object_type="portal.clinic",
            object_id=str(digest.clinic_id),
            summary=DIGEST_AUDIT_SUMMARY.format(digest.day.isoformat()),
            changes={
                "recipients": len(digest.recipients),
                "overdue": digest.overdue,
                "due": digest.due,
                "email": digest.key,
            },
        )
    return created


# --- Recalls and letters from the worklist ---------------------------------------------------------------------------

RECALL_MAX_DAYS_BACK = 366  # a contact recorded late is fine; a date over a year back is a typing slip


@dataclass(frozen=True)
class RecallOutcome:
    """What a bulk recall or letter did: the contacts stored, and how many selected checks were left out."""

    recorded: list[RecallContact]
    ignored: int


@transaction.atomic
def recall_contacts_record(
    *, actor: User, item_ids: Iterable, kind: str, contacted_on: dt.date | None = None
) -> RecallOutcome:
    """Record that these checks' patients were recalled (or sent a letter) on ``contacted_on`` (default today):
    one contact and one audit row per check. Checks of another clinic, closed checks and unknown ids are left out
    (counted in ``ignored``), never an error, so one stale row does not refuse the nurse's whole selection."""
    if kind not in RecallContact.Kind.values:
        raise MonitoringError("Choose what was done: recalled or letter sent.", "kind")
    today = timezone.localdate()
    contacted_on = contacted_on or today
    if contacted_on > today:
        raise MonitoringError("The date cannot be in the future.", "contacted_on")
    if contacted_on < today - dt.timedelta(days=RECALL_MAX_DAYS_BACK):
        raise MonitoringError("The date is more than a year ago: check it.", "contacted_on")
    wanted = {str(i) for i in item_ids}
    if actor.clinic_id is None or not wanted:
        return RecallOutcome(recorded=[], ignored=len(wanted))
    items = list(
        ScheduledItem.objects.select_for_update()
        .filter(public_id__in=wanted, patient__clinic_id=actor.clinic_id, status=ScheduledItem.Status.OPEN)
        .order_by("id")
    )
    contacts = [RecallContact(item=i, kind=kind, contacted_on=contacted_on, recorded_by=actor) for i in items]
    for contact in contacts:
        contact.full_clean(exclude=["item", "recorded_by"])
    RecallContact.objects.bulk_create(contacts)
    label = RecallContact.Kind(kind).label
    for item in items:
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            object_type="patients.patient",
            object_id=str(item.patient_id),
            summary=f"{label}: {item.check_type} due {item.due_date}",
            changes={"item": str(item.public_id), "contact": kind, "contacted_on": contacted_on.isoformat()},
        )
    return RecallOutcome(recorded=contacts, ignored=len(wanted) - len(items))


@transaction.atomic
def worklist_export_record(*, actor: User, filters: dict, rows: int) -> AuditEvent:
    """Audit one download of the worklist as CSV: the filters and how many rows, never whose (no names)."""
    shown = {k: v for k, v in filters.items() if v not in ("", None)}
    described = ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "none"
    return audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        object_type="monitoring.worklist",
        object_id=str(actor.clinic_id or ""),
        summary=f"Worklist exported as CSV: {rows} check(s); filters: {described}",
        changes={"filters": shown, "rows": rows},
    )


@transaction.atomic
def lab_result_alerts_superseded(*, result: LabResult, corrected_to: str) -> tuple[int, int]:
    """Before a result the lab corrected is replaced (HL7 OBX-11 C): its open alerts are withdrawn (they were about
    a wrong value and nobody acted on them yet; the corrected value is interpreted afresh), while acknowledged ones
    stay in the record, detached from the deleted row, with the correction appended to their "why", so what a
    dermatologist decided and why is never lost. Returns (withdrawn, kept)."""
    alerts = list(Alert.objects.select_for_update().filter(lab_result=result))
    open_ids = [a.pk for a in alerts if a.status == Alert.Status.OPEN]
    kept = [a for a in alerts if a.status != Alert.Status.OPEN]
    for alert in kept:
        alert.lab_result = None
        alert.reason = (
            f"{alert.reason}\n\nThe lab later corrected this result ({result.lab_test.short_name} collected "
            f"{date_text(result.collected_on)}: {result.entered_value or result.coded_value} → {corrected_to})."
        )
        alert.save(update_fields=["lab_result", "reason"])
    Alert.objects.filter(pk__in=open_ids).delete()
    return len(open_ids), len(kept)
