"""EASI and response rules against clinical-reference §5 and §9.7 (EASI weights by age, half scores)."""

from decimal import Decimal

import pytest

from patients import scores
from patients.scores import RegionScore

ADULT, CHILD = 30, 5  # ages in years on the assessment date


def regions(area, sign):
    return {key: RegionScore(area, sign, sign, sign, sign) for key, _label in scores.EASI_REGIONS}


def only(**given):
    """Regions with eczema only where given (key -> (area, erythema, induration, excoriation, lichenification))."""
    parts = {key: RegionScore(0, 0, 0, 0, 0) for key, _label in scores.EASI_REGIONS}
    for key, (area, *signs) in given.items():
        parts[key] = RegionScore(area, *(Decimal(str(s)) for s in signs))
    return parts


@pytest.mark.parametrize(
    ("area", "sign", "total"),
    [
        (0, 0, Decimal("0.0")),
        (6, 3, Decimal("72.0")),  # maximum: (0.1+0.2+0.3+0.4) x 6 x 12
        (1, 1, Decimal("4.0")),  # 1.0 x 1 x 4
        (3, 2, Decimal("24.0")),
    ],
)
@pytest.mark.parametrize("age", [CHILD, ADULT])
def test_easi_total_everywhere_the_same(area, sign, total, age):
    """Both weight sets sum to 1.0: eczema spread evenly over every region scores the same at any age."""
    assert scores.easi_total(regions(area, sign), age_years=age) == total


@pytest.mark.parametrize(
    ("age", "head", "upper", "trunk", "lower"),
    [
        (0, "0.2", "0.2", "0.3", "0.3"),
        (5, "0.2", "0.2", "0.3", "0.3"),
        (7, "0.2", "0.2", "0.3", "0.3"),
        (8, "0.1", "0.2", "0.3", "0.4"),
        (17, "0.1", "0.2", "0.3", "0.4"),
        (45, "0.1", "0.2", "0.3", "0.4"),
    ],
)
def test_easi_weights_by_age(age, head, upper, trunk, lower):
    """§9.7: children aged 0-7 years weigh head/neck 0.2 and lower limbs 0.3; from the 8th birthday 0.1 and 0.4."""
    assert scores.easi_weights(age) == {
        "head": Decimal(head),
        "upper": Decimal(upper),
        "trunk": Decimal(trunk),
        "lower": Decimal(lower),
    }


def test_easi_weights_before_birth_is_an_error():
    with pytest.raises(ValueError, match="before birth"):
        scores.easi_weights(-1)


# Worked by hand from EASI = sum of weight x area x (sum of the 4 signs), rounded to 1 decimal (HOME EASI guide,
# DermNet EASI page; clinical-reference §9.7).
@pytest.mark.parametrize(
    ("age", "parts", "total"),
    [
        # Issue 14: a 5-year-old with head-only disease, area 4, signs 2+2+2+2: 0.2 x 4 x 8 = 6.4, not 3.2.
        (5, only(head=(4, 2, 2, 2, 2)), Decimal("6.4")),
        (30, only(head=(4, 2, 2, 2, 2)), Decimal("3.2")),
        # The 8th birthday is the boundary: 7 years still child weights, 8 years adult ones.
        (7, only(head=(4, 2, 2, 2, 2)), Decimal("6.4")),
        (8, only(head=(4, 2, 2, 2, 2)), Decimal("3.2")),
        # Lower limbs weigh less in a child: 0.3 x 3 x 6 = 5.4 against 0.4 x 3 x 6 = 7.2.
        (5, only(lower=(3, 2, 2, 1, 1)), Decimal("5.4")),
        (30, only(lower=(3, 2, 2, 1, 1)), Decimal("7.2")),
        # Upper limbs and trunk weigh the same at every age: 0.2 x 2 x 4 + 0.3 x 5 x 9 = 1.6 + 13.5.
        (5, only(upper=(2, 1, 1, 1, 1), trunk=(5, 3, 2, 2, 2)), Decimal("15.1")),
        (30, only(upper=(2, 1, 1, 1, 1), trunk=(5, 3, 2, 2, 2)), Decimal("15.1")),
        # Half scores: trunk 2 x (2.5+0.5+0.5+0) = 0.3 x 2 x 3.5 = 2.1.
        (5, only(trunk=(2, 2.5, 0.5, 0.5, 0)), Decimal("2.1")),
        (30, only(trunk=(2, 2.5, 0.5, 0.5, 0)), Decimal("2.1")),
        # Half scores on the lower limbs: 1.5+1.5+0.5+0.5 = 4; child 0.3 x 3 x 4 = 3.6, adult 0.4 x 3 x 4 = 4.8.
        (5, only(lower=(3, 1.5, 1.5, 0.5, 0.5)), Decimal("3.6")),
        (30, only(lower=(3, 1.5, 1.5, 0.5, 0.5)), Decimal("4.8")),
        # Every region: child 0.2x5x10 + 0.2x2x4 + 0.3x1x1 + 0 = 10 + 1.6 + 0.3 = 11.9; adult 5 + 1.6 + 0.3 = 6.9.
        (
            5,
            only(head=(5, 3, 3, 2, 2), upper=(2, 1, 1, 1, 1), trunk=(1, 0.5, 0.5, 0, 0)),
            Decimal("11.9"),
        ),
        (
            30,
            only(head=(5, 3, 3, 2, 2), upper=(2, 1, 1, 1, 1), trunk=(1, 0.5, 0.5, 0, 0)),
            Decimal("6.9"),
        ),
        # Rounding half up to 1 decimal: adult head 0.1 x 1 x 0.5 = 0.05 -> 0.1; the child's 0.2 x 1 x 0.5 = 0.1.
        (30, only(head=(1, 0.5, 0, 0, 0)), Decimal("0.1")),
        (5, only(head=(1, 0.5, 0, 0, 0)), Decimal("0.1")),
        # Whole body at the maximum, any age: 72.
        (5, regions(6, 3), Decimal("72.0")),
    ],
)
def test_easi_worked_examples(age, parts, total):
    assert scores.easi_total(parts, age_years=age) == total


