"""Monitoring schedule (reference §2 monitoring tables, §3.2) and course events."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.therapy.drug_labels import BY_SLUG
from therapy.schedule import (
    AFTER_INCREASE,
    BASELINE,
    RESUME_CHECK,
    generate_schedule,
    items_for_interruption,
    items_for_stop,
    reanchor_after_dose_increase,
)

START = date(2026, 1, 5)


def schedule(slug, jurisdiction, baseline_missing=(), horizon_weeks=52):
    label = BY_SLUG[slug].for_jurisdiction(jurisdiction)
    status = label.status(jurisdiction)
    return generate_schedule(
        list(label.monitoring_rules),
        start=START,
        horizon_weeks=horizon_weeks,
        baseline_missing=list(baseline_missing),
        futility_week=status.futility_week,
        futility_source=status.source,
        drug_name=label.slug,
        screening=label.screening_items,
    )


def plan(items):
    return sorted((i.check_type, i.week) for i in items)


SCHEDULES = [
    ("abrocitinib", "US", [("cbc", 4), ("lipids", 4)]),
    ("abrocitinib", "EU", [("cbc", 4), ("efficacy_review", 24), ("lipids", 4)]),
    ("upadacitinib", "US", [("lipids", 12)]),
    ("upadacitinib", "EU", [("efficacy_review", 12), ("lipids", 12)]),
    ("baricitinib", "US", [("lipids", 12)]),
    ("baricitinib", "EU", [("efficacy_review", 8), ("lipids", 12)]),
    ("ruxolitinib", "US", [("efficacy_review", 8)]),
    ("ruxolitinib", "EU", []),
    ("delgocitinib", "US", []),
    ("delgocitinib", "EU", [("efficacy_review", 12)]),
    ("gusacitinib", "US", []),
    ("tofacitinib", "US", [("lipids", 6)]),
    ("tofacitinib", "EU", [("cbc", 6), ("cbc", 19), ("cbc", 32), ("cbc", 45), ("lipids", 8)]),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "expected"), SCHEDULES)
def test_follow_up_weeks(slug, jurisdiction, expected):
    assert plan(schedule(slug, jurisdiction)) == expected


def test_week_4_blood_count_date_window_and_rule():
    [cbc] = [i for i in schedule("abrocitinib", "US") if i.check_type == "cbc"]
    assert (cbc.due, cbc.earliest, cbc.latest) == (date(2026, 2, 2), date(2026, 1, 26), date(2026, 2, 9))
    assert cbc.rule == "Blood count at week 4 (abrocitinib, [S13][S14c][S11])"


def test_tofacitinib_window_covers_weeks_4_to_8():
    first = schedule("tofacitinib", "EU")[0]
    assert (first.earliest, first.latest) == (START + timedelta(weeks=4), START + timedelta(weeks=8))


def test_horizon_cuts_repeats():
    assert plan(schedule("tofacitinib", "EU", horizon_weeks=19)) == [("cbc", 6), ("cbc", 19), ("lipids", 8)]


def test_efficacy_review_beyond_horizon_is_left_out():
    assert plan(schedule("abrocitinib", "EU", horizon_weeks=20)) == [("cbc", 4), ("lipids", 4)]


def test_missing_baseline_items_are_due_before_the_first_dose():
    items = [i for i in schedule("upadacitinib", "US", baseline_missing=["tb", "hbv"]) if i.kind == BASELINE]
    assert [(i.check_type, i.due, i.earliest, i.latest) for i in items] == [
        ("hbv", START, None, START),
        ("tb", START, None, START),
    ]
    assert items[1].source == "[S21]"


def test_schedule_is_sorted_by_due_date():
    items = schedule("abrocitinib", "EU", baseline_missing=["cbc"])
    assert [i.due for i in items] == sorted(i.due for i in items)


@pytest.mark.parametrize(("slug", "jurisdiction"), [(s, j) for s, j, _ in SCHEDULES])
def test_every_item_has_a_reason_rule_and_window(slug, jurisdiction):
    for item in schedule(slug, jurisdiction, baseline_missing=["tb"]):
        assert item.reason
        assert item.rule
        assert item.latest >= item.due


# --- dose increase ---------------------------------------------------------------------------------------------


def test_abrocitinib_us_dose_increase_adds_unconfirmed_blood_count_4_weeks_later():
    rules = BY_SLUG["abrocitinib"].for_jurisdiction("US").monitoring_rules
    increase = START + timedelta(weeks=12)
    to_cancel, [added] = reanchor_after_dose_increase(rules, increase, [])
    assert to_cancel == []
    assert (added.check_type, added.due, added.kind) == ("cbc", increase + timedelta(weeks=4), AFTER_INCREASE)
    assert added.unconfirmed


def test_dose_increase_cancels_later_open_items_of_that_check_only():
    rules = BY_SLUG["abrocitinib"].for_jurisdiction("US").monitoring_rules
    items = schedule("abrocitinib", "US")
    to_cancel, to_add = reanchor_after_dose_increase(rules, START + timedelta(weeks=2), items)
    assert [(i.check_type, i.week) for i in to_cancel] == [("cbc", 4)]
    assert [i.check_type for i in to_add] == ["cbc"]


def test_dose_increase_keeps_done_items():
    rules = BY_SLUG["abrocitinib"].for_jurisdiction("US").monitoring_rules
    items = [replace(i, done=True) for i in schedule("abrocitinib", "US")]
    assert reanchor_after_dose_increase(rules, START, items)[0] == []


@pytest.mark.parametrize(
    ("slug", "jurisdiction"),
    [("abrocitinib", "EU"), ("upadacitinib", "US"), ("baricitinib", "EU"), ("tofacitinib", "EU")],
)
def test_rules_without_dose_increase_step_change_nothing(slug, jurisdiction):
    rules = BY_SLUG[slug].for_jurisdiction(jurisdiction).monitoring_rules
    assert reanchor_after_dose_increase(rules, START, schedule(slug, jurisdiction)) == ([], [])


def test_repeating_rule_is_re_anchored_up_to_the_last_cancelled_item():
    rules = [replace(BY_SLUG["tofacitinib"].monitoring_rules[0], after_dose_increase_weeks=4)]
    items = schedule("tofacitinib", "EU")
    increase = START + timedelta(weeks=10)
    to_cancel, to_add = reanchor_after_dose_increase(rules, increase, items)
    assert [i.week for i in to_cancel] == [19, 32, 45]
    assert [i.due for i in to_add] == [increase + timedelta(weeks=w) for w in (4, 17, 30)]


# --- interruption and stop -------------------------------------------------------------------------------------

INTERRUPTIONS = [
    ("abrocitinib", "US", "anc"),
    ("abrocitinib", "EU", "alc"),
    ("abrocitinib", "US", "platelets"),
    ("upadacitinib", "EU", "hb"),
    ("baricitinib", "EU", "anc"),
    ("tofacitinib", "US", "anc"),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "analyte"), INTERRUPTIONS)
def test_interruption_adds_the_panel_as_soon_as_possible(slug, jurisdiction, analyte):
    label = BY_SLUG[slug].for_jurisdiction(jurisdiction)
    threshold = next(t for t in label.thresholds if t.analyte == analyte and t.phase == "on_treatment")
    day = START + timedelta(weeks=6)
    [item] = items_for_interruption(threshold, drug_name=slug, interruption_date=day, rules=label.monitoring_rules)
    assert (item.check_type, item.due, item.kind) == ("cbc", day, RESUME_CHECK)
    assert item.source == threshold.source


def test_interruption_reuses_an_open_item_due_soon():
    label = BY_SLUG["abrocitinib"].for_jurisdiction("US")
    threshold = next(t for t in label.thresholds if t.analyte == "anc" and t.phase == "on_treatment")
    items = schedule("abrocitinib", "US")
    day = START + timedelta(weeks=4) - timedelta(days=3)
    assert items_for_interruption(threshold, drug_name="abrocitinib", interruption_date=day, open_items=items) == []


def test_discontinuation_follow_up_names_the_restart_rule():
    label = BY_SLUG["abrocitinib"]
    threshold = next(t for t in label.thresholds if t.analyte == "platelets" and t.phase == "on_treatment")
    [item] = items_for_interruption(threshold, drug_name="abrocitinib", interruption_date=START)
    assert "100" in item.reason


@pytest.mark.parametrize(("slug", "jurisdiction"), [(s, j) for s, j, _ in SCHEDULES])
def test_stop_cancels_open_items_and_keeps_done_ones(slug, jurisdiction):
    items = schedule(slug, jurisdiction, baseline_missing=["tb"])
    done = replace(items[0], done=True)
    open_items = [done, *items[1:]]
    cancelled = items_for_stop(open_items, START + timedelta(weeks=8))
    assert done not in cancelled
    assert cancelled == items[1:]
