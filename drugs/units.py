"""Lab values as typed and as stored: parsing, exact unit conversion, plausibility and the reference-range flag.

Pure (no Django): the one path from a typed value to the lab test's canonical unit, used by the lab panel form, the
CSV upload and the catalogue's threshold editor, so a value one of them refuses the others refuse too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction

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


_DECIMAL_COMMA = re.compile(r"\d*,\d+|\d+,")
_AMBIGUOUS_COMMA = re.compile(r"[1-9]\d{0,2},\d{3}")  # 45,000 or 1,250: thousands (US) or decimals (EU)?
ONE = Decimal(1)
# Unit systems a clinic can show results in (portal.Clinic.unit_system): the catalogue's canonical units are the
# US conventional ones; SI shows each test in the unit its catalogue entry names for SI (LabTest.si_unit).
US, SI = "US", "SI"


def parse_number(text: str) -> Decimal:
    """A decimal number as a lab prints it: a point or a comma for decimals (4.6 or 4,6), no thousands separators.

    "45,000" is refused rather than guessed: it is 45000 on a US print-out and 45.000 on a European one."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:
        if "." in cleaned or cleaned.count(",") > 1:
            raise EntryError("Use one decimal mark (4.6 or 4,6) and no thousands separators (e.g. 45000).")
        if _AMBIGUOUS_COMMA.fullmatch(cleaned):
            whole, part = cleaned.split(",")
            raise EntryError(
                f"“{cleaned}” could be {whole}{part} or {whole}.{part}: type it without thousands separators "
                f"(e.g. {whole}{part}), or with a point for decimals ({whole}.{part})."
            )
        if _DECIMAL_COMMA.fullmatch(cleaned):
            cleaned = cleaned.replace(",", ".")
    if cleaned.startswith("-") and _PLAIN_NUMBER.fullmatch(cleaned[1:].replace(",", ".")):
        raise EntryError("A lab value cannot be negative.")
    if not _PLAIN_NUMBER.fullmatch(cleaned):  # no exponents (1e309), NaN, Infinity or signs: digits as the lab prints
        raise EntryError(f"“{text.strip()[:40]}” is not a number: type digits, with a point or comma for decimals.")
    if len(cleaned.replace(".", "").lstrip("0")) > MAX_DIGITS:
        raise EntryError(f"Too many digits: a lab value has at most {MAX_DIGITS}.")
    return Decimal(cleaned)


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def unit_key(text: str) -> str:
    """A unit as labs write it, reduced for a loose match: case, spaces, µ/u, ×10⁹ / x10^9 / 10*9 alike."""
    key = text.strip().lower().replace(" ", "").replace("µ", "u").replace("μ", "u")
    for power, digits in (("10¹²", "10*12"), ("10⁹", "10*9"), ("10⁶", "10*6"), ("10³", "10*3")):
        key = key.replace(power, digits)
    key = key.translate(_SUPERSCRIPTS).replace("^", "*").replace("×", "x")
    if key.startswith("x10"):
        key = key[1:]
    return key.replace("cells/", "/")


