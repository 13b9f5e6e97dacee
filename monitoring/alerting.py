"""Alert drafting for results and symptoms: pure functions over plain data (no Django here).

Parsing and converting typed values is ``drugs.units``; this module drafts the alerts.

- ``lab_alert`` turns an on-treatment action-level finding (``therapy.thresholds.check_result``) into an alert:
  discontinue → urgent, interrupt → same day.
- ``escalate_symptoms`` turns the symptoms reported at a visit into an alert (clinical reference §6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drugs.label import InfectionRuleFact
from therapy.findings import Finding

URGENT = "urgent"
SAME_DAY = "same_day"
ROUTINE = "routine"
SEVERITY_ORDER = {URGENT: 1, SAME_DAY: 2, ROUTINE: 3}
SEVERITY_LABEL = {URGENT: "Urgent", SAME_DAY: "Same day", ROUTINE: "Routine"}


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
    advice = f"{todo} {finding.restart_rule.strip()}".strip()
    reason = (
        f"{finding.subject or finding.message} (collected {collected_on}). Rule: {finding.rule} Source: "
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


INFECTION_ACTION_TEXT = {
    "discontinue": "if the infection is serious or opportunistic, discontinue {drug}",
    "interrupt": "if the infection is serious, interrupt {drug} until it is controlled",
}


def infection_advice(rule: InfectionRuleFact | None, drug_name: str) -> tuple[str, str]:
    """The advice for infection signs in the words of the drug's label (§9.2), and its source; generic without one."""
    if rule is None or not drug_name:
        return INFECTION_ADVICE, ""
    action = INFECTION_ACTION_TEXT.get(rule.action, rule.action).format(drug=drug_name)
    advice = (
        "Possible infection: see the patient today, examine and test as needed (including for tuberculosis or "
        f"shingles where the signs fit); {action} ({drug_name} label, {rule.jurisdiction}: {rule.text})"
    )
    return advice, rule.source


def escalate_symptoms(
    codes: Iterable[str], *, infection_rule: InfectionRuleFact | None = None, drug_name: str = ""
) -> AlertDraft | None:
    """One alert for the visit: urgent for heart attack, stroke or clot signs; same day for infection or low counts.
    Infection advice follows the label of the drug the patient is on (``infection_rule``) when it has one."""
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
        text, rule_source = infection_advice(infection_rule, drug_name)
        advice.append(text)
        sources += rule_source
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
