"""The pure printout helpers: check-up visits, who does each check, the dose in words."""

import datetime as dt
from decimal import Decimal

import pytest

from therapy.letters import DueCheck, dose_text, outside_text, visits, who_does

DAY = dt.date(2027, 1, 14)


def due(check_type, on=DAY, window=7):
    return DueCheck(
        check_type=check_type, due=on, earliest=on - dt.timedelta(days=window), latest=on + dt.timedelta(days=window)
    )


def test_checks_due_the_same_day_are_one_visit_with_the_narrowest_window():
    found = visits([due("efficacy_review"), due("cbc", window=3), due("lipids")], today=DAY - dt.timedelta(days=30))
    assert len(found) == 1
    assert found[0].what == [
        "Blood test (blood count, cholesterol (blood fats))",
        "Review of how well the treatment works",
    ]
    assert (found[0].earliest, found[0].latest) == (DAY - dt.timedelta(days=3), DAY + dt.timedelta(days=3))


def test_visits_come_in_date_order_and_past_their_window_are_overdue():
    later = DAY + dt.timedelta(days=28)
    found = visits([due("cbc", later), due("cbc")], today=DAY + dt.timedelta(days=8))
    assert [v.due for v in found] == [DAY, later]
    assert [v.overdue for v in found] == [True, False]


@pytest.mark.parametrize(
    ("check_type", "who"),
    [
        ("cbc", "Dermatology clinic (blood test)"),
        ("efficacy_review", "Dermatologist"),
        ("unknown", "Dermatology clinic"),
    ],
)
def test_who_does_each_check(check_type, who):
    assert who_does(check_type) == who


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"dose": Decimal("100.00"), "frequency": "once daily"}, "Abrocitinib 100 mg, once daily"),
        ({"dose": Decimal("15"), "frequency": ""}, "Abrocitinib 15 mg"),
        (
            {"dose": None, "frequency": "twice daily", "route": "topical", "bsa_percent": Decimal("20.0")},
            "Abrocitinib, twice daily, on up to 20% of the skin",
        ),
        (
            {"dose": None, "frequency": "", "route": "topical"},
            "Abrocitinib, a thin layer on the affected skin, as your clinic showed you",
        ),
    ],
)
def test_the_dose_in_words(kwargs, text):
    assert dose_text(**{"drug": "Abrocitinib", "dose_unit": "mg", "route": "oral", **kwargs}) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "Not to be combined with biologic immunomodulators (§9.1).",
            "Not to be combined with biologic immunomodulators.",
        ),
        (
            "Not with other JAK inhibitors (every JAK-inhibitor label; §9.1).",
            "Not with other JAK inhibitors (every JAK-inhibitor label).",
        ),
        ("Avoid with strong inhibitors (§9.1 [S4][S10b]).", "Avoid with strong inhibitors."),
        ("Start 100 mg once daily (§9.3, EU-type label).", "Start 100 mg once daily (EU-type label)."),
        ("Avoid in active infection (Cibinqo §5.1).", "Avoid in active infection (Cibinqo §5.1)."),
        ("Higher risk of infections. [S5][S6]", "Higher risk of infections."),
    ],
)
def test_outside_text_drops_tags_and_reference_sections(text, shown):
    assert outside_text(text) == shown
