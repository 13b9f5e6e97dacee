"""EASI and response rules against clinical-reference §5."""

from decimal import Decimal

import pytest

from patients import scores
from patients.scores import RegionScore


def regions(area, sign):
    return {key: RegionScore(area, sign, sign, sign, sign) for key, _label, _w in scores.EASI_REGIONS}


@pytest.mark.parametrize(
    ("area", "sign", "total"),
    [
        (0, 0, Decimal("0.0")),
        (6, 3, Decimal("72.0")),  # maximum: (0.1+0.2+0.3+0.4) x 6 x 12
        (1, 1, Decimal("4.0")),  # 1.0 x 1 x 4
        (3, 2, Decimal("24.0")),
    ],
)
def test_easi_total(area, sign, total):
    assert scores.easi_total(regions(area, sign)) == total


def test_easi_weights_per_region():
    parts = {key: RegionScore(0, 0, 0, 0, 0) for key, _l, _w in scores.EASI_REGIONS}
    parts["head"] = RegionScore(2, 1, 1, 0, 0)  # 0.1 x 2 x 2
    parts["lower"] = RegionScore(1, 3, 0, 0, 0)  # 0.4 x 1 x 3
    assert scores.easi_total(parts) == Decimal("1.6")


@pytest.mark.parametrize("bad", [RegionScore(7, 0, 0, 0, 0), RegionScore(1, 4, 0, 0, 0), RegionScore(-1, 0, 0, 0, 0)])
def test_easi_region_out_of_range(bad):
    with pytest.raises(ValueError, match="outside"):
        scores.easi_region_value(bad, Decimal("0.1"))


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (Decimal(0), "clear"),
        (Decimal("0.5"), "almost clear"),
        (Decimal(7), "mild"),
        (Decimal("7.1"), "moderate"),
        (Decimal(21), "moderate"),
        (Decimal("21.1"), "severe"),
        (Decimal("50.1"), "very severe"),
    ],
)
def test_easi_band(total, band):
    assert scores.easi_band(total) == band


@pytest.mark.parametrize(
    ("baseline", "current", "met"),
    [
        (Decimal(20), Decimal(5), True),
        (Decimal(20), Decimal("5.1"), False),
        (Decimal(0), Decimal(0), None),
        (None, Decimal(3), None),
    ],
)
def test_easi75(baseline, current, met):
    assert scores.easi75(baseline, current) is met


@pytest.mark.parametrize(
    ("baseline", "current", "met"),
    [(3, 1, True), (4, 0, True), (2, 1, False), (3, 2, False), (2, 0, True), (None, 1, None)],
)
def test_viga_success(baseline, current, met):
    assert scores.viga_success(baseline, current) is met


@pytest.mark.parametrize(("baseline", "current", "met"), [(8, 4, True), (8, 5, False), (3, 0, False), (10, 0, True)])
def test_itch_response(baseline, current, met):
    assert scores.itch_response(baseline, current) is met


def test_responses_summary():
    result = scores.responses(
        baseline_easi=Decimal(30),
        current_easi=Decimal(6),
        baseline_viga=4,
        current_viga=1,
        baseline_itch=8,
        current_itch=6,
    )
    assert [(r.code, r.met) for r in result] == [("EASI75", True), ("VIGA01", True), ("ITCH4", False)]
    assert "80% better" in result[0].detail
