"""What the clinical rule engines report: a finding with its severity, rule and source (pure, no Django)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from drugs.label import Fact
from portal.formats import decimal_text as fmt

__all__ = ["Finding", "Severity", "fmt", "join_sources", "sort_findings"]


class Severity(IntEnum):
    """Higher is more severe. Findings sort most severe first."""

    INFO = 1
    DOSE_ADVICE = 2
    WARNING = 3
    DO_NOT_START = 4
    CONTRAINDICATED = 5


@dataclass(frozen=True, kw_only=True)
class Finding:
    severity: Severity
    code: str
    message: str
    rule: str
    source: str
    unconfirmed: bool
    catalogue_version: int
    recommended_dose: Decimal | None = None
    action: str = ""  # for lab results: do_not_start / interrupt / discontinue
    urgent: bool = False
    # For lab results (therapy.thresholds): what was found, e.g. "Platelets 45 ×10³/µL is below 50 ×10³/µL", and the
    # label's restart rule, so alerts are built from data rather than by splitting ``message``.
    subject: str = ""
    restart_rule: str = ""

    @property
    def needs_acknowledgement(self) -> bool:
        return self.severity == Severity.WARNING

    @property
    def blocks_start(self) -> bool:
        return self.severity >= Severity.DO_NOT_START


def join_sources(facts: Iterable[Fact | str]) -> str:
    """Reference tags of several facts, each once, in order of first appearance."""
    seen: list[str] = []
    for fact in facts:
        text = fact if isinstance(fact, str) else fact.source
        for tag in re.findall(r"\[[^\]]+\]", text or ""):
            if tag not in seen:
                seen.append(tag)
    return "".join(seen)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity, f.code))
