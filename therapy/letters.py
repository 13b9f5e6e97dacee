"""What a patient handout and a letter to the GP say about a course: plain check names, the check-up visits
(checks due the same day grouped into one), who does each check, and the dose as prescribed (no Django here).

The schedule's own names (``schedule.CHECK_NAMES``) are for staff; patients read ``PLAIN_CHECK_NAMES``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from therapy.schedule import check_name

BLOOD_TESTS = {"cbc", "lipids", "liver", "kidney", "cpk", "hbv", "hcv"}

PLAIN_CHECK_NAMES = {
    "cbc": "blood count",
    "lipids": "cholesterol (blood fats)",
    "liver": "liver",
    "kidney": "kidneys",
    "cpk": "muscle enzyme (CPK)",
    "hbv": "hepatitis B",
    "hcv": "hepatitis C",
    "tb": "Tuberculosis (TB) test",
    "skin_exam": "Skin check by your dermatologist",
    "infection_check": "Questions about infections and how you feel",
    "efficacy_review": "Review of how well the treatment works",
    "pregnancy": "Pregnancy test",
    "vaccines": "Check that your vaccinations are up to date",
}

# Who carries out each check on the portal's schedule. The portal does not record a shared-care agreement, so
# every check is the dermatology clinic's: the letter says so, and asks the GP for what only a GP sees.
CLINIC_NURSE = "Dermatology clinic (blood test)"
WHO_DOES = {
    "tb": "Dermatology clinic",
    "skin_exam": "Dermatologist",
    "infection_check": "Dermatology clinic nurse",
    "efficacy_review": "Dermatologist",
    "pregnancy": "Dermatology clinic",
    "vaccines": "Dermatology clinic",
}


_SOURCE_TAG = re.compile(r"\s*\[[A-Z]{1,3}\d+[a-z]?\]")
_REFERENCE_ONLY = re.compile(r"\s*\(§[\d.]*\d\)")  # " (§9.1)"
_REFERENCE_AFTER = re.compile(r"\s*[;,]\s*§[\d.]*\d(?=\))")  # "(every label; §9.1)"
_REFERENCE_BEFORE = re.compile(r"\(§[\d.]*\d\s*[;,]\s*")  # "(§9.3, EU label)"


def outside_text(text: str) -> str:
    """Catalogue wording for readers outside the portal (a patient, a GP): without the source tags ("[S5]") and the
    clinical reference's own section numbers ("(§9.1)"), which mean nothing to them. A label's section ("Cibinqo
    §5.1") stays: it names a document the reader can look up."""
    text = _SOURCE_TAG.sub("", text)
    text = _REFERENCE_ONLY.sub("", text)
    text = _REFERENCE_AFTER.sub("", text)
    return _REFERENCE_BEFORE.sub("(", text).strip()


def letter_filename(record_number: str, day: date) -> str:
    """The GP letter's PDF file name, ``gp-letter-<record number>-<date>.pdf``. A record number is free text: what
    is not a letter, digit or hyphen becomes a hyphen, so the name is safe in a header and on every file system."""
    record = re.sub(r"[^A-Za-z0-9]+", "-", record_number).strip("-") or "record"
    return f"gp-letter-{record}-{day.isoformat()}.pdf"


def plain_check_name(check_type: str) -> str:
    return PLAIN_CHECK_NAMES.get(check_type, check_name(check_type))


def who_does(check_type: str) -> str:
    return CLINIC_NURSE if check_type in BLOOD_TESTS else WHO_DOES.get(check_type, "Dermatology clinic")


@dataclass(frozen=True, kw_only=True)
class DueCheck:
    """An open check of the course schedule."""

    check_type: str
    due: date
    earliest: date | None
    latest: date


@dataclass(kw_only=True)
class Visit:
    """The checks due on one day, as a patient reads them: "Blood test (blood count, liver)" and the others."""

    due: date
    earliest: date | None
    latest: date
    overdue: bool
    blood_tests: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    @property
    def what(self) -> list[str]:
        blood = [f"Blood test ({', '.join(self.blood_tests)})"] if self.blood_tests else []
        return blood + self.other


def visits(checks: Iterable[DueCheck], *, today: date) -> list[Visit]:
    """The open checks grouped by due date, earliest first; a visit's window is the narrowest all its checks
    share. A check past its window's end is overdue (the patient is asked to book it now)."""
    by_day: dict[date, Visit] = {}
    for check in sorted(checks, key=lambda c: (c.due, c.check_type)):
        visit = by_day.get(check.due)
        if visit is None:
            visit = by_day[check.due] = Visit(
                due=check.due, earliest=check.earliest, latest=check.latest, overdue=check.latest < today
            )
        else:
            if check.earliest is not None and (visit.earliest is None or check.earliest > visit.earliest):
                visit.earliest = check.earliest
            visit.latest = min(visit.latest, check.latest)
            visit.overdue = visit.overdue or check.latest < today
        name = plain_check_name(check.check_type)
        target = visit.blood_tests if check.check_type in BLOOD_TESTS else visit.other
        if name not in target:
            target.append(name)
    return list(by_day.values())


def dose_text(
    *,
    drug: str,
    dose: Decimal | None,
    dose_unit: str,
    frequency: str,
    route: str,
    bsa_percent: Decimal | None = None,
    grams: Decimal | None = None,
    days: int | None = None,
) -> str:
    """The dose as prescribed, in words: "Abrocitinib 100 mg, once daily"; a cream says where and how much."""
    if dose is not None:
        text = f"{drug} {dose.normalize():f} {dose_unit}"
        return f"{text}, {frequency}" if frequency else text
    parts = [drug]
    if frequency:
        parts.append(frequency)
    if route == "topical":
        if bsa_percent is not None:
            parts.append(f"on up to {bsa_percent.normalize():f}% of the skin")
        if grams is not None and days:
            parts.append(f"no more than {grams.normalize():f} g every {days} days")
        if len(parts) == 1:
            parts.append("a thin layer on the affected skin, as your clinic showed you")
    return ", ".join(parts)
