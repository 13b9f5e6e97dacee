"""patients.dates: the one rule for the date a result was collected, a visit happened or a check was done."""

import datetime as dt

import pytest

from patients.dates import result_date_error, years_before
from tests.result_dates import RESULT_DATE_CASES, RESULT_DATE_IDS, TODAY


@pytest.mark.parametrize(("date_of_birth", "value", "message"), RESULT_DATE_CASES, ids=RESULT_DATE_IDS)
def test_result_date_error(date_of_birth, value, message):
    assert result_date_error(value, date_of_birth, TODAY) == message


def test_unknown_birth_date_checks_the_other_rules():
    assert result_date_error(TODAY, None, TODAY) is None
    assert result_date_error(TODAY + dt.timedelta(days=1), None, TODAY) == "The date is in the future."


def test_twenty_years_before_29_february_in_a_year_without_it():
    assert years_before(dt.date(2120, 2, 29), 20) == dt.date(2100, 2, 28)
    assert result_date_error(dt.date(2100, 2, 28), None, dt.date(2120, 2, 29)) is None
    assert result_date_error(dt.date(2100, 2, 27), None, dt.date(2120, 2, 29)) is not None
