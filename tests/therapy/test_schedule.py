"""Monitoring schedule (reference §2 monitoring tables, §3.2) and course events."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drugs.label import MonitoringRuleFact
from tests.therapy.drug_labels import BY_SLUG
from therapy.schedule import (
    AFTER_INCREASE,
    BASELINE,
    FOLLOW_UP,
    RESUME_CHECK,
    PlannedItem,
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


# The catalogue's abrocitinib blood count rows (drugs/data/catalogue.toml, US): once at week 4, routinely every
# 12 weeks from week 12, and a re-check 4 weeks after a dose increase stated as its own row without a repeat.
ABRO_CBC = (
    MonitoringRuleFact(check_type="cbc", drug_name="Abrocitinib", first_week=4, source="[S13][S14c][S11]"),
    MonitoringRuleFact(
        check_type="cbc", drug_name="Abrocitinib", first_week=12, repeat_every_weeks=12, source="[S13][S14c]"
    ),
    MonitoringRuleFact(
        check_type="cbc", drug_name="Abrocitinib", after_dose_increase_weeks=4, source="[S11]", unconfirmed=True
    ),
    MonitoringRuleFact(check_type="lipids", drug_name="Abrocitinib", first_week=4, source="[S13][S14c]"),
    MonitoringRuleFact(
        check_type="skin_exam", drug_name="Abrocitinib", first_week=12, repeat_every_weeks=12, source="[S6b][S7b]"
    ),
)
HORIZON_END = START + timedelta(weeks=52)


def weeks_of(items):
    return [(i.due - START).days // 7 for i in items]


def test_routine_blood_count_restarts_from_the_dose_increase_recheck():
    items = generate_schedule(ABRO_CBC, start=START, baseline_missing=[], futility_week=None)
    increase = START + timedelta(weeks=12)
    to_cancel, to_add = reanchor_after_dose_increase(ABRO_CBC, increase, items, horizon_end=HORIZON_END)
    assert [(i.check_type, w) for i, w in zip(to_cancel, weeks_of(to_cancel), strict=True)] == [
        ("cbc", 12),
        ("cbc", 24),
        ("cbc", 36),
        ("cbc", 48),
    ]
    assert weeks_of(to_add) == [16, 28, 40, 52]
    assert [i.kind for i in to_add] == [AFTER_INCREASE, FOLLOW_UP, FOLLOW_UP, FOLLOW_UP]
    recheck, *series = to_add
    assert (recheck.source, recheck.unconfirmed) == ("[S11]", True)
    assert "Then every 12 weeks" in recheck.reason
    assert {(i.source, i.unconfirmed) for i in series} == {("[S13][S14c]", False)}


def test_without_a_routine_interval_only_items_up_to_the_recheck_are_replaced():
    rules = [
        MonitoringRuleFact(check_type="cbc", first_week=4),
        MonitoringRuleFact(check_type="cbc", first_week=20),
        MonitoringRuleFact(check_type="cbc", after_dose_increase_weeks=4),
    ]
    items = generate_schedule(rules, start=START, baseline_missing=[], futility_week=None)
    to_cancel, to_add = reanchor_after_dose_increase(rules, START + timedelta(weeks=2), items, horizon_end=HORIZON_END)
    assert (weeks_of(to_cancel), weeks_of(to_add)) == ([4], [6])


def test_dose_increase_keeps_baseline_and_resume_checks():
    baseline = generate_schedule(ABRO_CBC, start=START, baseline_missing=["cbc"], futility_week=None)[0]
    threshold = next(t for t in BY_SLUG["abrocitinib"].thresholds if t.analyte == "anc" and t.phase == "on_treatment")
    [resume] = items_for_interruption(threshold, drug_name="abrocitinib", interruption_date=START + timedelta(weeks=5))
    to_cancel, _ = reanchor_after_dose_increase(ABRO_CBC, START, [baseline, resume], horizon_end=HORIZON_END)
    assert (baseline.kind, to_cancel) == (BASELINE, [])


# --- property: a course's routine checks never stop while it is active ------------------------------------------

ANC = next(t for t in BY_SLUG["abrocitinib"].thresholds if t.analyte == "anc" and t.phase == "on_treatment")
DOSES = (50, 100, 200)

rule_sets = st.one_of(
    st.just(ABRO_CBC),
    st.just(tuple(replace(r, after_dose_increase_weeks=4) for r in BY_SLUG["tofacitinib"].monitoring_rules)),
    st.lists(
        st.builds(
            MonitoringRuleFact,
            check_type=st.sampled_from(["cbc", "lipids", "liver"]),
            first_week=st.none() | st.integers(1, 30),
            repeat_every_weeks=st.none() | st.integers(2, 26),
            after_dose_increase_weeks=st.none() | st.integers(1, 12),
            window_days=st.integers(0, 14),
        ),
        min_size=1,
        max_size=5,
    ).map(tuple),
)
events = st.lists(
    st.tuples(
        st.sampled_from(["dose", "dose", "interrupt", "resume", "stop"]),
        st.integers(0, 70),  # days since the previous event
        st.sampled_from(DOSES),
        st.booleans(),  # mark the items already due as done first
    ),
    max_size=12,
)


def routine_bound(rules, check_type, today):
    """The latest the next routine check of ``check_type`` may be due, or None when the check has no routine."""
    repeating = [r for r in rules if r.check_type == check_type and r.repeat_every_weeks]
    if not repeating:
        return None
    interval = min(r.repeat_every_weeks for r in repeating)
    first = min(r.first_week or r.repeat_every_weeks for r in repeating if r.repeat_every_weeks == interval)
    recheck = max((r.after_dose_increase_weeks or 0 for r in rules if r.check_type == check_type), default=0)
    gap = timedelta(weeks=max(interval, recheck))
    return today + gap, max(today + gap, START + timedelta(weeks=first))


def assert_routine_checks_scheduled(rules, items, today):
    open_items = [i for i in items if not i.done]
    for check_type in {r.check_type for r in rules}:
        bound = routine_bound(rules, check_type, today)
        if bound is None or bound[0] > HORIZON_END:
            continue  # no routine for this check, or its next one would fall after the horizon
        upcoming = [i.due for i in open_items if i.check_type == check_type and today <= i.due <= HORIZON_END]
        assert upcoming, f"no {check_type} scheduled on or after {today}"
        assert min(upcoming) <= bound[1], f"next {check_type} on {min(upcoming)}, later than {bound[1]}"


@settings(max_examples=60, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=rule_sets, sequence=events)
def test_active_course_always_has_its_next_routine_check(rules, sequence):
    """Start, dose increases and decreases, interrupt, resume and stop at random dates, applied as the service does."""
    refs = iter(range(1_000_000))

    def stored(planned: list[PlannedItem]) -> list[PlannedItem]:
        return [replace(i, ref=next(refs)) for i in planned]

    items = stored(generate_schedule(rules, start=START, horizon_weeks=52, baseline_missing=[], futility_week=None))
    status, dose, today = "active", 100, START
    assert_routine_checks_scheduled(rules, items, today)
    for action, days, new_dose, catch_up in sequence:
        today += timedelta(days=days)
        if catch_up:
            items = [replace(i, done=True) if i.due < today else i for i in items]
        cancelled: list[PlannedItem] = []
        if action == "dose" and status == "active" and new_dose != dose:
            if new_dose > dose:
                cancelled, added = reanchor_after_dose_increase(rules, today, items, horizon_end=HORIZON_END)
                items += stored(added)
            dose = new_dose
        elif action == "interrupt" and status == "active":
            items += stored(items_for_interruption(ANC, drug_name="x", interruption_date=today, open_items=items))
            status = "interrupted"
        elif action == "resume" and status == "interrupted":
            status = "active"
        elif action == "stop" and status != "stopped":
            cancelled = items_for_stop(items, today)
            status = "stopped"
        assert all(not i.done for i in cancelled)
        gone = {i.ref for i in cancelled}
        items = [i for i in items if i.ref not in gone]
        if status == "active":
            assert_routine_checks_scheduled(rules, items, today)
        elif status == "stopped":
            assert not [i for i in items if not i.done]


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
