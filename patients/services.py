"""Writes to patient records. Each runs in one transaction, validates with full_clean(), and is audited.

Every audit entry of a patient's record (including its risk profile, medicines, screening and scores) is filed
under the patient, so the patient page can show its own access and change history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from drugs.models import Medicine
from patients import risk, scores
from patients.models import Assessment, ConcomitantMedicine, Patient, RiskProfile, ScreeningResult
from patients.selectors import PATIENT_OBJECT_TYPE, RISK_PROFILE_CHANGED
from portal.audit import audit_record
from portal.errors import StaleEditError
from portal.models import AuditEvent, Clinic, User

PATIENT_FIELDS = (
    "record_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex_at_birth",
    "phone",
    "email",
    "weight_kg",
    "height_cm",
    "dermatologist",
    "diagnosis_date",
    "bsa_percent",
    "prior_systemic_treatments",
    "prior_topical_treatments",
)
RISK_FIELDS = tuple(
    f.name
    for f in RiskProfile._meta.get_fields()
    if getattr(f, "editable", False) and f.concrete and f.name not in ("id", "patient")
)

# --- Screening facts written: who keeps what they derive up to date ------------------------------------------------

# Apps above patients keep data derived from the baseline screening facts (lab results, screening records, the risk
# profile: ``patients.screening``) up to date without patients importing them: each listener is called with the actor
# and the patients whose facts changed, in the writer's transaction (registered in its AppConfig.ready()).
ScreeningListener = Callable[..., object]
_SCREENING_LISTENERS: list[ScreeningListener] = []


def register_screening_listener(listener: ScreeningListener) -> ScreeningListener:
    if listener not in _SCREENING_LISTENERS:
        _SCREENING_LISTENERS.append(listener)
    return listener


def screening_facts_changed(*, actor: User | None, patient_ids: Iterable[int]) -> None:
    """Tell the listeners that these patients' screening facts were written, corrected or deleted (every writer of
    a lab result, a screening record or a risk-profile status calls this)."""
    ids = sorted(set(patient_ids))
    if not ids:
        return
    for listener in _SCREENING_LISTENERS:
        listener(actor=actor, patient_ids=ids)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def _apply(obj: models.Model, data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """Set the given fields on obj; return {field: [old, new]} for those that changed."""
    changes = {}
    for name in fields:
        if name not in data:
            continue
        old, new = getattr(obj, name), data[name]
        if _plain(old) != _plain(new):
            changes[name] = [_plain(old), _plain(new)]
            setattr(obj, name, new)
    return changes


def _audit(*, actor: User | None, action: str, patient: Patient, summary: str, changes: dict | None = None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=PATIENT_OBJECT_TYPE,
        object_id=str(patient.pk),
        summary=summary,
        changes=changes,
    )


def patient_view_record(*, actor: User | None, patient: Patient, via: str = "") -> None:
    """Log a read of the patient's record (who, when, which patient). ``via`` names a machine interface that read
    it (the FHIR export, with its token's name when no staff member is behind the request)."""
    summary = f"Patient record viewed via {via}" if via else "Patient record viewed"
    _audit(actor=actor, action=AuditEvent.Action.VIEW, patient=patient, summary=summary)


@transaction.atomic
def patient_create(*, actor: User, clinic: Clinic, data: dict[str, Any]) -> Patient:
    now = timezone.now()
    patient = Patient(clinic=clinic, created_by=actor, updated_by=actor, created_at=now, updated_at=now)
    _apply(patient, data, PATIENT_FIELDS)
    patient.full_clean()
    patient.save()
    RiskProfile.objects.create(patient=patient, updated_by=actor, updated_at=now)
    _audit(actor=actor, action=AuditEvent.Action.CREATE, patient=patient, summary="Patient registered")
    return patient


@transaction.atomic
def patient_update(*, actor: User, patient: Patient, data: dict[str, Any], row_version: int) -> Patient:
    current = Patient.objects.select_for_update().get(pk=patient.pk)
    if current.row_version != row_version:
        raise StaleEditError(current.row_version)
    changes = _apply(current, data, PATIENT_FIELDS)
    if not changes:
        return current
    current.full_clean()
    current.row_version += 1
    current.updated_by = actor
    current.updated_at = timezone.now()
    current.save(update_fields=[*changes, "row_version", "updated_by", "updated_at"])
    _audit(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        patient=current,
        summary="Demographics and eczema history changed",
        changes=changes,
    )
    return current


@transaction.atomic
def risk_profile_update(*, actor: User, patient: Patient, data: dict[str, Any], row_version: int) -> RiskProfile:
    profile, _created = RiskProfile.objects.select_for_update().get_or_create(patient=patient)
    profile.patient = patient
    if profile.row_version != row_version:
        raise StaleEditError(profile.row_version)
    changes = _apply(profile, data, RISK_FIELDS)
    if not changes:
        return profile
    now = timezone.now()
    profile.full_clean()
    meta = dict(profile.item_meta)
    for name in changes:
        meta[name] = {"at": now.isoformat(), "by": actor.get_username(), "by_name": str(actor)}
    profile.item_meta = meta
    profile.row_version += 1
    profile.updated_by = actor
    profile.updated_at = now
    profile.save(update_fields=[*changes, "item_meta", "row_version", "updated_by", "updated_at"])
    _audit(actor=actor, action=AuditEvent.Action.CHANGE, patient=patient, summary=RISK_PROFILE_CHANGED, changes=changes)
    screening_facts_changed(actor=actor, patient_ids=[patient.pk])
    return profile


@transaction.atomic
def medicine_add(
    *,
    actor: User,
    patient: Patient,
    medicine: Medicine | None,
    name: str = "",
    dose_text: str = "",
    started_on: dt.date | None = None,
) -> ConcomitantMedicine:
    entry = ConcomitantMedicine(
        patient=patient,
        medicine=medicine,
        name=name.strip(),
        dose_text=dose_text.strip(),
        started_on=started_on,
        created_by=actor,
    )
    entry.full_clean()
    entry.save()
    _audit(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        patient=patient,
        summary="Concomitant medicine added",
        changes={"medicine": [None, str(entry)]},
    )
    return entry


@transaction.atomic
def medicine_stop(*, actor: User, entry: ConcomitantMedicine, stopped_on: dt.date) -> ConcomitantMedicine:
    entry = (
        ConcomitantMedicine.objects.select_for_update(of=("self",))
        .select_related("medicine", "patient")
        .get(pk=entry.pk)
    )
    old = entry.stopped_on
    entry.stopped_on = stopped_on
    entry.full_clean()
    entry.save(update_fields=["stopped_on"])
    _audit(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        patient=entry.patient,
        summary=f"Concomitant medicine stopped: {entry}",
        changes={"stopped_on": [_plain(old), _plain(stopped_on)]},
    )
    return entry


@transaction.atomic
def screening_result_record(
    *, actor: User, patient: Patient, item: str, performed_on: dt.date, result: str, note: str = ""
) -> ScreeningResult:
    record = ScreeningResult(
        patient=patient, item=item, performed_on=performed_on, result=result, note=note.strip(), recorded_by=actor
    )
    record.full_clean()
    record.save()
    _audit(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        patient=patient,
        summary="Screening result recorded",
        changes={item: [None, f"{result} on {performed_on.isoformat()}"]},
    )
    screening_facts_changed(actor=actor, patient_ids=[patient.pk])
    return record


EASI_PART_FIELDS = scores.EASI_PART_NAMES
SCORE_FIELDS = ("viga", "itch_nrs", "poem", "dlqi", "scorad")


def easi_age(patient: Patient, assessed_on: dt.date) -> int:
    """The patient's age in whole years on the assessment date: it chooses the EASI region weights."""
    if assessed_on < patient.date_of_birth:
        raise ValidationError({"assessed_on": "The date is before the patient's date of birth."})
    return risk.age_on(patient.date_of_birth, assessed_on) or 0


def easi_from_parts(data: dict[str, Any], *, age_years: int) -> Decimal | None:
    """The EASI total with the weights for ``age_years``, None when no part is given; a ValidationError naming the
    parts that are missing (a sign of a region with area above 0, an area) or invalid."""
    try:
        return scores.easi_from_parts({name: data.get(name) for name in EASI_PART_FIELDS}, age_years=age_years)
    except scores.EasiPartsError as exc:
        raise ValidationError(exc.errors) from None


@transaction.atomic
def assessment_record(*, actor: User, patient: Patient, assessed_on: dt.date, data: dict[str, Any]) -> Assessment:
    assessment = Assessment(patient=patient, assessed_on=assessed_on, recorded_by=actor)
    for name in (*EASI_PART_FIELDS, *SCORE_FIELDS):
        setattr(assessment, name, data.get(name))
    assessment.full_clean()  # range checks of every part before the total is computed
    age = easi_age(patient, assessed_on)
    assessment.easi = easi_from_parts(data, age_years=age)
    if assessment.easi is None and all(data.get(name) is None for name in SCORE_FIELDS):
        raise ValidationError("Enter at least one score.")
    assessment.save()
    recorded: dict[str, Any] = {name: _plain(getattr(assessment, name)) for name in ("easi", *SCORE_FIELDS)}
    changes: dict[str, Any] = {name: [None, value] for name, value in recorded.items() if value is not None}
    if assessment.easi is not None:
        changes["easi_weights"] = f"{scores.easi_weights_label(age)} (aged {age} on the assessment date)"
    _audit(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        patient=patient,
        summary=f"Severity assessment recorded for {assessed_on.isoformat()}",
        changes=changes,
    )
    return assessment
