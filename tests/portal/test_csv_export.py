"""portal.csv_export: the delimiter by unit system and formula-injection-safe cells (pure)."""

import pytest

from portal.csv_export import csv_lines, delimiter_for, safe_cell


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Smith, Ann", "Smith, Ann"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (7, "7"),
    ],
)
def test_safe_cell(value, shown):
    assert safe_cell(value) == shown


@pytest.mark.parametrize(("system", "delimiter"), [("SI", ";"), ("US", ","), ("", ",")])
def test_delimiter_follows_the_unit_system(system, delimiter):
    assert delimiter_for(system) == delimiter


def test_csv_lines_quotes_and_defuses():
    lines = list(csv_lines(["a", "b"], [["=x", "1;2"], ["Smith, Ann", "ok"]], delimiter=";"))
    assert lines == ["a;b\r\n", '\'=x;"1;2"\r\n', "Smith, Ann;ok\r\n"]
