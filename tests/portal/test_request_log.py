"""Request ids and the JSON access log (portal/requestlog.py): one line per request, no patient data in it."""

import io
import json
import logging
import re

import pytest
from django.conf import settings
from django.urls import reverse

from portal.requestlog import RequestIdFilter, request_id_var, valid_request_id
from tests.factories import CANARY, make_patient

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc-123", "abc-123"),
        ("A.b_C-9", "A.b_C-9"),
        ("x" * 64, "x" * 64),
        ("x" * 65, None),
        ("", None),
        (None, None),
        ("has space", None),
        ("line\nbreak", None),
        ("semi;colon", None),
        ("ümlaut", None),
        ('{"json": 1}', None),
    ],
)
def test_valid_request_id(raw, expected):
    assert valid_request_id(raw) == expected


@pytest.mark.django_db
def test_a_valid_incoming_request_id_is_returned(client):
    response = client.get(reverse("login"), HTTP_X_REQUEST_ID="lb-7f3a.1_x")
    assert response["X-Request-ID"] == "lb-7f3a.1_x"


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [None, "x" * 65, "bad id", "a\u00e9b"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(client, raw):
    headers = {} if raw is None else {"HTTP_X_REQUEST_ID": raw}
    first = client.get(reverse("login"), **headers)["X-Request-ID"]
    second = client.get(reverse("login"), **headers)["X-Request-ID"]
    assert HEX32.fullmatch(first)
    assert first != second


@pytest.mark.django_db
def test_probes_get_a_request_id_too(client):
    assert client.get(reverse("healthz_live"), HTTP_X_REQUEST_ID="probe-1")["X-Request-ID"] == "probe-1"


@pytest.fixture
def console_lines():
    """What the portal's own console handler (settings.LOGGING) writes, as it would in production."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_tests_run_the_production_default_json_format():
    assert settings.PORTAL_LOG_FORMAT == "json"


@pytest.mark.django_db
def test_a_request_logs_one_json_access_line_with_its_request_id_and_no_patient_data(client, derm, console_lines):
    patient = make_patient(clinic=derm.clinic, dermatologist=derm, given_name=f"{CANARY}Log", family_name=CANARY)
    client.force_login(derm)
    response = client.get(reverse("patients:detail", args=[patient.public_id]) + f"?q={CANARY}")
    assert response.status_code == 200
    request_id = response["X-Request-ID"]

    output = console_lines.getvalue()
    records = [json.loads(line) for line in output.splitlines()]  # every line is one JSON object
    access = [r for r in records if r["logger"] == "portal.access" and r["request_id"] == request_id]
    assert len(access) == 1, records
    line = access[0]
    assert line["method"] == "GET"
    assert line["route"] == "patients:detail"
    assert line["status"] == 200
    assert line["user_id"] == derm.pk
    assert isinstance(line["duration_ms"], float)
    assert {"time", "level"} <= set(line)
    assert CANARY.lower() not in output.lower()
    assert str(patient.public_id) not in output  # the URL pattern, not the path
    assert derm.username not in output


@pytest.mark.django_db
def test_an_unknown_url_logs_no_path(client, console_lines):
    response = client.get(f"/no-such-page/{CANARY}/")
    assert response.status_code == 404
    output = console_lines.getvalue()
    (line,) = [json.loads(x) for x in output.splitlines() if json.loads(x)["logger"] == "portal.access"]
    assert line["route"] == "-"
    assert line["user_id"] is None
    assert CANARY.lower() not in output.lower()


@pytest.mark.django_db
def test_probes_write_no_access_line(client, console_lines):
    client.get(reverse("healthz_live"))
    client.get(reverse("healthz_ready"))
    assert "portal.access" not in console_lines.getvalue()


def test_records_outside_a_request_carry_a_dash_and_inside_the_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "message", None, None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"
    token = request_id_var.set("abc")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "message", None, None)
        RequestIdFilter().filter(record)
        assert record.request_id == "abc"
    finally:
        request_id_var.reset(token)


def test_plain_format_shows_the_request_id():
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    record = logging.LogRecord("portal.access", logging.INFO, __file__, 1, "GET %s", ("portal:home",), None)
    record.request_id = "rid-1"
    assert formatter.format(record).endswith("portal.access [rid-1] GET portal:home")
