"""CDS Hooks cards from the safety engine's findings (pure, no Django).

One card per finding. The indicator follows the finding's severity: contraindicated and do-not-start are
critical (the portal refuses the start), warnings are warnings (the portal asks for an acknowledged reason), dose
advice and information are info.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from interfaces.cds import prefetch as P
from therapy.findings import Finding, Severity

SUMMARY_MAX = 140  # CDS Hooks 2.0: the summary SHOULD be under 140 characters
FINDING_SYSTEM = "urn:jak-portal:safety-finding"  # the finding codes of therapy.safety, as the card's topic

INDICATOR = {
    Severity.CONTRAINDICATED: "critical",
    Severity.DO_NOT_START: "critical",
    Severity.WARNING: "warning",
    Severity.DOSE_ADVICE: "info",
    Severity.INFO: "info",
}
SEVERITY_WORDS = {
    Severity.CONTRAINDICATED: "Contraindicated",
    Severity.DO_NOT_START: "Do not start",
    Severity.WARNING: "Warning: needs a documented reason",
    Severity.DOSE_ADVICE: "Dose advice",
    Severity.INFO: "Information",
}
NOTE_TITLES = {
    P.UNMAPPED: "Not read: codes or units the portal does not know",
    P.MISSING: "Not in the request: not assumed",
    P.ASSUMED: "Read with an assumption",
}


def source_label(catalogue_version: int, jurisdiction: str) -> str:
    return f"JAK Portal safety check, catalogue version {catalogue_version} ({jurisdiction})"


def shorten(text: str, limit: int = SUMMARY_MAX - 1) -> str:
    """``text`` cut at a word to fit ``limit`` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    at_word = cut.rsplit(" ", 1)[0].rstrip(",;:.")
    # A very long word (an absurd number) would leave almost nothing: cut inside it instead.
    return (at_word if len(at_word) >= limit // 2 else cut) + "…"


def _card(summary: str, indicator: str, detail: str, label: str, topic: str = "") -> dict:
    source: dict = {"label": label}
    if topic:
        source["topic"] = {"system": FINDING_SYSTEM, "code": topic}
    return {
        "uuid": str(uuid.uuid4()),
        "summary": shorten(summary),
        "indicator": indicator,
        "detail": detail,
        "source": source,
    }


def finding_card(finding: Finding, *, drug_name: str, label: str) -> dict:
    unconfirmed = " (not yet confirmed against the source)" if finding.unconfirmed else ""
    paragraphs = [
        f"**{SEVERITY_WORDS[finding.severity]}** ({drug_name})",
        finding.message,
        f"**Rule:** {finding.rule}",
        f"**Source:** {finding.source or 'portal rule (no label source)'}{unconfirmed}",
        f"**Finding code:** `{finding.code}`, catalogue version {finding.catalogue_version}",
    ]
    summary = f"{drug_name}: {finding.message}"
    return _card(summary, INDICATOR[finding.severity], "\n\n".join(paragraphs), label, finding.code)


def finding_cards(findings: Sequence[Finding], *, drug_name: str, label: str) -> list[dict]:
    return [finding_card(f, drug_name=drug_name, label=label) for f in findings]


def note_cards(notes: Mapping[str, Sequence[str]], *, drug_name: str, label: str) -> list[dict]:
    """One info card per group of what the prefetch did not give (``interfaces.cds.prefetch`` notes)."""
    cards = []
    for group in (P.UNMAPPED, P.MISSING, P.ASSUMED):
        items = notes.get(group)
        if not items:
            continue
        detail = "\n".join(
            [
                f"The safety check for {drug_name} ran without these; the findings above do not cover them.",
                "",
                *(f"- {item}" for item in items),
            ]
        )
        summary = f"{NOTE_TITLES[group]}: {'; '.join(items)}"
        cards.append(_card(summary, "info", detail, label))
    return cards


def matched_by_name_card(*, drug_name: str, ordered_as: str, label: str) -> dict:
    detail = (
        f"The order ({ordered_as}) carries no RxNorm code the catalogue holds for {drug_name}, so it was "
        f"matched by name. Check that it is {drug_name}."
    )
    return _card(f"Order matched to {drug_name} by name, not by RxNorm code", "info", detail, label)


def not_in_catalogue_card(*, ordered: Sequence[str], label: str) -> dict:
    names = ", ".join(ordered) or "no medication order among those selected"
    detail = (
        f"None of the orders ({names}) is a JAK inhibitor in the portal's catalogue. This service checks only "
        "those; no safety check was run."
    )
    return _card("Not a catalogue JAK inhibitor: no JAK safety check run", "info", detail, label)
