"""Eczema severity scores: EASI from its parts and the response rules (clinical-reference §5, §9.7). Pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# EASI regions (key, label) and their weights by age at the assessment date [T1][T2][T3], clinical-reference §9.7
# (HOME initiative EASI guide; DermNet EASI page): children aged 0-7 years weigh the head and neck more, because it
# is a larger part of a small child's body.
EASI_REGIONS = (
    ("head", "Head and neck"),
    ("upper", "Upper limbs"),
    ("trunk", "Trunk"),
    ("lower", "Lower limbs"),
)
EASI_ADULT_FROM_AGE = 8  # years: from the 8th birthday the adult weights apply
EASI_CHILD_WEIGHTS = {"head": Decimal("0.2"), "upper": Decimal("0.2"), "trunk": Decimal("0.3"), "lower": Decimal("0.3")}
EASI_ADULT_WEIGHTS = {"head": Decimal("0.1"), "upper": Decimal("0.2"), "trunk": Decimal("0.3"), "lower": Decimal("0.4")}
EASI_CHILD_LABEL = "Children aged 0–7 years"
EASI_ADULT_LABEL = "Aged 8 years and over"
EASI_SIGNS = (
    ("erythema", "Erythema (redness)"),
    ("induration", "Induration / papulation"),
    ("excoriation", "Excoriation (scratching)"),
    ("lichenification", "Lichenification"),
)
EASI_AREA_MAX = 6  # whole numbers 0-6
EASI_SIGN_MAX = 3
EASI_SIGN_STEP = Decimal("0.5")  # half scores are allowed for the four signs (§9.7)
EASI_MAX = Decimal(72)

# Ranges of every instrument (§5): (min, max).
RANGES = {
    "easi": (0, 72),
    "viga": (0, 4),
    "itch_nrs": (0, 10),
    "poem": (0, 28),
    "dlqi": (0, 30),
    "scorad": (0, 103),
}

EASI_BANDS = (
    (Decimal(0), "clear"),
    (Decimal(1), "almost clear"),
    (Decimal(7), "mild"),
    (Decimal(21), "moderate"),
    (Decimal(50), "severe"),
    (Decimal(72), "very severe"),
)


@dataclass(frozen=True)
class RegionScore:
    area: int
    erythema: Decimal | int
    induration: Decimal | int
    excoriation: Decimal | int
    lichenification: Decimal | int


class EasiPartsError(ValueError):
    """Some parts of an EASI are missing or invalid: ``errors`` maps each part's field name to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


def easi_field_name(region: str, part: str) -> str:
    return f"easi_{region}_{part}"


EASI_PART_NAMES = tuple(
    easi_field_name(region, part) for region, _label in EASI_REGIONS for part in ("area", *(s for s, _l in EASI_SIGNS))
)


def easi_weights(age_years: int) -> dict[str, Decimal]:
    """Region weights for a patient of ``age_years`` (whole years) on the assessment date."""
    if age_years < 0:
        raise ValueError("age before birth")
    return EASI_CHILD_WEIGHTS if age_years < EASI_ADULT_FROM_AGE else EASI_ADULT_WEIGHTS


def easi_weights_label(age_years: int) -> str:
    return EASI_CHILD_LABEL if age_years < EASI_ADULT_FROM_AGE else EASI_ADULT_LABEL


def area_error(value: Decimal | int) -> str | None:
    """A message when an area score is not a whole number 0-6, else None."""
    if not Decimal(value).is_finite() or not 0 <= value <= EASI_AREA_MAX:
        return f"Enter a value from 0 to {EASI_AREA_MAX}."
    if value != int(value):
        return f"Enter a whole number from 0 to {EASI_AREA_MAX}."
    return None


SIGN_STEP_MESSAGE = "Enter a whole or half score: 0, 0.5, 1, 1.5, 2, 2.5 or 3."


def on_sign_step(value: Decimal | int) -> bool:
    """Whether a sign score is a whole or half point (0.3 is not); huge or non-finite values are not."""
    number = Decimal(value)
    return number.is_finite() and abs(number) <= EASI_MAX and not number % EASI_SIGN_STEP


def sign_error(value: Decimal | int) -> str | None:
    """A message when a sign score is not 0-3 in half points, else None."""
    if not Decimal(value).is_finite() or not 0 <= value <= EASI_SIGN_MAX:
        return f"Enter a value from 0 to {EASI_SIGN_MAX}."
    if not on_sign_step(value):
        return SIGN_STEP_MESSAGE
    return None


def easi_region_value(region: RegionScore, weight: Decimal) -> Decimal:
    problems = [area_error(region.area)] + [sign_error(getattr(region, sign)) for sign, _label in EASI_SIGNS]
    for problem in problems:
        if problem:
            raise ValueError(f"EASI score outside its range: {problem}")
    signs = region.erythema + region.induration + region.excoriation + region.lichenification
    return weight * region.area * Decimal(signs)


