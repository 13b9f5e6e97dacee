"""Baseline screening checklist (clinical-reference §3.1)."""

import datetime as dt

import pytest

from patients import screening
from patients.models import ScreeningResult


def test_items_match_the_model_choices():
    assert [code for code, _label, _src in screening.ITEMS] == ScreeningResult.Item.values


@pytest.mark.parametrize(
    ("sex", "age", "no_potential", "relevant"),
    [
        ("female", 30, False, True),
        ("female", 12, False, True),
        ("female", 55, False, True),
        ("female", 56, False, False),
        ("female", 11, False, False),
        ("female", 30, True, False),
        ("male", 30, False, False),
        ("female", None, False, False),
    ],
)
def test_pregnancy_test_relevance(sex, age, no_potential, relevant):
    assert (
        screening.pregnancy_test_relevant(sex_at_birth=sex, age=age, no_childbearing_potential=no_potential) is relevant
    )


def test_checklist_lists_what_is_missing():
    done = screening.Result(dt.date(2026, 1, 5), "negative", "Negative")
    rows = screening.checklist(latest={"tb": done}, pregnancy_relevant=False)
    assert rows[0].done
    assert rows[0].latest == done
    missing = screening.missing(rows)
    assert "TB test (IGRA or skin test)" not in missing
    assert "Pregnancy test" not in missing
    assert len(missing) == 8


def test_pregnancy_test_missing_when_relevant():
    rows = screening.checklist(latest={}, pregnancy_relevant=True)
    assert "Pregnancy test" in screening.missing(rows)
