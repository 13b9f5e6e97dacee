"""Baseline screening (clinical-reference §3.1): the checklist items, where each can be satisfied from, and which
record of it counts. Pure: plain values in, plain values out; ``patients.selectors.screening_status`` feeds it from
the record, and every reader (patient page, safety check, course schedule, worklist) goes through that selector.

One fact, one place: an item is satisfied by whichever of these the record holds, the **newest** winning:

- a lab result (``LabResult``): a coded screening test (TB IGRA, HBsAg, anti-HBc, HCV antibody, hCG), or any result
  of the blood count, lipid, liver or kidney panel;
- a screening record (``ScreeningResult``) entered on the patient page;
- a status recorded in the risk profile (tuberculosis, hepatitis B, hepatitis C, the eGFR).

See ``newest`` for the order on the same day and without a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

# Item code, label, source tag. Codes are stored values: never rename one.
ITEMS = (
    ("tb", "TB test (IGRA or skin test)", "[S1][S21][S37]"),
    ("hbsag", "Hepatitis B surface antigen", "[S1][S21][S37]"),
    ("hbcab", "Hepatitis B core antibody", "[S1][S21][S37]"),
    ("hcv", "Hepatitis C antibody", "[S1][S21][S37]"),
    ("cbc", "Full blood count (incl. platelets)", "[S1][S21b][S37]"),
    ("lipids", "Lipids", "[S13][S21]"),
    ("liver", "Liver tests (ALT/AST)", "[S21b][S37]"),
    ("kidney", "Kidney function (eGFR)", "[S9][S20][S43]"),
    ("pregnancy", "Pregnancy test", "[S14b][S21][S45]"),
    ("vaccinations", "Vaccinations up to date (incl. recombinant zoster)", "[S1][S25][S48]"),
)
ITEM_LABELS = {code: label for code, label, _src in ITEMS}
PREGNANCY_AGE_RANGE = (12, 55)  # female of child-bearing age, unless recorded otherwise (local definition)

# --- The one bridge between the three code systems ----------------------------------------------------------------

# Coded lab tests (the catalogue's ``analyte``) whose result answers a checklist item.
LAB_ANALYTE_ITEM = {
    "tb_igra": "tb",
    "hbsag": "hbsag",
    "anti_hbc": "hbcab",
    "hcv_ab": "hcv",
    "hcg_urine": "pregnancy",
    "hcg_serum": "pregnancy",
}
# Lab panels (the catalogue's ``panel``): any result of the panel answers the item.
LAB_PANEL_ITEM = {"cbc": "cbc", "lipids": "lipids", "liver": "liver", "kidney": "kidney"}
# The catalogue's baseline screening items (drugs ``ScreeningItem.Item``, the codes the safety check and the course
# schedule use) and the checklist items each needs: hepatitis B is done when both markers are.
CATALOGUE_ITEMS: dict[str, tuple[str, ...]] = {
    "tb": ("tb",),
    "hbv": ("hbsag", "hbcab"),
    "hcv": ("hcv",),
    "cbc": ("cbc",),
    "lipids": ("lipids",),
    "liver": ("liver",),
    "kidney": ("kidney",),
    "pregnancy": ("pregnancy",),
    "vaccines": ("vaccinations",),
}
CATALOGUE_ITEM_OF = {part: code for code, parts in CATALOGUE_ITEMS.items() for part in parts}
# Risk-profile fields that record a screening status, and the checklist items each answers. "Hepatitis B negative"
# in the risk profile is the clinician's summary of the hepatitis B serology, so it answers both markers (the source
# shown says it came from the risk profile, not from a marker).
#
# Deliberately not here:
# - ``zoster_vaccinated``: a "vaccinated against shingles" tick is not "vaccinations up to date" (the other
#   inactivated vaccines, no live vaccine due); only a screening record satisfies the vaccinations item. The safety
#   check still reads the tick for its own zoster finding.
# - ``pregnant`` and ``no_childbearing_potential``: booleans that default to "no", so "not pregnant" cannot be told
#   from "not asked"; they are not a pregnancy test. (``no_childbearing_potential`` makes the test not needed.)
# - ``child_pugh``: hepatic impairment is a classification, not the baseline liver tests.
PROFILE_FIELD_ITEMS = {"tb_status": ("tb",), "hepatitis_b": ("hbsag", "hbcab"), "hepatitis_c": ("hcv",)}
PROFILE_NO_RESULT = {"", "never_tested"}  # "not known", "never tested": the risk profile says nothing
PROFILE_EGFR_ITEM = "kidney"

# --- Sources and results ------------------------------------------------------------------------------------------

LAB = "lab"
RECORD = "record"
PROFILE = "profile"
SOURCE_LABELS = {LAB: "Lab result", RECORD: "Screening record", PROFILE: "Risk profile"}
SAME_DAY_ORDER = (LAB, RECORD, PROFILE)  # on the same day and equally concerning, the first of these wins

POSITIVE = "positive"
NEGATIVE = "negative"
INDETERMINATE = "indeterminate"
NORMAL = "normal"
ABNORMAL = "abnormal"
RECORDED = "recorded"  # a measurement with no normal/abnormal reading (no reference range, an eGFR value)
FINDINGS = frozenset({POSITIVE, ABNORMAL})
# On the same day, the more concerning result wins: never hide a positive behind a negative of the same date.
CONCERN = {POSITIVE: 2, ABNORMAL: 2, INDETERMINATE: 1}

# Risk-profile TB statuses (patients.models.Tuberculosis) and what the TB item then reads.
TB_NEVER_TESTED = "never_tested"
TB_NEGATIVE = "negative"
TB_LATENT_UNTREATED = "latent_untreated"
PROFILE_RESULT = {
    "negative": NEGATIVE,
    "positive": POSITIVE,
    "latent_untreated": POSITIVE,
    "latent_treated": POSITIVE,
    "active": POSITIVE,
}


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One record that answers a checklist item: where it is (``source``), what was tested (``test``: the analyte,
    panel or risk-profile field), when (``on``; None when the risk profile has no date for it) and the result."""

    item: str
    source: str  # LAB / RECORD / PROFILE
    test: str
    on: dt.date | None
    result: str  # POSITIVE / NEGATIVE / INDETERMINATE / NORMAL / ABNORMAL / RECORDED
    result_label: str
    detail: str  # "HBsAg negative", "ALT, AST", "tuberculosis negative"
    note: str = ""
    status: str = ""  # the risk profile's own value (e.g. the TB status), else ""
    order: int = 0  # the entry's id: of two entries of the same test on the same day, the later one wins

    @property
    def satisfies(self) -> bool:
        """An indeterminate result is recorded but answers nothing: the test is to be repeated."""
        return self.result != INDETERMINATE

    @property
    def positive(self) -> bool:
        return self.result in FINDINGS

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def label(self) -> str:
        """Where the item was satisfied from, e.g. "Lab result: HBsAg negative, 2026-11-02"."""
        when = self.on.isoformat() if self.on else "date not recorded"
        return f"{self.source_label}: {self.detail}, {when}"


