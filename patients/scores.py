"""Eczema severity scores: EASI from its parts and the response rules (clinical-reference §5). Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Region: (key, label, weight) [T1][T2][T3]
EASI_REGIONS = (
    ("head", "Head and neck", Decimal("0.1")),
    ("upper", "Upper limbs", Decimal("0.2")),
    ("trunk", "Trunk", Decimal("0.3")),
    ("lower", "Lower limbs", Decimal("0.4")),
)
EASI_SIGNS = (
    ("erythema", "Erythema (redness)"),
    ("induration", "Induration / papulation"),
    ("excoriation", "Excoriation (scratching)"),
    ("lichenification", "Lichenification"),
)
EASI_AREA_MAX = 6
EASI_SIGN_MAX = 3
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
    erythema: int
    induration: int
    excoriation: int
    lichenification: int


def easi_field_name(region: str, part: str) -> str:
    return f"easi_{region}_{part}"


def easi_region_value(region: RegionScore, weight: Decimal) -> Decimal:
    for value, top in (
        (region.area, EASI_AREA_MAX),
        (region.erythema, EASI_SIGN_MAX),
        (region.induration, EASI_SIGN_MAX),
        (region.excoriation, EASI_SIGN_MAX),
        (region.lichenification, EASI_SIGN_MAX),
    ):
        if not 0 <= value <= top:
            raise ValueError(f"EASI score {value} outside 0-{top}")
    signs = region.erythema + region.induration + region.excoriation + region.lichenification
    return weight * region.area * signs


def easi_total(regions: dict[str, RegionScore]) -> Decimal:
    """EASI = sum over the 4 regions of weight x area score (0-6) x sum of 4 signs (0-3 each); 0-72, 1 decimal."""
    total = sum((easi_region_value(regions[key], weight) for key, _label, weight in EASI_REGIONS), Decimal(0))
    return total.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


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
