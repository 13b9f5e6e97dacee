"""The portal's record as FHIR R4 resources: plain data in, ``fhir.resources`` models out.

Pure (no Django; the "Clinical rules are plain Python" contract checks it). ``interfaces.fhir.selectors`` reads the
database into the dataclasses below; this module only maps them. The models are ``fhir.resources``' R4B classes,
so every resource is validated as it is built: a mapping mistake is an exception here, never a bad export.

Decisions an integrator needs (README "FHIR R4 export" repeats them):

- Every resource has a stable UUID id and the Bundle refers to it as ``urn:uuid:<id>``: the portal serves no
  FHIR read of single resources, so there is no resolvable URL to point at.
- Patient: the record number is an identifier whose system is the clinic's own URI, ``<PORTAL_BASE_URL>/fhir/
  clinic/<clinic id>/record-number`` (record numbers are unique per clinic only). ``gender`` is the sex at birth
  (the portal records no administrative gender); "intersex or other" becomes ``other``.
- MedicationRequest: one per dose of a course. FHIR models a changed prescription as a new request that names the
  one it replaces in ``priorPrescription`` (and the course's requests share ``groupIdentifier``); the replaced one
  is ``stopped`` with the status reason "Dose changed". A planned course is ``draft`` (not yet to be taken), an
  interrupted one ``on-hold``.
- Observation ``interpretation`` is the reference-range flag only (H, L, N; POS, NEG, IND for coded results). A
  drug's action level is a label rule, not a critical value, so it is never sent as HH or LL: it goes in a note.
- Flag per alert (not Communication): an alert is a standing warning about the patient that stays until someone
  acknowledges it, which is what Flag is for (active, then inactive with the end of its period). Communication
  records a message that was sent; the portal's alerts are worklist items, not messages.
- CarePlan per course for the monitoring schedule: one activity per scheduled check, with its window as the
  scheduled period; a lab panel's activity is coded with the LOINC codes of the catalogue's tests in that panel.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntrySearch
from fhir.resources.R4B.capabilitystatement import (
    CapabilityStatement,
    CapabilityStatementImplementation,
    CapabilityStatementRest,
    CapabilityStatementRestResource,
    CapabilityStatementRestResourceOperation,
    CapabilityStatementRestSecurity,
    CapabilityStatementSoftware,
)
from fhir.resources.R4B.careplan import CarePlan, CarePlanActivity, CarePlanActivityDetail
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.detectedissue import DetectedIssue, DetectedIssueMitigation
from fhir.resources.R4B.dosage import Dosage, DosageDoseAndRate
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation, ObservationReferenceRange
from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.ratio import Ratio
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from fhir.resources.R4B.timing import Timing, TimingRepeat

from therapy.schedule import check_name

FHIR_VERSION = "4.0.1"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
ISSUE_SEVERITY = {5: "high", 4: "high", 3: "moderate", 2: "low", 1: "low"}  # SafetyFinding.Severity → FHIR
# Stable ids for rows that have no public UUID of their own (derived, so an export twice gives the same ids).
ID_NAMESPACE = uuid.UUID("5b0c7e52-4f1e-4a53-9a53-2f6c0f1a9d11")


def day(value: dt.date | None) -> Any:
    """A date where FHIR takes a dateTime: FHIR allows a date alone (partial precision) and fhir.resources accepts
    it; only its type hints say datetime."""
    return value


def derived_id(*parts: object) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, ":".join(str(p) for p in parts)))


def _ref(resource_id: str, display: str | None = None) -> Reference:
    return Reference(reference=f"urn:uuid:{resource_id}", display=display)


# --- The plain data the selectors fill ------------------------------------------------------------------------------


@dataclass(frozen=True)
class System:
    """Where the export comes from: the base URL its own code systems and identifiers are built on."""

    base_url: str  # PORTAL_BASE_URL, no trailing slash
    software_version: str = ""

    def uri(self, path: str) -> str:
        return f"{self.base_url}/fhir/{path}"


@dataclass(frozen=True)
class PatientData:
    public_id: str
    clinic_id: int
    record_number: str
    given_name: str
    family_name: str
    birth_date: dt.date
    sex_at_birth: str  # Patient.Sex values


@dataclass(frozen=True)
class DrugCoding:
    system: str  # "rxnorm" or "atc" (DrugCode.System)
    code: str
    display: str
    verified: bool


@dataclass(frozen=True)
class DoseChange:
    on: dt.date
    dose_before: Decimal | None
    dose_after: Decimal | None
    note: str = ""


@dataclass(frozen=True)
class CourseData:
    public_id: str
    drug_name: str
    drug_slug: str
    codings: tuple[DrugCoding, ...]
    route: str  # "oral" or "topical"
    status: str  # TreatmentCourse.Status values
    stop_reason: str  # its label, or ""
    start_date: dt.date
    stopped_on: dt.date | None
    dose: Decimal | None
    dose_unit: str
    frequency: str
    topical_grams: Decimal | None
    topical_days: int | None
    topical_bsa_percent: Decimal | None
    prescriber: str
    created_at: dt.datetime
    dose_changes: tuple[DoseChange, ...] = ()


@dataclass(frozen=True)
class LabResultData:
    pk: int
    loinc: str
    test_name: str
    collected_on: dt.date
    value: Decimal | None
    coded_value: str
    unit_code: str  # canonical UCUM code
    unit_label: str
    flag: str  # ResultFlag values
    reference_low: Decimal | None
    reference_high: Decimal | None
    action: str = ""
    action_rule: str = ""
    action_source: str = ""


@dataclass(frozen=True)
class FindingData:
    pk: int
    course_id: str
    severity: int  # SafetyFinding.Severity
    severity_label: str
    code: str
    message: str
    rule: str
    source: str
    catalogue_version: int
    identified_at: dt.datetime
    acknowledgement: str
    overridden: bool
    acknowledged_at: dt.datetime | None


@dataclass(frozen=True)
class AlertData:
    public_id: str
    kind: str  # Alert.Kind values
    severity_label: str
    title: str
    reason: str
    advice: str
    status: str  # Alert.Status values
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    course_id: str | None


@dataclass(frozen=True)
class ScheduledCheckData:
    public_id: str
    course_id: str
    check_type: str
    due_date: dt.date
    earliest: dt.date | None
    latest: dt.date
    reason: str
    status: str  # ScheduledItem.Status values
    loinc_tests: tuple[tuple[str, str], ...] = ()  # (LOINC, name) of the catalogue's tests in this panel


@dataclass(frozen=True)
class Everything:
    patient: PatientData
    courses: Sequence[CourseData] = ()
    results: Sequence[LabResultData] = ()
    findings: Sequence[FindingData] = ()
    alerts: Sequence[AlertData] = ()
    schedule: Sequence[ScheduledCheckData] = field(default_factory=tuple)


# --- Patient ---------------------------------------------------------------------------------------------------------

GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


def record_number_system(system: System, clinic_id: int) -> str:
    return system.uri(f"clinic/{clinic_id}/record-number")


def patient_resource(data: PatientData, system: System) -> Patient:
    return Patient(
        id=data.public_id,
        identifier=[
            Identifier(
                use="usual",
                system=record_number_system(system, data.clinic_id),
                value=data.record_number,
                type=CodeableConcept(
                    coding=[Coding(system="http://terminology.hl7.org/CodeSystem/v2-0203", code="MR")],
                    text="Medical record number",
                ),
            )
        ],
        name=[HumanName(use="official", family=data.family_name, given=[data.given_name])],
        birthDate=data.birth_date,
        gender=GENDER.get(data.sex_at_birth, "unknown"),
    )


# --- MedicationRequest -----------------------------------------------------------------------------------------------

COURSE_STATUS = {"planned": "draft", "active": "active", "interrupted": "on-hold", "stopped": "stopped"}
UCUM_DOSE_UNITS = {"mg", "g"}  # Drug.dose_unit values that are UCUM codes as written
# Frequencies as the catalogue's regimens write them; anything else is sent as text only.
FREQUENCIES = {
    "once daily": (1, 1, "d"),
    "twice daily": (2, 1, "d"),
    "once weekly": (1, 1, "wk"),
}


def medication_concept(course: CourseData) -> CodeableConcept:
    """RxNorm first (US systems), ATC second (EU), and always the name as text: a drug without a code is sent by
    name only (README "FHIR R4 export")."""
    order = {"rxnorm": 0, "atc": 1}
    uris = {"rxnorm": RXNORM, "atc": ATC}
    codings = [
        Coding(system=uris[c.system], code=c.code, display=c.display or None)
        for c in sorted(course.codings, key=lambda c: order.get(c.system, 9))
        if c.system in uris
    ]
    return CodeableConcept(coding=codings or None, text=course.drug_name)


def _decimal_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def dosage(course: CourseData, dose: Decimal | None, start: dt.date, end: dt.date | None) -> Dosage:
    bounds = Period(start=day(start), end=day(end))
    repeat = TimingRepeat(boundsPeriod=bounds)
    known = FREQUENCIES.get(course.frequency.strip().lower())
    if known:
        repeat.frequency, repeat.period, repeat.periodUnit = known[0], Decimal(known[1]), known[2]
    parts = []
    dose_and_rate = None
    max_per_period = None
    if dose is not None:
        parts.append(f"{_decimal_text(dose)} {course.dose_unit}")
        ucum = course.dose_unit if course.dose_unit in UCUM_DOSE_UNITS else None
        quantity = Quantity(value=dose, unit=course.dose_unit, system=UCUM if ucum else None, code=ucum)
        dose_and_rate = [DosageDoseAndRate(doseQuantity=quantity)]
    if course.frequency:
        parts.append(course.frequency)
    if course.topical_grams is not None and course.topical_days:
        parts.append(f"at most {_decimal_text(course.topical_grams)} g per {course.topical_days} days")
        max_per_period = Ratio(
            numerator=Quantity(value=course.topical_grams, unit="g", system=UCUM, code="g"),
            denominator=Quantity(value=Decimal(course.topical_days), unit="days", system=UCUM, code="d"),
        )
    if course.topical_bsa_percent is not None:
        parts.append(f"on up to {_decimal_text(course.topical_bsa_percent)}% of the body surface")
    return Dosage(
        text=" ".join(parts) or None,
        timing=Timing(repeat=repeat, code=CodeableConcept(text=course.frequency) if course.frequency else None),
        route=CodeableConcept(text=course.route.capitalize()) if course.route else None,
        doseAndRate=dose_and_rate,
        maxDosePerPeriod=max_per_period,
    )


def course_request_ids(course: CourseData) -> list[str]:
    """One id per dose of the course: the course's own id for the first, derived ids for each dose change."""
    return [course.public_id] + [
        derived_id("course", course.public_id, "dose", n) for n in range(1, 1 + len(course.dose_changes))
    ]


