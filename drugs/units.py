"""Lab values as typed and as stored: parsing, exact unit conversion, plausibility and the reference-range flag.

Pure (no Django): the one path from a typed value to the lab test's canonical unit, used by the lab panel form, the
CSV upload and the catalogue's threshold editor, so a value one of them refuses the others refuse too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from portal.formats import decimal_text as fmt

# Stored values have 4 decimal places (LabResult.value, LabThreshold.value, LabTest's ranges).
STORED_DECIMAL_PLACES = 4
STORED_PLACES = Decimal(10) ** -STORED_DECIMAL_PLACES
CODED_VALUES = (("positive", "Positive"), ("negative", "Negative"), ("indeterminate", "Indeterminate"))


_PLAIN_NUMBER = re.compile(r"\d+(\.\d*)?|\.\d+")
MAX_DIGITS = 12  # what the result columns hold (12 digits, 4 after the point)


class EntryError(ValueError):
    """A typed value that cannot be stored; the message is for the field it was typed in."""


class PrecisionError(EntryError):
    """The value in the canonical unit has more decimal places than are stored (it would have to be rounded)."""


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
    """Exact conversion to the canonical unit, with the stored number of decimal places; refuses more precision
    than can be stored (PrecisionError) instead of rounding."""
    canonical = value * factor
    try:
        rounded = canonical.quantize(STORED_PLACES)
    except InvalidOperation:  # more digits than the decimal context holds
        raise EntryError(f"Too many digits: a lab value has at most {MAX_DIGITS}.") from None
    if canonical != rounded:
        raise PrecisionError("Too many decimal places for this unit; round the value as the lab reported it.")
    return rounded


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
