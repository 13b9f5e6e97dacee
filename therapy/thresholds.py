"""Lab action levels: a result against a drug's thresholds, before starting or on treatment (pure, no Django)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from drugs.label import DrugLabel, ThresholdFact
from drugs.units import DisplayUnit
from therapy.findings import Finding, Severity, fmt, join_sources, sort_findings

COMPARISON_TEXT = {"lt": "below", "le": "at or below", "gt": "above", "ge": "at or above"}
THRESHOLD_SEVERITY = {
    "do_not_start": Severity.DO_NOT_START,
    "interrupt": Severity.DO_NOT_START,
    "discontinue": Severity.CONTRAINDICATED,
}
ACTION_TEXT = {"do_not_start": "do not start", "interrupt": "interrupt", "discontinue": "discontinue"}


def analyte_name(row: ThresholdFact) -> str:
    return row.analyte_name or row.analyte


def threshold_rule(row: ThresholdFact, drug_name: str, jurisdiction: str) -> str:
    phase = "before starting" if row.phase == "baseline" else "on treatment"
    rule = (
        f"{analyte_name(row)} {COMPARISON_TEXT[row.comparison]} {fmt(row.value)} {row.unit} {phase}: "
        f"{ACTION_TEXT[row.action]} {drug_name} ({jurisdiction})."
    )
    return f"{rule} {row.restart_rule}".strip() if row.restart_rule else rule


def breached(row: ThresholdFact, value: Decimal) -> bool:
    match row.comparison:
        case "lt":
            return value < row.value
        case "le":
            return value <= row.value
        case "gt":
            return value > row.value
        case "ge":
            return value >= row.value
    raise ValueError(f"unknown comparison {row.comparison!r}")


def result_findings(
    analyte: str,
    value: Decimal,
    rows: Sequence[ThresholdFact],
    drug_name: str,
    jurisdiction: str,
    version: int,
    taken: date | None = None,
    previous: tuple[Decimal, date] | None = None,
    shown_in: DisplayUnit | None = None,
) -> list[Finding]:
    """Findings for the most severe action whose limit the value passes (none when within all limits).

    ``previous`` is the analyte's result before this one on the same course: when it passed the same level, a row
    with a ``confirmed_action`` applies that action instead ("discontinue if confirmed", §9.5). ``shown_in`` is the
    unit the clinic reads values in (SI): the message then gives values in it, each limit with the label's own
    value beside it; the rule keeps the label's wording."""
    hits = [r for r in rows if r.analyte == analyte and breached(r, value)]
    if not hits:
        return []

    def confirmed(row: ThresholdFact) -> bool:
        return bool(row.confirmed_action) and previous is not None and breached(row, previous[0])

    def action_of(row: ThresholdFact) -> str:
        return row.confirmed_action if confirmed(row) else row.action

    worst = max(THRESHOLD_SEVERITY[action_of(r)] for r in hits)
    findings = []
    when = f" on {taken.isoformat()}" if taken else ""
    for row in hits:
        row_action = action_of(row)
        if THRESHOLD_SEVERITY[row_action] != worst:
            continue
        urgent = row_action == "discontinue"
        action = ACTION_TEXT[row_action]

        def value_text(v: Decimal, unit: str = row.unit) -> str:
            return shown_in.text(v) if shown_in is not None else f"{fmt(v)} {unit}"

        def limit_text(v: Decimal, unit: str = row.unit) -> str:
            return shown_in.text_with_canonical(v) if shown_in is not None else f"{fmt(v)} {unit}"

        subject = (
            f"{analyte_name(row)} {value_text(value)}{when} is {COMPARISON_TEXT[row.comparison]} "
            f"{limit_text(row.value)}"
        )
        if confirmed(row) and previous is not None:
            subject += f", confirming the previous result ({value_text(previous[0])} on {previous[1].isoformat()})"
        message = f"{subject}: {action} {drug_name}{' now (urgent)' if urgent else ''}."
        restart = "" if confirmed(row) else row.restart_rule  # a confirmed discontinue has no restart
        if restart:
            message += f" {restart}"
        findings.append(
            Finding(
                severity=THRESHOLD_SEVERITY[row.action],
                code=f"threshold.{row.analyte}.{row.phase}",
                message=message,
                rule=threshold_rule(row, drug_name, jurisdiction),
                source=join_sources([row]),
                unconfirmed=row.unconfirmed,
                catalogue_version=version,
                action=row_action,
                urgent=urgent,
                subject=subject,
                restart_rule=restart,
            )
        )
    return findings


def check_result(
    analyte: str,
    value: Decimal,
    label: DrugLabel,
    jurisdiction: str,
    on_treatment: bool,
    catalogue_version: int,
    previous: tuple[Decimal, date] | None = None,
    shown_in: DisplayUnit | None = None,
) -> list[Finding]:
    """Apply the label's action levels to one lab result (canonical unit): baseline or on treatment. ``previous``
    is the analyte's earlier result on the course, for the "if confirmed" rows; ``shown_in`` as result_findings."""
    phase = "on_treatment" if on_treatment else "baseline"
    rows = [t for t in label.for_jurisdiction(jurisdiction).thresholds if t.phase == phase]
    findings = result_findings(
        analyte, value, rows, label.name, jurisdiction, catalogue_version, previous=previous, shown_in=shown_in
    )
    return sort_findings(findings)


def needs_previous(analyte: str, value: Decimal, label: DrugLabel, jurisdiction: str) -> bool:
    """Whether the result passes a level whose action depends on the previous result (so it is worth reading)."""
    rows = label.for_jurisdiction(jurisdiction).thresholds
    return any(r.analyte == analyte and r.confirmed_action and breached(r, value) for r in rows)