def current_request_id(course: CourseData) -> str:
    return course_request_ids(course)[-1]


def medication_requests(course: CourseData, patient_id: str, system: System) -> list[MedicationRequest]:
    ids = course_request_ids(course)
    changes = sorted(course.dose_changes, key=lambda c: c.on)
    first_dose = changes[0].dose_before if changes else course.dose
    doses = [first_dose, *(c.dose_after for c in changes)]
    starts = [course.start_date, *(c.on for c in changes)]
    requests = []
    for n, request_id in enumerate(ids):
        last = n == len(ids) - 1
        end = course.stopped_on if last else starts[n + 1]
        status = COURSE_STATUS.get(course.status, "unknown") if last else "stopped"
        reason = None
        if not last:
            reason = CodeableConcept(text="Dose changed")
        elif course.status == "stopped" and course.stop_reason:
            reason = CodeableConcept(text=course.stop_reason)
        requests.append(
            MedicationRequest(
                id=request_id,
                status=status,
                statusReason=reason,
                intent="order",
                groupIdentifier=Identifier(system=system.uri("treatment-course"), value=course.public_id),
                medicationCodeableConcept=medication_concept(course),
                subject=_ref(patient_id),
                authoredOn=course.created_at if n == 0 else day(starts[n]),
                requester=Reference(display=course.prescriber) if course.prescriber else None,
                dosageInstruction=[dosage(course, doses[n], starts[n], end)],
                priorPrescription=_ref(ids[n - 1]) if n else None,
                note=[Annotation(text=changes[n - 1].note)] if n and changes[n - 1].note else None,
            )
        )
    return requests


