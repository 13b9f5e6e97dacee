"""The monitoring schedule: pure functions from a drug's monitoring rules to dated checks (no Django here).

Weeks count from the start date (week 4 = start + 28 days). Each item's window is due ± the rule's window_days.
Course events return what to cancel and what to add; the caller stores them. A dose increase re-anchors a
check's routine series at its re-check; it never ends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from drugs.label import MonitoringRuleFact, ScreeningItemFact, ThresholdFact

CHECK_NAMES = {
    "cbc": "Blood count",
    "lipids": "Lipid panel",
    "liver": "Liver tests",
    "kidney": "Kidney function",
    "cpk": "CPK",
    "tb": "Tuberculosis screening",
    "skin_exam": "Skin examination",
    "infection_check": "Infection and warning-sign check",
    "efficacy_review": "Efficacy review",
    # baseline screening items
    "hbv": "Hepatitis B screening",
    "hcv": "Hepatitis C screening",
    "pregnancy": "Pregnancy status",
    "vaccines": "Vaccinations up to date (incl. zoster)",
}
# The model's default window (MonitoringRule.window_days) for items no rule describes.
DEFAULT_WINDOW_DAYS = 7

BASELINE = "baseline"
FOLLOW_UP = "follow_up"
EFFICACY = "efficacy_review"
AFTER_INCREASE = "after_dose_increase"
RESUME_CHECK = "resume_check"


@dataclass(frozen=True, kw_only=True)
class PlannedItem:
    check_type: str
    due: date
    earliest: date | None
    latest: date
    reason: str
    rule: str
    source: str = ""
    unconfirmed: bool = False
    kind: str = FOLLOW_UP
    week: int | None = None
    done: bool = False
    ref: object = None  # the caller's id for a stored item


def check_name(check_type: str) -> str:
    return CHECK_NAMES.get(check_type, check_type.replace("_", " ").capitalize())


def _weeks(start: date, week: int) -> date:
    return start + timedelta(weeks=week)


def _rule_text(rule: MonitoringRuleFact, when: str) -> str:
    tags = f", {rule.source}" if rule.source else ""
    drug = f"{rule.drug_name}{tags}" if rule.drug_name else rule.source
    return f"{check_name(rule.check_type)} {when} ({drug})" if drug else f"{check_name(rule.check_type)} {when}"


def _item(rule: MonitoringRuleFact, due: date, *, kind: str, week: int | None, when: str, reason: str) -> PlannedItem:
    window = timedelta(days=rule.window_days)
    return PlannedItem(
        check_type=rule.check_type,
        due=due,
        earliest=due - window,
        latest=due + window,
        reason=reason,
        rule=_rule_text(rule, when),
        source=rule.source,
        unconfirmed=rule.unconfirmed,
        kind=kind,
        week=week,
    )


def _rule_weeks(rule: MonitoringRuleFact, horizon_weeks: int) -> list[int]:
    """Weeks a rule asks for: first_week, then every repeat_every_weeks, up to and including the horizon."""
    first = rule.first_week or rule.repeat_every_weeks
    if first is None:
        return []
    weeks = []
    week = first
    while week <= horizon_weeks:
        weeks.append(week)
        if not rule.repeat_every_weeks:
            break
        week += rule.repeat_every_weeks
    return weeks


def generate_schedule(
    label_rules: Sequence[MonitoringRuleFact],
    *,
    start: date,
    horizon_weeks: int = 52,
    baseline_missing: Sequence[str],
    futility_week: int | None,
    futility_source: str = "",
    futility_unconfirmed: bool = False,
    drug_name: str = "",
    screening: Sequence[ScreeningItemFact] = (),
) -> list[PlannedItem]:
    """The whole schedule for a course starting on ``start``, sorted by due date.

    label_rules must already be the rows for the clinic's jurisdiction (``DrugLabel.for_jurisdiction``).
    baseline_missing are the screening item codes not done yet: each is due at start, before the first dose.
    """
    items: list[PlannedItem] = []
    notes = {s.item: s for s in screening}
    for code in baseline_missing:
        fact = notes.get(code)
        tags = f", {fact.source}" if fact and fact.source else ""
        items.append(
            PlannedItem(
                check_type=code,
                due=start,
                earliest=None,
                latest=start,
                reason=f"{check_name(code)} before the first dose.",
                rule=f"{check_name(code)} at baseline ({drug_name}{tags})" if drug_name else "Baseline screening",
                source=fact.source if fact else "",
                unconfirmed=bool(fact and fact.unconfirmed),
                kind=BASELINE,
                week=0,
            )
        )
    for rule in label_rules:
        for week in _rule_weeks(rule, horizon_weeks):
            repeat = f", then every {rule.repeat_every_weeks} weeks" if rule.repeat_every_weeks else ""
            reason = f"{check_name(rule.check_type)} at week {week}{repeat}."
            if rule.note:
                reason = f"{reason} {rule.note}"
            items.append(
                _item(rule, _weeks(start, week), kind=FOLLOW_UP, week=week, when=f"at week {week}", reason=reason)
            )
    has_review = any(r.check_type == EFFICACY for r in label_rules)
    if futility_week is not None and not has_review and futility_week <= horizon_weeks:
        review = MonitoringRuleFact(
            check_type=EFFICACY,
            drug_name=drug_name,
            first_week=futility_week,
            source=futility_source,
            unconfirmed=futility_unconfirmed,
        )
        items.append(
            _item(
                review,
                _weeks(start, futility_week),
                kind=EFFICACY,
                week=futility_week,
                when=f"at week {futility_week}",
                reason=f"Efficacy review: consider stopping if there is no benefit by week {futility_week}.",
            )
        )
    return sorted(items, key=lambda i: (i.due, i.check_type))


def routine_rule(rules: Sequence[MonitoringRuleFact], check_type: str) -> MonitoringRuleFact | None:
    """The rule that sets a check's routine interval: the one with the shortest repeat_every_weeks (None: none)."""
    repeating = [r for r in rules if r.check_type == check_type and r.repeat_every_weeks]
    return min(repeating, key=lambda r: r.repeat_every_weeks or 0, default=None)