def _product(value: Decimal, factor: Decimal, divisor: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40  # a 12-digit value times a 16-digit factor, divided: more digits than any stored value
        return value * factor / divisor


def is_exact(factor: Decimal, divisor: Decimal = ONE) -> bool:
    """Whether factor ÷ divisor is a finite decimal (every converted value is then exact before storage rounding):
    the reduced fraction's denominator has no prime factor but 2 and 5."""
    denominator = (Fraction(factor) / Fraction(divisor)).denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def to_canonical(value: Decimal, factor: Decimal, divisor: Decimal = ONE, *, exact: bool = False) -> Decimal:
    """The value in the canonical unit (canonical = value × factor ÷ divisor), with the stored decimal places.

    A value typed in the canonical unit (factor and divisor 1) with more places than are stored is refused
    (PrecisionError): the number itself would change. A converted value is rounded half-even to the stored places;
    the value and unit as typed are kept beside it on the result, so nothing the lab printed is lost (80 µmol/L
    creatinine is stored as 0.9048 mg/dL, 88.42 µmol/L = 1 mg/dL having no finite decimal inverse, §9.8).
    ``exact=True`` (catalogue thresholds, which must mean exactly what the label says) refuses any rounding."""
    canonical = _product(value, factor, divisor)
    try:
        rounded = canonical.quantize(STORED_PLACES, rounding=ROUND_HALF_EVEN)
    except InvalidOperation:  # more digits than the decimal context holds
        raise EntryError(f"Too many digits: a lab value has at most {MAX_DIGITS}.") from None
    if len(rounded.as_tuple().digits) > MAX_DIGITS + 4:
        raise EntryError(f"Too many digits: a lab value has at most {MAX_DIGITS}.")
    if canonical != rounded and (exact or (factor == ONE and divisor == ONE)):
        raise PrecisionError("Too many decimal places for this unit; round the value as the lab reported it.")
    return rounded


def from_canonical(canonical: Decimal, factor: Decimal, divisor: Decimal = ONE, places: int | None = None) -> Decimal:
    """A stored value in another accepted unit, for display: rounded half-up to ``places`` when given, else to
    the stored places without trailing zeros."""
    value = _product(canonical, divisor, factor)
    if places is not None:
        return value.quantize(Decimal(10) ** -places, rounding=ROUND_HALF_UP)
    return value.quantize(STORED_PLACES, rounding=ROUND_HALF_UP).normalize()


@dataclass(frozen=True)
class DisplayUnit:
    """The unit a clinic sees a test's values in, with its conversion from the canonical unit."""

    code: str
    label: str
    factor: Decimal = ONE
    divisor: Decimal = ONE
    places: int | None = None
    canonical_label: str = ""  # the canonical unit's label, when this is another unit

    @property
    def converts(self) -> bool:
        return bool(self.canonical_label)

    def value(self, canonical: Decimal) -> Decimal:
        return from_canonical(canonical, self.factor, self.divisor, self.places)

    def text(self, canonical: Decimal) -> str:
        """ "75 g/L" """
        return f"{fmt(self.value(canonical))} {self.label}".strip()

    def text_with_canonical(self, canonical: Decimal) -> str:
        """ "75 g/L (7.5 g/dL)" in another unit, "7.5 g/dL" in the canonical one: messages citing label limits."""
        if not self.converts:
            return self.text(canonical)
        return f"{self.text(canonical)} ({fmt(canonical)} {self.canonical_label})"

    def entered(self, entered_value: str, entered_unit: str, canonical: Decimal) -> Decimal:
        """What the lab printed when it was in this unit (exact: 4,6 is 4.6), else the converted value."""
        if entered_unit == self.code and entered_value:
            try:
                return parse_number(entered_value)
            except EntryError:
                pass  # a value stored before the current parsing rules: the stored value is the truth
        return self.value(canonical)

    def entered_text(self, entered_value: str, entered_unit: str, canonical: Decimal) -> str:
        """ "4.6 mmol/L": as ``entered``, with the unit."""
        return f"{fmt(self.entered(entered_value, entered_unit, canonical))} {self.label}".strip()


def plausibility_error(
    canonical: Decimal,
    *,
    factor: Decimal,
    unit_label: str,
    test_name: str,
    plausible_min: Decimal | None,
    plausible_max: Decimal | None,
    divisor: Decimal = ONE,
) -> str | None:
    """A message naming the limit in the entered unit when the value cannot be real, else None."""
    shown = fmt(from_canonical(canonical, factor, divisor))
    if plausible_max is not None and canonical > plausible_max:
        limit = fmt(from_canonical(plausible_max, factor, divisor))
        return (
            f"{shown} {unit_label} is not a plausible {test_name}: the highest accepted value is "
            f"{limit} {unit_label}. Check for a typing error or the wrong unit."
        )
    if plausible_min is not None and canonical < plausible_min:
        limit = fmt(from_canonical(plausible_min, factor, divisor))
        return (
            f"{shown} {unit_label} is not a plausible {test_name}: the lowest accepted value is "
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
    divisor: Decimal = ONE,
) -> Decimal:
    """A typed value in the canonical unit; EntryError with the message for the user when it is not a number
    or not plausible. The one path for the lab form, the CSV upload and every later import."""
    canonical = to_canonical(parse_number(raw), factor, divisor)
    message = plausibility_error(
        canonical,
        factor=factor,
        divisor=divisor,
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