# --- Observation -----------------------------------------------------------------------------------------------------

FLAG_INTERPRETATION = {"low": ("L", "Low"), "high": ("H", "High"), "normal": ("N", "Normal")}
CODED_INTERPRETATION = {
    "positive": ("POS", "Positive"),
    "negative": ("NEG", "Negative"),
    "indeterminate": ("IND", "Indeterminate"),
}


def _text(value: str) -> str | None:
    """FHIR strings and codes may not be empty: an empty value is left out instead."""
    return value.strip() or None


def _ucum(value: Decimal, result: LabResultData) -> Quantity:
    code = _text(result.unit_code)
    return Quantity(value=value, unit=_text(result.unit_label) or code, system=UCUM if code else None, code=code)


def observation(result: LabResultData, patient_id: str) -> Observation:
    interpretation = None
    value_quantity = value_concept = None
    if result.value is not None:
        value_quantity = _ucum(result.value, result)
        found = FLAG_INTERPRETATION.get(result.flag)
    else:
        value_concept = CodeableConcept(text=result.coded_value.capitalize()) if _text(result.coded_value) else None
        found = CODED_INTERPRETATION.get(result.coded_value)
    if found:
        interpretation = [CodeableConcept(coding=[Coding(system=INTERPRETATION, code=found[0], display=found[1])])]
    ranges = None
    if result.value is not None and (result.reference_low is not None or result.reference_high is not None):
        ranges = [
            ObservationReferenceRange(
                low=_ucum(result.reference_low, result) if result.reference_low is not None else None,
                high=_ucum(result.reference_high, result) if result.reference_high is not None else None,
            )
        ]
    notes = None
    if result.action:
        text = f"At a drug action level: {result.action}."
        if result.action_rule:
            text += f" Rule: {result.action_rule}"
        if result.action_source:
            text += f" Source: {result.action_source}"
        notes = [Annotation(text=text)]
    return Observation(
        id=derived_id("lab-result", result.pk),
        status="final",
        category=[
            CodeableConcept(coding=[Coding(system=OBSERVATION_CATEGORY, code="laboratory", display="Laboratory")])
        ],
        code=CodeableConcept(
            coding=[Coding(system=LOINC, code=result.loinc, display=result.test_name)], text=result.test_name
        ),
        subject=_ref(patient_id),
        effectiveDateTime=day(result.collected_on),
        valueQuantity=value_quantity,
        valueCodeableConcept=value_concept,
        interpretation=interpretation,
        referenceRange=ranges,
        note=notes,
    )