@pytest.mark.parametrize(
    "bad",
    [
        RegionScore(7, 0, 0, 0, 0),
        RegionScore(1, 4, 0, 0, 0),
        RegionScore(-1, 0, 0, 0, 0),
        RegionScore(1, Decimal("3.5"), 0, 0, 0),
        RegionScore(1, Decimal("0.3"), 0, 0, 0),  # not a half step
        RegionScore(1, 0, 0, 0, Decimal("-0.5")),
    ],
)
def test_easi_region_out_of_range(bad):
    with pytest.raises(ValueError, match="outside"):
        scores.easi_region_value(bad, Decimal("0.1"))


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (Decimal(0), None),
        (Decimal("0.5"), None),
        (Decimal("1.5"), None),
        (Decimal("2.5"), None),
        (Decimal(3), None),
        (2, None),  # whole numbers recorded before half scores stay valid
        (Decimal("0.3"), scores.SIGN_STEP_MESSAGE),
        (Decimal("2.25"), scores.SIGN_STEP_MESSAGE),
        (Decimal("3.5"), "Enter a value from 0 to 3."),
        (Decimal("-0.5"), "Enter a value from 0 to 3."),
        (Decimal("NaN"), "Enter a value from 0 to 3."),  # found by the form fuzz test: a 500 before
        (Decimal("1E+309"), "Enter a value from 0 to 3."),
    ],
)
def test_sign_error(value, error):
    assert scores.sign_error(value) == error


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, None),
        (6, None),
        (7, "Enter a value from 0 to 6."),
        (Decimal("2.5"), "Enter a whole number from 0 to 6."),
    ],
)
def test_area_error(value, error):
    assert scores.area_error(value) == error


def parts_of(**regions):
    """Field name -> value for easi_from_parts; each region given as (area, e, i, x, l), None for a blank."""
    parts = {}
    for key, values in regions.items():
        for part, value in zip(("area", *(s for s, _l in scores.EASI_SIGNS)), values, strict=True):
            parts[scores.easi_field_name(key, part)] = None if value is None else Decimal(str(value))
    return parts


BLANK = (0, None, None, None, None)  # no eczema in the region: area 0, signs left empty


@pytest.mark.parametrize(
    ("age", "parts", "total"),
    [
        (5, {}, None),  # nothing given: no EASI
        (5, parts_of(head=(4, 2, 2, 2, 2), upper=BLANK, trunk=BLANK, lower=BLANK), Decimal("6.4")),
        (30, parts_of(head=(4, 2, 2, 2, 2), upper=BLANK, trunk=BLANK, lower=BLANK), Decimal("3.2")),
        (30, parts_of(head=BLANK, upper=BLANK, trunk=BLANK, lower=BLANK), Decimal("0.0")),  # clear skin
        # Signs typed for a region with area 0 are kept but add nothing.
        (30, parts_of(head=(0, 1, 1, 1, 1), upper=BLANK, trunk=BLANK, lower=(1, 1, 1, 1, 1)), Decimal("1.6")),
    ],
)
def test_easi_from_parts(age, parts, total):
    assert scores.easi_from_parts(parts, age_years=age) == total


@pytest.mark.parametrize(
    ("parts", "errors"),
    [
        # A region with eczema needs all four signs.
        (
            parts_of(head=(4, 2, None, 2, 2), upper=BLANK, trunk=BLANK, lower=BLANK),
            {"easi_head_induration": "Enter this score too (0 if none): the region has eczema (area above 0)."},
        ),
        # Every region needs its area, even one without eczema (0); its blank signs are then not flagged too.
        (
            parts_of(head=(4, 2, 2, 2, 2), upper=BLANK, trunk=BLANK, lower=(None, None, None, None, None)),
            {"easi_lower_area": "Enter the area score (0 if this region has no eczema)."},
        ),
        (
            parts_of(head=(4, 2, 2, 2, "0.3"), upper=BLANK, trunk=(7, 1, 1, 1, 1), lower=BLANK),
            {
                "easi_head_lichenification": scores.SIGN_STEP_MESSAGE,
                "easi_trunk_area": "Enter a value from 0 to 6.",
            },
        ),
    ],
)
def test_easi_from_parts_names_each_problem(parts, errors):
    with pytest.raises(scores.EasiPartsError) as exc:
        scores.easi_from_parts(parts, age_years=30)
    assert exc.value.errors == errors


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
