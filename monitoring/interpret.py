"""Result and symptom interpretation: pure functions over plain data (no Django here).

- ``to_canonical`` converts an entered value exactly (Decimal, canonical = entered × factor).
- ``plausibility_error`` refuses typing errors, naming the limit in the unit the user typed.
- ``reference_flag`` compares a value with the lab test's reference range.
- ``lab_alert`` turns an on-treatment action-level finding (``monitoring.safety.check_result``) into an alert:
  discontinue → urgent, interrupt → same day.
- ``escalate_symptoms`` turns the symptoms reported at a visit into an alert (clinical reference §6).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from monitoring.safety import Finding, fmt

URGENT = "urgent"
SAME_DAY = "same_day"
ROUTINE = "routine"
SEVERITY_ORDER = {URGENT: 1, SAME_DAY: 2, ROUTINE: 3}
SEVERITY_LABEL = {URGENT: "Urgent", SAME_DAY: "Same day", ROUTINE: "Routine"}

# Stored values have 4 decimal places (LabResult.value).
STORED_PLACES = Decimal("0.0001")
CODED_VALUES = (("positive", "Positive"), ("negative", "Negative"), ("indeterminate", "Indeterminate"))


_PLAIN_NUMBER = re.compile(r"\d+(\.\d*)?|\.\d+")
MAX_DIGITS = 12  # what the result columns hold (12 digits, 4 after the point)


class EntryError(ValueError):
    """A typed value that cannot be stored; the message is for the field it was typed in."""


def parse_number(text: str) -> Decimal:
    """A decimal number typed by a clinician: a point for decimals, no thousands separators."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        raise EntryError("Use a point for decimals and no thousands separators (e.g. 45000 or 4.5).")
    if cleaned.startswith("-") and _PLAIN_NUMBER.fullmatch(cleaned[1:]):
        raise EntryError("A lab value cannot be negative.")
    if not _PLAIN_NUMBER.fullmatch(cleaned):  # no exponents (1e309), NaN, Infinity or signs: digits as the lab prints
        raise EntryError(f"“{text.strip()[:40]}” is not a number: type digits, with a point for decimals.")
    if len(cleaned.replace(".", "").lstrip("0")) > MAX_DIGITS:
        raise EntryError(f"Too many digits: a lab value has at most {MAX_DIGITS}.")
    return Decimal(cleaned)


def to_canonical(value: Decimal, factor: Decimal) -> Decimal:
    """Exact conversion to the canonical unit; refuses more precision than can be stored."""
    canonical = value * factor
    try:
        rounded = canonical.quantize(STORED_PLACES)
    except InvalidOperation:  # more digits than the decimal context holds
        raise EntryError(f"Too many digits: a lab value has at most {MAX_DIGITS}.") from None
    if canonical != rounded:
        raise EntryError("Too many decimal places for this unit; round the value as the lab reported it.")
    return canonical


def plausibility_error(
    canonical: Decimal,
    *,
    factor: Decimal,
    unit_label: str,
    test_name: str,
    plausible_min: Decimal | None,
    plausible_max: Decimal | None,
) -> str | None:
    """A message naming the limit in the entered unit when the value cannot be real, else None."""
    if plausible_max is not None and canonical > plausible_max:
        limit = fmt((plausible_max / factor).normalize())
        return (
            f"{fmt(canonical / factor)} {unit_label} is not a plausible {test_name}: the highest accepted value is "
            f"{limit} {unit_label}. Check for a typing error or the wrong unit."
        )
    if plausible_min is not None and canonical < plausible_min:
        limit = fmt((plausible_min / factor).normalize())
        return (
            f"{fmt(canonical / factor)} {unit_label} is not a plausible {test_name}: the lowest accepted value is "
            f"{limit} {unit_label}. Check for a typing error or the wrong unit."
        )
    return None