# --- DetectedIssue ---------------------------------------------------------------------------------------------------


def catalogue_version_extension(system: System, version: int) -> Extension:
    return Extension(url=system.uri("StructureDefinition/catalogue-version"), valueInteger=version)


def detected_issue(finding: FindingData, patient_id: str, request_id: str, system: System) -> DetectedIssue:
    detail = finding.message
    if finding.rule:
        detail += f"\nRule: {finding.rule}"
    if finding.source:
        detail += f"\nSource: {finding.source}"
    mitigation = None
    if finding.acknowledged_at is not None:
        action = "Blocking finding overridden" if finding.overridden else "Acknowledged"
        text = f"{action}: {finding.acknowledgement}" if finding.acknowledgement else action
        mitigation = [DetectedIssueMitigation(action=CodeableConcept(text=text), date=finding.acknowledged_at)]
    return DetectedIssue(
        id=derived_id("safety-finding", finding.pk),
        extension=[catalogue_version_extension(system, finding.catalogue_version)],
        identifier=[Identifier(system=system.uri("safety-finding"), value=str(finding.pk))],
        status="final",
        code=CodeableConcept(
            coding=[Coding(system=system.uri("CodeSystem/safety-rule"), code=finding.code)], text=finding.severity_label
        ),
        severity=ISSUE_SEVERITY.get(finding.severity, "low"),
        patient=_ref(patient_id),
        identifiedDateTime=finding.identified_at,
        implicated=[_ref(request_id)],
        detail=detail,
        mitigation=mitigation,
    )


# --- Flag ------------------------------------------------------------------------------------------------------------


def flag(alert: AlertData, patient_id: str) -> Flag:
    category = "lab" if alert.kind == "lab_action" else "clinical"
    return Flag(
        id=alert.public_id,
        status="active" if alert.status == "open" else "inactive",
        category=[CodeableConcept(coding=[Coding(system=FLAG_CATEGORY, code=category)])],
        code=CodeableConcept(text=f"{alert.severity_label}: {alert.title}. {alert.reason} What to do: {alert.advice}"),
        subject=_ref(patient_id),
        period=Period(start=alert.created_at, end=alert.acknowledged_at),
    )


# --- CarePlan --------------------------------------------------------------------------------------------------------

CHECK_STATUS = {"open": "scheduled", "done": "completed", "cancelled": "cancelled"}


