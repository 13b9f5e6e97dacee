"""Audit changes in words (portal.wording, pure): codes, booleans, dates, numbers and ids, each kind of change."""

import datetime as dt
from decimal import Decimal

import pytest

from portal.formats import date_text
from portal.wording import DATE, NUMBER, YES_NO, FieldWords, change_lines, sentence_case, value_text

SEROLOGY = FieldWords("hepatitis B surface antigen", {"never_tested": "Never tested", "negative": "Negative"})
FIELDS = {
    "hbsag": SEROLOGY,
    "diabetes": FieldWords("diabetes", kind=YES_NO),
    "egfr_measured_on": FieldWords("eGFR measured on", kind=DATE),
    "egfr": FieldWords("latest eGFR", kind=NUMBER, unit="mL/min/1.73 m²"),
    "viga": FieldWords("vIGA-AD (0–4)", kind=NUMBER),
}


@pytest.mark.parametrize(
    ("changes", "lines"),
    [
        # a choice: codes become their labels, the field its verbose name
        ({"hbsag": ["never_tested", "negative"]}, ["Hepatitis B surface antigen: Never tested → Negative"]),
        # first recorded: no "— →" before the value
        ({"hbsag": [None, "negative"]}, ["Hepatitis B surface antigen: Negative"]),
        ({"hbsag": ["", "negative"]}, ["Hepatitis B surface antigen: Negative"]),
        # cleared
        ({"hbsag": ["negative", ""]}, ["Hepatitis B surface antigen: Negative → —"]),
        # what a screening record stores: "<outcome> on <ISO date>"
        ({"hbsag": [None, "negative on 2026-01-02"]}, ["Hepatitis B surface antigen: Negative on 02/01/2026"]),
        # booleans, stored as booleans or as their text
        ({"diabetes": [False, True]}, ["Diabetes: No → Yes"]),
        ({"diabetes": ["True", "False"]}, ["Diabetes: Yes → No"]),
        ({"override": False}, ["Override: No"]),
        # dates in the portal's format
        ({"egfr_measured_on": [None, "2026-03-04"]}, ["eGFR measured on: 04/03/2026"]),
        ({"done_on": "2026-03-04"}, ["Done on: 04/03/2026"]),
        # numbers without trailing zeros, with their unit; a name with capitals inside keeps them
        ({"egfr": ["55.0", "48.50"]}, ["Latest eGFR: 55 mL/min/1.73 m² → 48.5 mL/min/1.73 m²"]),
        ({"viga": [None, 3]}, ["vIGA-AD (0–4): 3"]),
        # facts as they are; unknown keys read as words
        ({"tests": "Hb, Platelets", "alerts": 1}, ["Tests: Hb, Platelets", "Alerts: 1"]),
        ({"checks_completed": ["a", "b", "c"]}, ["Checks completed: a, b, c"]),
        # ids only point at another record: left out
        ({"event": 17, "course": "3f2a1b1c-1111-2222-3333-444455556666", "dose": ["100", "200"]}, ["Dose: 100 → 200"]),
        ({"alert": "3f2a1b1c-1111-2222-3333-444455556666"}, []),
        # the admin's account changes
        ({"is_active": {"from": "True", "to": "False"}}, ["Is active: True → False"]),
        ({}, []),
        (None, []),
    ],
)
def test_change_lines(changes, lines):
    assert change_lines(changes, FIELDS) == lines


@pytest.mark.parametrize(
    ("value", "words", "text"),
    [
        (None, None, "—"),
        ("", None, "—"),
        (True, None, "Yes"),
        (Decimal("1.50"), None, "1.5"),
        ("never_tested", SEROLOGY, "Never tested"),
        ("unknown_code", SEROLOGY, "unknown_code"),
        ("2026-12-03", None, "03/12/2026"),
    ],
)
def test_value_text(value, words, text):
    assert value_text(value, words) == text


def test_portal_date_format():
    assert date_text(dt.date(2026, 12, 3)) == "03/12/2026" == date_text("2026-12-03")


@pytest.mark.parametrize(("text", "shown"), [("diabetes", "Diabetes"), ("eGFR", "eGFR"), ("vIGA-AD", "vIGA-AD")])
def test_sentence_case(text, shown):
    assert sentence_case(text) == shown