def entered_to_canonical(
    raw: str,
    *,
    factor: Decimal,
    unit_label: str,
    test_name: str,
    plausible_min: Decimal | None,
    plausible_max: Decimal | None,
) -> Decimal:
    """A typed value in the canonical unit; EntryError with the message for the user when it is not a number
    or not plausible. The one path for the lab form and the CSV upload."""
    canonical = to_canonical(parse_number(raw), factor)
    message = plausibility_error(
        canonical,
        factor=factor,
        unit_label=unit_label,
        test_name=test_name,
        plausible_min=plausible_min,
        plausible_max=plausible_max,
    )
    if message:
        raise EntryError(message)
    return canonical


@dataclass(frozen=True)
class Flag:
    code: str  # low / high / normal / no_range
    text: str


def reference_flag(value: Decimal, low: Decimal | None, high: Decimal | None, unit: str = "") -> Flag:
    """Low / high / normal against the reference range; says so when no range is set."""
    if low is None and high is None:
        return Flag("no_range", "No reference range set")
    suffix = f" {unit}" if unit else ""
    if low is not None and value < low:
        return Flag("low", f"Low (reference from {fmt(low)}{suffix})")
    if high is not None and value > high:
        return Flag("high", f"High (reference up to {fmt(high)}{suffix})")
    return Flag("normal", "Normal")


@dataclass(frozen=True)
class AlertDraft:
    """What to store as an Alert: severity, title, why (value, threshold, rule, source) and what to do."""

    severity: str
    title: str
    reason: str
    advice: str
    rule: str = ""
    source: str = ""
    catalogue_version: int | None = None
    action: str = ""


ACTION_SEVERITY = {"discontinue": URGENT, "interrupt": SAME_DAY, "do_not_start": ROUTINE}


def worst_finding(findings: Iterable[Finding]) -> Finding | None:
    findings = list(findings)
    if not findings:
        return None
    return min(findings, key=lambda f: SEVERITY_ORDER[ACTION_SEVERITY.get(f.action, ROUTINE)])


def lab_alert(finding: Finding, *, test_name: str, drug_name: str, collected_on: str) -> AlertDraft:
    """The alert for an on-treatment action-level finding of one result and one course."""
    severity = ACTION_SEVERITY.get(finding.action, ROUTINE)
    if finding.action == "discontinue":
        todo = f"Stop {drug_name} now and tell the patient today."
        title = f"Discontinue {drug_name}: {test_name} at the discontinue level"
    elif finding.action == "interrupt":
        todo = f"Interrupt {drug_name} today and tell the patient; repeat the test before restarting."
        title = f"Interrupt {drug_name}: {test_name} at the interrupt level"
    else:
        todo = f"Review {drug_name} against the label."
        title = f"{test_name}: {drug_name} action level"
    restart = _restart_text(finding)
    advice = f"{todo} {restart}".strip()
    reason = (
        f"{finding.message.split(':')[0]} (collected {collected_on}). Rule: {finding.rule} Source: "
        f"{finding.source or 'not given'}. Catalogue version {finding.catalogue_version}."
    )
    return AlertDraft(
        severity=severity,
        title=title[:200],
        reason=reason,
        advice=advice,
        rule=finding.rule,
        source=finding.source,
        catalogue_version=finding.catalogue_version,
        action=finding.action,
    )


def _restart_text(finding: Finding) -> str:
    # The finding message ends with the label's restart rule when there is one (safety.result_findings).
    _value, _, action = finding.message.partition(": ")
    _head, _, restart = action.partition(". ")
    return restart.strip()


# --- Symptoms (clinical reference §6) ------------------------------------------------------------------------------

INFECTION = "infection"
MACE = "mace"
CLOT = "clot"
LOW_COUNTS = "low_counts"


@dataclass(frozen=True)
class SymptomGroup:
    code: str
    title: str
    source: str
    symptoms: tuple[tuple[str, str], ...]  # (code, label)