def care_plan(course: CourseData, checks: Sequence[ScheduledCheckData], patient_id: str, system: System) -> CarePlan:
    activities = []
    for check in sorted(checks, key=lambda c: (c.due_date, c.check_type)):
        codings = [Coding(system=LOINC, code=loinc, display=name) for loinc, name in check.loinc_tests]
        codings.append(
            Coding(
                system=system.uri("CodeSystem/check-type"), code=check.check_type, display=check_name(check.check_type)
            )
        )
        activities.append(
            CarePlanActivity(
                detail=CarePlanActivityDetail(
                    kind="ServiceRequest",
                    code=CodeableConcept(coding=codings, text=check_name(check.check_type)),
                    status=CHECK_STATUS.get(check.status, "unknown"),
                    scheduledPeriod=Period(start=day(check.earliest), end=day(check.latest)),
                    description=f"Due {check.due_date.isoformat()}. {check.reason}",
                )
            )
        )
    status = (
        "active"
        if course.status in ("active", "interrupted")
        else "draft"
        if course.status == "planned"
        else "completed"
    )
    return CarePlan(
        id=derived_id("care-plan", course.public_id),
        status=status,
        intent="plan",
        title=f"Monitoring on {course.drug_name}",
        subject=_ref(patient_id),
        period=Period(start=day(course.start_date), end=day(course.stopped_on)),
        activity=activities or None,
    )


# --- The Bundle ------------------------------------------------------------------------------------------------------


def everything_bundle(data: Everything, system: System, *, now: dt.datetime) -> Bundle:
    """Patient/$everything: the patient first (search mode "match"), then everything about them ("include")."""
    patient_id = data.patient.public_id
    resources: list[Resource] = [patient_resource(data.patient, system)]
    current = {}
    for course in data.courses:
        resources.extend(medication_requests(course, patient_id, system))
        current[course.public_id] = current_request_id(course)
    resources.extend(observation(result, patient_id) for result in data.results)
    resources.extend(
        detected_issue(finding, patient_id, current.get(finding.course_id, finding.course_id), system)
        for finding in data.findings
        if finding.course_id in current
    )
    resources.extend(flag(alert, patient_id) for alert in data.alerts)
    for course in data.courses:
        checks = [c for c in data.schedule if c.course_id == course.public_id]
        if checks:
            resources.append(care_plan(course, checks, patient_id, system))
    entries = [
        BundleEntry(
            fullUrl=f"urn:uuid:{resource.id}",
            resource=resource,
            search=BundleEntrySearch(mode="match" if n == 0 else "include"),
        )
        for n, resource in enumerate(resources)
    ]
    return Bundle(id=str(uuid.uuid4()), type="searchset", timestamp=now, total=1, entry=entries)


# --- metadata and errors ---------------------------------------------------------------------------------------------


def capability_statement(system: System, *, now: dt.datetime, fhir_base: str) -> CapabilityStatement:
    """What the server offers; ``fhir_base`` is the absolute address of the FHIR base (…/fhir/R4)."""
    return CapabilityStatement(
        status="active",
        kind="instance",
        date=now,
        name="JakPortalFhirExport",
        title="JAK Portal FHIR R4 export",
        publisher="JAK Portal",
        fhirVersion=FHIR_VERSION,
        format=["json", "application/fhir+json"],
        software=CapabilityStatementSoftware(name="JAK Portal", version=system.software_version or None),
        implementation=CapabilityStatementImplementation(
            description="Read-only export of one clinic's patient records", url=fhir_base
        ),
        rest=[
            CapabilityStatementRest(
                mode="server",
                documentation="Read-only. Each token reads the records of its own clinic only.",
                security=CapabilityStatementRestSecurity(
                    cors=False,
                    description=(
                        "Send an interface token as 'Authorization: Bearer <token>' (manage.py interface_token "
                        "create). A signed-in portal session that passed the second factor also works. Each "
                        "token belongs to one clinic; another clinic's patient is not found (404)."
                    ),
                ),
                resource=[
                    CapabilityStatementRestResource(
                        type="Patient",
                        operation=[
                            CapabilityStatementRestResourceOperation(
                                name="everything",
                                definition="http://hl7.org/fhir/OperationDefinition/Patient-everything",
                                documentation="GET [base]/Patient/<id>/$everything: a searchset Bundle.",
                            )
                        ],
                    ),
                    *(
                        CapabilityStatementRestResource(type=name, documentation="Returned inside Patient/$everything.")
                        for name in ("MedicationRequest", "Observation", "DetectedIssue", "Flag", "CarePlan")
                    ),
                ],
            )
        ],
    )


ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    413: "too-costly",
    429: "throttled",
}


def operation_outcome(status: int, reason: str) -> OperationOutcome:
    return OperationOutcome(
        issue=[
            OperationOutcomeIssue(
                severity="error" if status < 500 else "fatal",
                code=ISSUE_CODES.get(status, "exception"),
                diagnostics=reason,
            )
        ]
    )