def _entry_key(e: Evidence) -> tuple:
    return (e.on is not None, e.on or dt.date.min, e.order)


def _rank(e: Evidence) -> tuple:
    return (e.on is not None, e.on or dt.date.min, CONCERN.get(e.result, 0), -SAME_DAY_ORDER.index(e.source), e.order)


def newest(evidence: Iterable[Evidence]) -> dict[str, Evidence]:
    """The record that counts for each item: the newest one (by the date performed or collected; for the risk
    profile, the date the status was recorded).

    - The same test from the same source twice on one day: the later entry wins (it corrects the first).
    - Otherwise on the same day: the more concerning result wins (positive or abnormal, then indeterminate, then
      negative or normal), then a lab result over a screening record over the risk profile.
    - A risk-profile status with no recorded date counts only when nothing dated answers the item.
    """
    entries: dict[tuple[str, str, str], Evidence] = {}
    for e in evidence:
        key = (e.item, e.source, e.test)
        if key not in entries or _entry_key(e) > _entry_key(entries[key]):
            entries[key] = e
    best: dict[str, Evidence] = {}
    for e in entries.values():
        if e.item not in best or _rank(e) > _rank(best[e.item]):
            best[e.item] = e
    return best


# --- Building evidence from plain values --------------------------------------------------------------------------


def coded_lab_evidence(
    *, analyte: str, short_name: str, coded_value: str, coded_label: str, on: dt.date, order: int = 0
) -> Evidence | None:
    """A coded screening test's result (positive / negative / indeterminate); None for other tests."""
    item = LAB_ANALYTE_ITEM.get(analyte)
    if item is None or not coded_value:
        return None
    return Evidence(
        item=item,
        source=LAB,
        test=analyte,
        on=on,
        result=coded_value,
        result_label=coded_label,
        detail=f"{short_name} {coded_label.lower()}",
        order=order,
    )


def panel_lab_evidence(*, panel: str, on: dt.date, tests: Sequence[tuple[str, str]]) -> Evidence | None:
    """The panel's newest results, all of day ``on``: ``tests`` are (short name, reference flag) pairs. Abnormal when
    one is outside its reference range, normal when all are within it, else recorded."""
    item = LAB_PANEL_ITEM.get(panel)
    if item is None or not tests:
        return None
    outside = [f"{name} {flag}" for name, flag in tests if flag in ("low", "high")]
    if outside:
        result, label = ABNORMAL, "Outside the reference range: " + ", ".join(outside)
    elif all(flag == "normal" for _name, flag in tests):
        result, label = NORMAL, "Within the reference range"
    else:
        result, label = RECORDED, "Recorded"
    return Evidence(
        item=item,
        source=LAB,
        test=panel,
        on=on,
        result=result,
        result_label=label,
        detail=", ".join(name for name, _flag in tests),
    )


