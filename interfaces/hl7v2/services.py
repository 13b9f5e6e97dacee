"""Receiving lab results by HL7 v2: one ORU^R01 in, one ACK out, the same way over HTTP and MLLP.

A message is matched to a patient of the token's clinic by PID-3 (the portal's record number), its OBX rows to the
catalogue's lab tests by LOINC, and each value is converted and checked by the lab form's own path
(``LabTest.unit_for`` and ``drugs.units.entered_to_canonical``); then ``monitoring.services.lab_results_record``
stores, interprets and alerts exactly as for a typed result. All or nothing: one refused row refuses the message
(AE, nothing stored), like a CSV upload with one bad row. A message whose patient is unknown is held in the
interface inbox (AE) for staff to assign or reject; assigning runs it through the same steps.

The results are recorded by the token's interface account: a user named after the token (``interface:<name>``)
with no role, no usable password and no log-in (inactive). ``LabResult.recorded_by`` and the audit trail need an
account, and this one names the system the results came from wherever a result's author is shown.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from drugs import units
from drugs.models import LabTest
from interfaces.endpoint import Caller, log_request
from interfaces.hl7v2 import message as er7
from interfaces.models import InboxMessage, InterfaceRequest, InterfaceToken
from monitoring import services as monitoring
from patients.dates import result_date_error
from patients.models import LabResult, Patient
from patients.services import screening_facts_changed
from portal import errors
from portal.audit import audit_record
from portal.models import AuditEvent, User

ORIGIN = "HL7 v2"
STORED_STATUSES = {"F": "final", "C": "correction"}
STATUS_WORDS = {
    "P": "preliminary",
    "I": "pending",
    "R": "not verified",
    "S": "partial",
    "X": "could not be obtained",
    "D": "deleted",
    "W": "wrong patient",
    "N": "not asked",
    "U": "status changed to final without a new value",
}
CODED = {code for code, _label in units.CODED_VALUES}
# CWE/CE answers as labs code them, read as the catalogue's coded values (the text component, lower case).
CODED_WORDS = {"pos": "positive", "neg": "negative", "detected": "positive", "not detected": "negative"}
NUMERIC_TYPES = {"NM", "SN", ""}


class Refused(errors.DomainError):
    """The message is answered AE (or AR) with this reason and stores nothing."""

    def __init__(self, message: str, *, code: str = er7.ERR_APPLICATION, location: str = "", ack: str = "AE"):
        super().__init__(message)
        self.code = code
        self.location = location
        self.ack = ack


class InboxError(errors.DomainError):
    """An inbox action that cannot be done (already handled, no patient chosen, the message refused)."""


@dataclass
class Outcome:
    """What became of one message: the ACK code and text, the request log's outcome, and what was stored."""

    ack: str
    text: str
    log_outcome: str
    message_id: str = ""
    error_code: str = ""
    location: str = ""
    results: list[LabResult] = field(default_factory=list)
    inbox: InboxMessage | None = None

    def ack_text(self, raw: str) -> str:
        return er7.build_ack(raw, self.ack, text=self.text, error_code=self.error_code, location=self.location)


# --- The interface account ------------------------------------------------------------------------------------------