SYMPTOM_GROUPS: tuple[SymptomGroup, ...] = (
    SymptomGroup(
        INFECTION,
        "Infection",
        "[P1][P2][P3]",
        (
            ("fever", "Fever"),
            ("muscle_pain", "Muscle pain"),
            ("cough", "Cough"),
            ("shortness_of_breath", "Shortness of breath"),
            ("diarrhoea", "Diarrhoea"),
            ("extreme_tiredness", "Extreme tiredness"),
            ("pain_urinating", "Pain while urinating"),
            ("shingles_rash", "Shingles rash (painful blistering rash)"),
        ),
    ),
    SymptomGroup(
        MACE,
        "Heart attack or stroke",
        "[S6][P4]",
        (
            ("chest_pain", "Chest pain or tightness"),
            ("chest_throat_neck_jaw_pain", "Pain in the chest, throat, neck or jaw"),
            ("cold_sweats", "Cold sweats"),
            ("one_sided_weakness", "Weakness on one side of the body"),
            ("slurred_speech", "Slurred speech"),
        ),
    ),
    SymptomGroup(
        CLOT,
        "Blood clot",
        "[S6][P5][P2]",
        (
            ("leg_pain_swelling", "Leg pain, swelling or tenderness"),
            ("sudden_chest_back_pain", "Sudden chest or upper back pain"),
            ("shortness_of_breath", "Shortness of breath"),
        ),
    ),
    SymptomGroup(
        LOW_COUNTS,
        "Low blood counts",
        "[P6][P7]",
        (("bruising_bleeding", "Unusual bruising or bleeding"),),
    ),
)
SYMPTOM_LABELS = {code: label for g in SYMPTOM_GROUPS for code, label in g.symptoms}
EMERGENCY_ADVICE = (
    "Possible heart attack, stroke or blood clot: the patient must seek emergency care now (call emergency "
    "services). Do not give the next dose until a clinician has reviewed."
)
INFECTION_ADVICE = (
    "Possible infection: see the patient today, examine and test as needed (including for tuberculosis or shingles "
    "where the signs fit); consider interrupting therapy until a serious infection is controlled."
)
LOW_COUNT_ADVICE = "Possible low blood counts: check a blood count today and review the result against the label."


def groups_reported(codes: Iterable[str]) -> list[SymptomGroup]:
    """Every group with at least one reported symptom; a symptom listed in two groups counts for both."""
    reported = set(codes)
    return [g for g in SYMPTOM_GROUPS if reported & {code for code, _l in g.symptoms}]


def escalate_symptoms(codes: Iterable[str]) -> AlertDraft | None:
    """One alert for the visit: urgent for heart attack, stroke or clot signs; same day for infection or low counts."""
    codes = [c for c in codes if c in SYMPTOM_LABELS]
    groups = groups_reported(codes)
    if not groups:
        return None
    found = {g.code for g in groups}
    listed = ", ".join(SYMPTOM_LABELS[c].lower() for c in dict.fromkeys(codes))
    sources = "".join(dict.fromkeys(g.source for g in groups))
    group_names = ", ".join(g.title.lower() for g in groups)
    advice = []
    if found & {MACE, CLOT}:
        severity = URGENT
        advice.append(EMERGENCY_ADVICE)
    else:
        severity = SAME_DAY
    if INFECTION in found:
        advice.append(INFECTION_ADVICE)
    if LOW_COUNTS in found:
        advice.append(LOW_COUNT_ADVICE)
    title = ("Emergency warning signs reported: " if severity == URGENT else "Warning signs reported: ") + group_names
    return AlertDraft(
        severity=severity,
        title=title[:200],
        reason=f"Reported at the visit: {listed} (signs of {group_names}). Source: {sources}.",
        advice=" ".join(advice),
        rule=f"Signs of {group_names} patients are told to report (clinical reference §6).",
        source=sources,
    )