def record_evidence(
    *, item: str, on: dt.date, result: str, result_label: str, note: str = "", order: int = 0
) -> Evidence:
    return Evidence(
        item=item,
        source=RECORD,
        test="record",
        on=on,
        result=result,
        result_label=result_label,
        detail=result_label.lower(),
        note=note,
        order=order,
    )


@dataclass(frozen=True, kw_only=True)
class ProfileEntry:
    """One risk-profile status: the stored value, its label, the field's name, and the day it was recorded."""

    value: str
    label: str
    name: str
    on: dt.date | None


def profile_evidence(
    entries: Mapping[str, ProfileEntry], *, egfr: Decimal | None = None, egfr_on: dt.date | None = None
) -> list[Evidence]:
    """The screening statuses the risk profile records (``entries`` keyed by field name, see PROFILE_FIELD_ITEMS)."""
    found = []
    for name, items in PROFILE_FIELD_ITEMS.items():
        entry = entries.get(name)
        if entry is None or entry.value in PROFILE_NO_RESULT or entry.value not in PROFILE_RESULT:
            continue
        for item in items:
            found.append(
                Evidence(
                    item=item,
                    source=PROFILE,
                    test=name,
                    on=entry.on,
                    result=PROFILE_RESULT[entry.value],
                    result_label=entry.label,
                    detail=f"{entry.name} {entry.label.lower()}",
                    status=entry.value,
                )
            )
    if egfr is not None:
        text = f"eGFR {egfr.normalize():f} mL/min/1.73 m²"
        found.append(
            Evidence(
                item=PROFILE_EGFR_ITEM,
                source=PROFILE,
                test="egfr",
                on=egfr_on,
                result=RECORDED,
                result_label=text,
                detail=text,
            )
        )
    return found


# --- What the record says -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningStatus:
    """The newest record of each checklist item, and what the rule engines read from it."""

    newest: Mapping[str, Evidence] = field(default_factory=dict)

    @classmethod
    def of(cls, evidence: Iterable[Evidence]) -> ScreeningStatus:
        return cls(newest(evidence))

    def evidence(self, item: str) -> Evidence | None:
        return self.newest.get(item)

    def satisfied(self, item: str) -> bool:
        e = self.newest.get(item)
        return e is not None and e.satisfies

    def catalogue_evidence(self, code: str) -> tuple[Evidence, ...]:
        """What satisfies a catalogue item (all its parts), or () while any part is missing."""
        parts = CATALOGUE_ITEMS.get(code, ())
        if not parts or not all(self.satisfied(part) for part in parts):
            return ()
        return tuple(self.newest[part] for part in parts)

    def catalogue_done(self) -> frozenset[str]:
        """The catalogue items done, as the safety check and the course schedule read them."""
        return frozenset(code for code in CATALOGUE_ITEMS if self.catalogue_evidence(code))

    def serology(self, code: str) -> str:
        """ "positive" when the newest result of any part is positive; "negative" when every part is answered and
        none is positive; else "unknown". Each marker counts on its own: a newer negative HBsAg does not hide an
        older positive anti-HBc."""
        parts = [self.newest.get(part) for part in CATALOGUE_ITEMS[code]]
        if any(e is not None and e.positive for e in parts):
            return POSITIVE
        if all(e is not None and e.satisfies for e in parts):
            return NEGATIVE
        return "unknown"

    def tb_status(self) -> str:
        """The TB status the safety check reads. A risk-profile status is taken as it is. A positive test with no
        newer status in the risk profile is TB infection not yet treated: it blocks until the clinician records
        the assessment (latent treated, or active) in the risk profile, which is then the newest entry."""
        e = self.newest.get("tb")
        if e is None or not e.satisfies:
            return TB_NEVER_TESTED
        if e.status:
            return e.status
        return TB_LATENT_UNTREATED if e.positive else TB_NEGATIVE


# --- The patient page's checklist ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistRow:
    code: str
    label: str
    reference: str  # source tags of the clinical reference
    required: bool
    evidence: Evidence | None

    @property
    def done(self) -> bool:
        return self.evidence is not None and self.evidence.satisfies

    @property
    def status_label(self) -> str:
        if self.done:
            return "Done"
        if self.evidence is not None:
            return "Repeat (indeterminate)" if self.required else "Indeterminate"
        return "Missing" if self.required else "Not needed"


def pregnancy_test_relevant(*, sex_at_birth: str, age: int | None, no_childbearing_potential: bool) -> bool:
    low, high = PREGNANCY_AGE_RANGE
    return sex_at_birth == "female" and age is not None and low <= age <= high and not no_childbearing_potential


def checklist(*, status: ScreeningStatus, pregnancy_relevant: bool) -> list[ChecklistRow]:
    """One row per item in reference order; the pregnancy test is required only where relevant."""
    rows = []
    for code, label, reference in ITEMS:
        required = pregnancy_relevant if code == "pregnancy" else True
        rows.append(ChecklistRow(code, label, reference, required, status.evidence(code)))
    return rows


def missing(rows: list[ChecklistRow]) -> list[str]:
    return [row.label for row in rows if row.required and not row.done]