def easi_total(regions: dict[str, RegionScore], *, age_years: int) -> Decimal:
    """EASI = sum over the 4 regions of weight x area score (0-6) x sum of 4 signs (0-3 each, half points allowed);
    the weights by age on the assessment date (``easi_weights``); 0-72, 1 decimal."""
    weights = easi_weights(age_years)
    total = sum((easi_region_value(regions[key], weights[key]) for key, _label in EASI_REGIONS), Decimal(0))
    return total.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def easi_part_errors(parts: Mapping[str, Decimal | int | None]) -> dict[str, str]:
    """Field name -> message for each EASI part that is missing or invalid; empty when the parts make an EASI.

    Every region needs its area score (0 when it has no eczema). A region with area 0 needs no sign scores: blank
    signs there count as 0. A region with an area above 0 needs all four signs.
    """
    errors: dict[str, str] = {}
    for key, _label in EASI_REGIONS:
        area = parts.get(easi_field_name(key, "area"))
        if area is None:
            errors[easi_field_name(key, "area")] = "Enter the area score (0 if this region has no eczema)."
        elif problem := area_error(area):
            errors[easi_field_name(key, "area")] = problem
        for sign, _l in EASI_SIGNS:
            name, value = easi_field_name(key, sign), parts.get(easi_field_name(key, sign))
            if value is None:
                if area not in (None, 0):  # blank signs are fine where there is no eczema (area 0)
                    errors[name] = "Enter this score too (0 if none): the region has eczema (area above 0)."
            elif problem := sign_error(value):
                errors[name] = problem
    return errors


def easi_from_parts(parts: Mapping[str, Decimal | int | None], *, age_years: int) -> Decimal | None:
    """The EASI total from its 20 parts keyed by field name (``easi_field_name``), with the weights for
    ``age_years`` on the assessment date; None when no part is given. Raises EasiPartsError naming each part that
    is missing or invalid (``easi_part_errors``)."""
    if all(parts.get(name) is None for name in EASI_PART_NAMES):
        return None
    if errors := easi_part_errors(parts):
        raise EasiPartsError(errors)
    regions = {
        key: RegionScore(
            int(parts[easi_field_name(key, "area")] or 0),
            *(Decimal(parts.get(easi_field_name(key, sign)) or 0) for sign, _l in EASI_SIGNS),
        )
        for key, _label in EASI_REGIONS
    }
    return easi_total(regions, age_years=age_years)


def easi_band(total: Decimal) -> str:
    for upper, label in EASI_BANDS:
        if total <= upper:
            return label
    return EASI_BANDS[-1][1]


def easi_percent_improvement(baseline: Decimal | None, current: Decimal | None) -> Decimal | None:
    if baseline is None or current is None or baseline <= 0:
        return None
    return ((baseline - current) / baseline * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


def easi75(baseline: Decimal | None, current: Decimal | None) -> bool | None:
    """EASI-75: a fall of at least 75% from baseline. None when it cannot be judged."""
    if baseline is None or current is None or baseline <= 0:
        return None
    return (baseline - current) * 100 >= 75 * baseline  # exact: no rounding before the comparison


def viga_success(baseline: int | None, current: int | None) -> bool | None:
    """vIGA-AD 0 or 1 with at least a 2-point fall from baseline."""
    if baseline is None or current is None:
        return None
    return current <= 1 and baseline - current >= 2


def itch_response(baseline: int | None, current: int | None) -> bool | None:
    """Peak pruritus NRS: at least a 4-point fall from baseline."""
    if baseline is None or current is None:
        return None
    return baseline - current >= 4


@dataclass(frozen=True)
class Response:
    code: str
    label: str
    met: bool | None
    detail: str


def responses(
    *,
    baseline_easi: Decimal | None,
    current_easi: Decimal | None,
    baseline_viga: int | None,
    current_viga: int | None,
    baseline_itch: int | None,
    current_itch: int | None,
) -> list[Response]:
    improvement = easi_percent_improvement(baseline_easi, current_easi)
    return [
        Response(
            "EASI75",
            "EASI-75",
            easi75(baseline_easi, current_easi),
            f"EASI {baseline_easi} → {current_easi} ({improvement}% better)" if improvement is not None else "",
        ),
        Response(
            "VIGA01",
            "vIGA-AD 0/1 with ≥2-point fall",
            viga_success(baseline_viga, current_viga),
            f"vIGA {baseline_viga} → {current_viga}" if None not in (baseline_viga, current_viga) else "",
        ),
        Response(
            "ITCH4",
            "Itch NRS fall ≥4",
            itch_response(baseline_itch, current_itch),
            f"Itch {baseline_itch} → {current_itch}" if None not in (baseline_itch, current_itch) else "",
        ),
    ]