def interface_account(token: InterfaceToken) -> User:
    """The account the token's results are recorded by, created on first use: inactive, no password, no role."""
    user, created = User.objects.get_or_create(
        username=token.actor_label[:150], defaults={"clinic": token.clinic, "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if user.is_active or user.has_usable_password() or user.clinic_id != token.clinic_id:
        raise Refused(
            f"The portal account {user.username} is not this interface's account; ask the portal administrator.",
            ack="AR",
        )
    return user


# --- Matching and checking --------------------------------------------------------------------------------------


def match_patient(message: er7.OruMessage, *, clinic_id: int) -> Patient | None:
    """The clinic's patient whose record number is one of PID-3's identifiers; None when none is. Identifiers
    naming two different patients refuse the message (never a guess)."""
    found = list(Patient.objects.filter(clinic_id=clinic_id, record_number__in=message.record_numbers)[:2])
    if len(found) > 1:
        raise Refused(
            "PID-3 names more than one patient of the clinic; send the portal's record number only.",
            code=er7.ERR_UNKNOWN_KEY,
            location="PID^1^3",
        )
    return found[0] if found else None


def _coded(obx: er7.Observation) -> str:
    parts = obx.value.split("^")
    for candidate in (parts[1] if len(parts) > 1 else "", parts[0]):
        word = candidate.strip().lower()
        word = CODED_WORDS.get(word, word)
        if word in CODED:
            return word
    return ""


@dataclass(frozen=True)
class Checked:
    rows: list[monitoring.ResultRow]
    corrections: list[monitoring.ResultRow]
    skipped: list[str]  # "OBX 4 (...): preliminary" — rows not stored because of their status


def check_rows(message: er7.OruMessage, patient: Patient) -> Checked:
    """Every OBX as a validated ResultRow (value in the canonical unit), or Refused naming the first bad row. Rows
    whose status is not final or corrected are left out and named in ``skipped``."""
    tests = {t.loinc: t for t in LabTest.objects.with_unit_labels()}
    today = timezone.localdate()
    rows: list[monitoring.ResultRow] = []
    corrections: list[monitoring.ResultRow] = []
    skipped: list[str] = []
    for obx in message.observations:
        where = f"OBX^{obx.set_id}"
        if obx.status not in STORED_STATUSES:
            word = STATUS_WORDS.get(obx.status, "no status" if not obx.status else f"status {obx.status}")
            skipped.append(f"{obx.label}: {word} (OBX-11 {obx.status or 'empty'}), not stored")
            continue
        test = tests.get(obx.code)
        if test is None or (obx.code_system and not obx.is_loinc):
            raise Refused(
                f"{obx.label}: unknown test; OBX-3 must be a LOINC code of the portal's catalogue "
                "(e.g. 777-3^Platelets^LN).",
                code=er7.ERR_TABLE_VALUE,
                location=f"{where}^3",
            )
        if obx.collected_date is None:
            raise Refused(
                f"{obx.label}: no collection time (OBX-14 or OBR-7).",
                code=er7.ERR_REQUIRED_FIELD,
                location=f"{where}^14",
            )
        if date_error := result_date_error(obx.collected_date, patient.date_of_birth, today):
            raise Refused(f"{obx.label}: {date_error}", code=er7.ERR_DATA_TYPE, location=f"{where}^14")
        if test.value_type == LabTest.ValueType.CODED:
            coded = _coded(obx)
            if not coded:
                raise Refused(
                    f"{obx.label}: the result must be positive, negative or indeterminate for {test.short_name}.",
                    code=er7.ERR_DATA_TYPE,
                    location=f"{where}^5",
                )
            row = monitoring.ResultRow(
                patient=patient,
                lab_test=test,
                collected_on=obx.collected_date,
                coded_value=coded,
                entered_value=obx.value[:40],
            )
        else:
            row = _numeric_row(obx, test, patient, where)
        (corrections if obx.status == "C" else rows).append(row)
    if not rows and not corrections:
        raise Refused(
            "No final or corrected result to store: " + "; ".join(skipped) + ".",
            code=er7.ERR_TABLE_VALUE,
            location="OBX^1^11",
        )
    return Checked(rows, corrections, skipped)


def _numeric_row(obx: er7.Observation, test: LabTest, patient: Patient, where: str) -> monitoring.ResultRow:
    if obx.value_type not in NUMERIC_TYPES:
        raise Refused(
            f"{obx.label}: {test.short_name} needs a number (OBX-2 NM or SN), not {obx.value_type}.",
            code=er7.ERR_DATA_TYPE,
            location=f"{where}^2",
        )
    if not obx.unit:
        raise Refused(
            f"{obx.label}: OBX-6 (unit) is empty; accepted for {test.short_name}: {test.accepted_units_text}.",
            code=er7.ERR_REQUIRED_FIELD,
            location=f"{where}^6",
        )
    unit = test.unit_for(obx.unit)
    if unit is None:
        raise Refused(
            f"{obx.label}: unit {obx.unit} not accepted for {test.short_name} (accepted: {test.accepted_units_text}).",
            code=er7.ERR_TABLE_VALUE,
            location=f"{where}^6",
        )
    try:
        raw = er7.numeric_value(obx)
        value = test.to_canonical(raw, unit)
    except er7.ParseError as exc:
        raise Refused(str(exc), code=exc.code, location=exc.location) from None
    except units.EntryError as exc:
        raise Refused(f"{obx.label}: {exc}", code=er7.ERR_DATA_TYPE, location=f"{where}^5") from None
    return monitoring.ResultRow(
        patient=patient,
        lab_test=test,
        collected_on=obx.collected_date,  # type: ignore[arg-type]  # checked above
        value=value,
        entered_value=raw.strip(),
        entered_unit=unit.unit,
    )


# --- Storing ------------------------------------------------------------------------------------------------------


def _apply_corrections(corrections: list[monitoring.ResultRow], *, actor: User) -> list[monitoring.ResultRow]:
    """A corrected result (OBX-11 C) replaces the one stored for the same test and collection day: the earlier
    row is deleted (its open alerts withdrawn, its acknowledged ones kept with the correction noted; see
    ``monitoring.services.lab_result_alerts_superseded``) and the correction is stored as a new
    result, so it is interpreted and alerted on like any other. Audited with both values. Two earlier values that
    day cannot be told apart (the record keeps the day, not the time): refused. Returns the rows to store (a
    correction equal to the stored value is a duplicate and is left to the "already recorded" path)."""
    to_store = []
    for row in corrections:
        earlier = list(
            LabResult.objects.select_for_update().filter(
                patient=row.patient, lab_test=row.lab_test, collected_on=row.collected_on
            )
        )
        if any(r.value == row.value and r.coded_value == row.coded_value for r in earlier):
            to_store.append(row)  # the corrected value is the one stored: already recorded
            continue
        if len(earlier) > 1:
            raise Refused(
                f"Correction of {row.lab_test.short_name} of {row.collected_on}: {len(earlier)} results of that day "
                "are stored and the record cannot tell which one is corrected; correct it in the portal.",
                code=er7.ERR_APPLICATION,
            )
        if earlier:
            old = earlier[0]
            withdrawn, kept = monitoring.lab_result_alerts_superseded(
                result=old, corrected_to=row.entered_value or row.coded_value
            )
            audit_record(
                actor=actor,
                action=AuditEvent.Action.DELETE,
                obj=row.patient,
                summary=f"Lab result corrected by the lab ({ORIGIN}): {row.lab_test.short_name} of {row.collected_on}",
                changes={
                    "test": row.lab_test.short_name,
                    "collected_on": row.collected_on.isoformat(),
                    "value": [old.entered_value or old.coded_value, row.entered_value or row.coded_value],
                    "unit": [old.entered_unit, row.entered_unit],
                    "alerts_withdrawn": withdrawn,
                    "alerts_kept_acknowledged": kept,
                },
            )
            old.delete()
            screening_facts_changed(actor=actor, patient_ids=[row.patient.pk])
        to_store.append(row)
    return to_store


def record_message(message: er7.OruMessage, *, patient: Patient, actor: User) -> Outcome:
    """Check and store one matched message (call inside a transaction: a Refused leaves nothing behind)."""
    checked = check_rows(message, patient)
    rows = checked.rows + _apply_corrections(checked.corrections, actor=actor)
    recorded = monitoring.lab_results_record(actor=actor, rows=rows, origin=ORIGIN)
    parts = []
    if recorded.results:
        parts.append(f"{len(recorded.results)} result(s) stored")
    if recorded.already_recorded:
        parts.append(f"{len(recorded.already_recorded)} already recorded, not stored again")
    parts += checked.skipped
    return Outcome(
        ack="AA",
        text="; ".join(parts),
        log_outcome=InterfaceRequest.Outcome.ACCEPTED if recorded.results else InterfaceRequest.Outcome.DUPLICATE,
        message_id=message.control_id,
        results=recorded.results,
    )


def _digest(raw: str) -> str:
    return hashlib.sha256(er7.normalise(raw).encode()).hexdigest()


def _hold(message: er7.OruMessage, *, raw: str, token: InterfaceToken, reason: str) -> InboxMessage:
    """Put the message in the clinic's inbox, once (a resend of the same message finds the first)."""
    digest = _digest(raw)
    existing = InboxMessage.objects.filter(clinic_id=token.clinic_id, digest=digest).first()
    if existing is not None:
        return existing
    held = InboxMessage(
        clinic_id=token.clinic_id,
        token=token,
        source=token.actor_label,
        message_id=message.control_id[:100],
        digest=digest,
        raw=er7.normalise(raw),
        identifiers=", ".join(message.record_numbers)[:200],
        tests=", ".join(dict.fromkeys(o.code_text or o.code for o in message.observations))[:300],
        reason=reason[:300],
    )
    try:
        with transaction.atomic():
            held.save()
    except IntegrityError:  # the same message, sent twice at once: the other request stored it
        return InboxMessage.objects.get(clinic_id=token.clinic_id, digest=digest)
    audit_record(
        actor=None,
        action=AuditEvent.Action.CREATE,
        obj=held,
        summary=f"Lab message {held.message_id} held in the interface inbox ({token.actor_label}): {reason}"[:300],
    )
    return held


UNKNOWN_PATIENT = "Unknown patient: no patient of the clinic has the record number in PID-3; held in the inbox."


def process(*, token: InterfaceToken, raw: str) -> Outcome:
    """One ORU^R01 from ``token``'s system: parsed, matched, checked and stored, or refused (nothing stored)."""
    try:
        message = er7.parse_oru(raw)
    except er7.ParseError as exc:
        return Outcome("AR", str(exc), InterfaceRequest.Outcome.REJECTED, "", exc.code, exc.location)
    try:
        with transaction.atomic():
            actor = interface_account(token)
            patient = match_patient(message, clinic_id=token.clinic_id)
            if patient is None:
                held = _hold(message, raw=raw, token=token, reason=UNKNOWN_PATIENT)
                return Outcome(
                    "AE",
                    UNKNOWN_PATIENT,
                    InterfaceRequest.Outcome.INBOX,
                    message.control_id,
                    er7.ERR_UNKNOWN_KEY,
                    "PID^1^3",
                    inbox=held,
                )
            return record_message(message, patient=patient, actor=actor)
    except Refused as exc:
        log = InterfaceRequest.Outcome.REJECTED if exc.ack == "AR" else InterfaceRequest.Outcome.ERROR
        return Outcome(exc.ack, str(exc), log, message.control_id, exc.code, exc.location)


def receive(*, token: InterfaceToken, raw: str, size: int) -> tuple[Outcome, str]:
    """``process`` plus the request log row and the ACK text: what the HTTP view and the MLLP listener send."""
    outcome = process(token=token, raw=raw)
    log_request(
        interface=InterfaceRequest.Interface.HL7V2,
        caller=Caller(clinic=token.clinic, token=token),
        outcome=outcome.log_outcome,
        message_id=outcome.message_id,
        reason=_log_reason(outcome),
        size=size,
    )
    return outcome, outcome.ack_text(raw)


def _log_reason(outcome: Outcome) -> str:
    """The request log's reason, without patient data: the ACK code, the HL7 error code and where, and counts.
    (The ACK's own text can quote a value or a date, which the log must not hold.)"""
    if outcome.ack == "AA":
        return f"AA: {len(outcome.results)} stored"
    where = f" at {outcome.location}" if outcome.location else ""
    return f"{outcome.ack}: HL7 error {outcome.error_code or er7.ERR_APPLICATION}{where}"


# --- The inbox ------------------------------------------------------------------------------------------------------


def _lock_open(held: InboxMessage) -> InboxMessage:
    held = InboxMessage.objects.select_for_update().get(pk=held.pk)
    if held.status != InboxMessage.Status.OPEN:
        raise InboxError(f"This message was already handled ({held.get_status_display().lower()}).")
    return held


@transaction.atomic
def inbox_assign(*, actor: User, held: InboxMessage, patient: Patient) -> Outcome:
    """Process the held message for ``patient`` (of the message's clinic) exactly as a matched one; the results are
    recorded by ``actor``, who made the match. A refusal (unit, value, test) leaves the message open."""
    held = _lock_open(held)
    if patient.clinic_id != held.clinic_id:
        raise InboxError("Choose a patient of your clinic.", "patient")
    try:
        message = er7.parse_oru(held.raw)
        with transaction.atomic():
            outcome = record_message(message, patient=patient, actor=actor)
    except er7.ParseError as exc:
        raise InboxError(f"The message cannot be read: {exc}") from None
    except Refused as exc:
        raise InboxError(f"Nothing was stored: {exc}") from None
    held.status = InboxMessage.Status.ASSIGNED
    held.patient = patient
    held.handled_by = actor
    held.handled_at = timezone.now()
    held.save(update_fields=["status", "patient", "handled_by", "handled_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=held,
        summary=f"Interface inbox: message {held.message_id} assigned to a patient",
        changes={"patient": str(patient.public_id), "results": len(outcome.results)},
    )
    return outcome


@transaction.atomic
def inbox_reject(*, actor: User, held: InboxMessage, reason: str) -> InboxMessage:
    reason = reason.strip()
    if not reason:
        raise InboxError("Say why the message is rejected (e.g. not our patient, test not ordered here).", "reason")
    held = _lock_open(held)
    held.status = InboxMessage.Status.REJECTED
    held.handled_by = actor
    held.handled_at = timezone.now()
    held.note = reason[:300]
    held.save(update_fields=["status", "handled_by", "handled_at", "note"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=held,
        summary=f"Interface inbox: message {held.message_id} rejected",
        changes={"reason": held.note},
    )
    return held
