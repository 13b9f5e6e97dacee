"""The one table of result dates (patients.dates.result_date_error) that every path is tested with: the lab panel
form, the CSV upload, the symptom check and a check done must accept and refuse the same dates."""

import datetime as dt

from patients.dates import years_before
from tests.factories import TODAY

DAY = dt.timedelta(days=1)
ADULT = years_before(TODAY, 40)  # born 40 years ago: the 20-year limit comes before birth
CHILD = years_before(TODAY, 10)  # born 10 years ago: birth comes before the 20-year limit

# (case, the patient's date of birth, the date typed, a part of the message or None when accepted)
RESULT_DATES = [
    ("today", ADULT, TODAY, None),
    ("tomorrow", ADULT, TODAY + DAY, "The date is in the future."),
    ("exactly 20 years ago", ADULT, years_before(TODAY, 20), None),
    ("a day more than 20 years ago", ADULT, years_before(TODAY, 20) - DAY, "The date is more than 20 years ago."),
    ("the day of birth", CHILD, CHILD, None),
    ("the day before birth", CHILD, CHILD - DAY, "The date is before the patient's date of birth."),
]
RESULT_DATE_IDS = [case for case, *_ in RESULT_DATES]
RESULT_DATE_CASES = [row[1:] for row in RESULT_DATES]
