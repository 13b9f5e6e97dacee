"""Dates typed for something that happened to a patient: a sample collected, a visit, a check done (pure, no Django).

The one rule for the lab panel form, the CSV upload and the monitoring services, so a date one of them refuses the
others refuse too.
"""

from __future__ import annotations

import datetime as dt

OLDEST_RESULT_YEARS = 20


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (28 February for 29 February in a year that has none)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def result_date_error(value: dt.date, date_of_birth: dt.date | None, today: dt.date) -> str | None:
    """A message when a collection, visit or check date cannot be right, else None: not in the future, not before
    the patient's birth, and not more than OLDEST_RESULT_YEARS years ago (a mistyped year)."""
    if value > today:
        return "The date is in the future."
    if date_of_birth is not None and value < date_of_birth:
        return "The date is before the patient's date of birth."
    if value < years_before(today, OLDEST_RESULT_YEARS):
        return f"The date is more than {OLDEST_RESULT_YEARS} years ago."
    return None
