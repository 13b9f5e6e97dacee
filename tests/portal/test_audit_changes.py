"""How audit changes read on the patient page: pairs as before → after, facts as they are."""

import pytest

from portal.audit import describe_changes


@pytest.mark.parametrize(
    ("changes", "lines"),
    [
        ({"dose": ["100", "200"]}, ["dose: 100 → 200"]),
        ({"phone": [None, "0123"]}, ["phone: — → 0123"]),
        ({"tests": "Hb, Platelets", "alerts": 1}, ["tests: Hb, Platelets", "alerts: 1"]),
        ({"override": False, "alert": None}, ["override: False", "alert: —"]),
        ({"checks_completed": ["a", "b", "c"]}, ["checks completed: a, b, c"]),
        ({}, []),
        (None, []),
    ],
)
def test_describe_changes(changes, lines):
    assert describe_changes(changes) == lines