# Items a re-anchored series replaces: the routine follow-ups and earlier re-checks (not baseline or resume checks).
_REPLACEABLE = frozenset({FOLLOW_UP, AFTER_INCREASE})


def reanchor_after_dose_increase(
    rules: Sequence[MonitoringRuleFact],
    increase_date: date,
    existing_open_items: Sequence[PlannedItem],
    *,
    horizon_end: date | None = None,
) -> tuple[list[PlannedItem], list[PlannedItem]]:
    """After a dose increase: re-check each check a rule asks for, then carry on with that check's routine interval.

    Only checks with a rule that has after_dose_increase_weeks take part; other checks keep their items. The
    re-check is due at increase + after_dose_increase_weeks. The routine interval is the shortest
    repeat_every_weeks among the rules of that check, this one included (the catalogue often states the re-check
    and the routine interval as separate rows; the series carries the routine row's source and window). When
    there is one, the series starts again from the re-check, every interval up to ``horizon_end`` (or, without it,
    the last item it replaces), and every open follow-up of that check due on or after the increase is cancelled.
    Without a routine interval only the open follow-ups up to the re-check are replaced; later ones are kept.
    Done items are never cancelled.
    """
    to_cancel: list[PlannedItem] = []
    to_add: list[PlannedItem] = []
    for rule in rules:
        if not rule.after_dose_increase_weeks:
            continue
        weeks = rule.after_dose_increase_weeks
        recheck = _weeks(increase_date, weeks)
        routine = routine_rule(rules, rule.check_type)
        interval = routine.repeat_every_weeks if routine else None
        later = [
            i
            for i in existing_open_items
            if not i.done and i.check_type == rule.check_type and i.kind in _REPLACEABLE and i.due >= increase_date
        ]
        replaced = later if interval else [i for i in later if i.due <= recheck]
        to_cancel.extend(i for i in replaced if i not in to_cancel)
        then = f" Then every {interval} weeks from this re-check." if interval else ""
        reason = f"{check_name(rule.check_type)} {weeks} weeks after the dose increase on {increase_date.isoformat()}."
        to_add.append(
            _item(
                rule,
                recheck,
                kind=AFTER_INCREASE,
                week=None,
                when=f"{weeks} weeks after a dose increase",
                reason=reason + then,
            )
        )
        end = horizon_end or max((i.due for i in replaced), default=None)
        if routine is None or not interval or end is None:
            continue
        due = _weeks(recheck, interval)
        while due <= end:
            to_add.append(
                _item(
                    routine,
                    due,
                    kind=FOLLOW_UP,
                    week=None,
                    when=f"every {interval} weeks",
                    reason=(
                        f"{check_name(rule.check_type)} every {interval} weeks, counted from the re-check "
                        f"after the dose increase on {increase_date.isoformat()}."
                    ),
                )
            )
            due = _weeks(due, interval)
    return to_cancel, to_add


def items_for_interruption(
    threshold: ThresholdFact,
    *,
    drug_name: str,
    interruption_date: date,
    open_items: Sequence[PlannedItem] = (),
    rules: Sequence[MonitoringRuleFact] = (),
) -> list[PlannedItem]:
    """The re-check needed before resuming (or to follow a discontinuation): the analyte's panel, as soon as possible.

    Nothing is added when an open item of that panel is already due within the window from the interruption.
    """
    check_type = threshold.panel or threshold.analyte
    window_days = next((r.window_days for r in rules if r.check_type == check_type), DEFAULT_WINDOW_DAYS)
    latest = interruption_date + timedelta(days=window_days)
    if any(not i.done and i.check_type == check_type and interruption_date <= i.due <= latest for i in open_items):
        return []
    name = threshold.analyte_name or threshold.analyte
    why = "before resuming" if threshold.action == "interrupt" else "to follow the fall"
    restart = f" {threshold.restart_rule}" if threshold.restart_rule else ""
    tags = f", {threshold.source}" if threshold.source else ""
    return [
        PlannedItem(
            check_type=check_type,
            due=interruption_date,
            earliest=interruption_date,
            latest=latest,
            reason=f"Repeat the {check_name(check_type).lower()} {why} ({name}).{restart}",
            rule=f"{check_name(check_type)} as soon as possible after {threshold.action} ({drug_name}{tags})",
            source=threshold.source,
            unconfirmed=threshold.unconfirmed,
            kind=RESUME_CHECK,
        )
    ]


def items_for_stop(open_items: Sequence[PlannedItem], stop_date: date) -> list[PlannedItem]:
    """Stopping therapy cancels every item not yet done (whatever its date); done items are kept."""
    del stop_date  # every open item goes, overdue ones included; kept in the signature for the caller's record
    return [i for i in open_items if not i.done]
