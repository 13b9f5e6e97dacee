"""A patient search through a real server leaves no name or date of birth in its access log (issue 18, F7).

gunicorn serves the portal with an access log (its default format logs the request line with the query string
and the referrer). A dermatologist signs in, searches for a canary patient by name, pages through the results,
then searches by date of birth; the access log and the server's output must not contain either.

On PostgreSQL gunicorn uses the test database, as the failure drills do (``transaction=True`` commits the rows).
On SQLite the test database lives in memory, so it is copied to a file for gunicorn after the rows are made.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection

from patients.selectors import PAGE_SIZE
from portal import roles
from tests.factories import CANARY, TEST_PASSWORD, make_clinic, make_patient, make_user

ROOT = Path(__file__).resolve().parents[2]
_GUNICORN = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
BIRTH = dt.date(1931, 7, 9)
NAME = f"{CANARY}Logname"
# Every way the date of birth could be written into a URL (typed, ISO, percent-encoded).
BIRTH_FORMS = ("09/07/1931", "09%2F07%2F1931", "1931-07-09", "9.7.1931")

pytestmark = [
    pytest.mark.skipif(_GUNICORN is None, reason="needs gunicorn installed"),
    pytest.mark.django_db(transaction=True),
]


class _Browser:
    """A minimal HTTP client with cookies and the CSRF token, over loopback."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "127.0.0.1", "Referer": f"http://127.0.0.1:{self.port}/patients/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            token = self.cookies.get(settings.CSRF_COOKIE_NAME, "")
            body = urlencode({**data, "csrfmiddlewaretoken": token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return response.status, dict(response.getheaders()), text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url(tmp_path: Path) -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        host = db["HOST"] or "127.0.0.1"
        return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    if not db["ENGINE"].endswith("sqlite3"):
        pytest.skip(f"no way to share a {db['ENGINE']} test database with gunicorn")
    copy = tmp_path / "search-log.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(copy)
    try:
        connection.connection.backup(target)  # the committed rows of the in-memory test database
    finally:
        target.close()
    return f"sqlite:///{copy}"  # an absolute path: sqlite:////tmp/...


@pytest.fixture
def clinic_with_canaries(transactional_db):
    clinic = make_clinic()
    derm = make_user(role=roles.DERMATOLOGIST, clinic=clinic)
    for i in range(PAGE_SIZE + 2):  # two pages of results for the name search
        make_patient(clinic=clinic, dermatologist=derm, given_name=f"{NAME}{i:02d}", family_name=NAME)
    make_patient(clinic=clinic, given_name=f"{CANARY}Born", family_name=f"{CANARY}Birthday", date_of_birth=BIRTH)
    make_patient(clinic=clinic, given_name="Testa", family_name="Unrelated")
    return derm


@pytest.fixture
def server(clinic_with_canaries, tmp_path):
    port = _free_port()
    access_log = tmp_path / "access.log"
    output = tmp_path / "gunicorn-output.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(tmp_path),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    command = [_GUNICORN, "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--access-logfile", str(access_log)]
    with output.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if _Browser(port).request("GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"gunicorn did not come up: {output.read_text()[-2000:]}")
                time.sleep(0.2)
            yield {
                "port": port,
                "derm": clinic_with_canaries,
                "process": process,
                "logs": {"access": access_log, "output": output},
            }
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [form for form in (CANARY.lower(), *BIRTH_FORMS) if form.lower() in lowered]


def test_searching_and_paging_leave_no_name_or_birth_date_in_the_access_log(server):
    browser = _Browser(server["port"])
    browser.request("GET", "/accounts/login/")
    status, _, _ = browser.request(
        "POST", "/accounts/login/", {"username": server["derm"].username, "password": TEST_PASSWORD}
    )
    assert status == 302, "log-in failed"
    browser.request("GET", "/patients/")

    # Search by name: a POST, then the results by an opaque id.
    status, headers, _ = browser.request("POST", "/patients/", {"q": NAME})
    assert status == 302
    results = headers["Location"]
    assert re.fullmatch(r"/patients/\?s=[\w-]+", results), results
    status, _, page = browser.request("GET", results)
    assert status == 200
    assert f'value="{NAME}"' in page  # the box keeps what was typed
    assert page.count(f"{NAME}, {NAME}") == PAGE_SIZE
    next_page = re.search(r'href="(\?[^"]*page=2)"', page).group(1).replace("&amp;", "&")
    status, _, page = browser.request("GET", f"/patients/{next_page}")
    assert status == 200
    assert page.count(f"{NAME}, {NAME}") == 2
    status, _, page = browser.request("GET", f"/patients/{next_page.replace('page=2', 'page=1')}")  # back
    assert page.count(f"{NAME}, {NAME}") == PAGE_SIZE

    # Search by date of birth.
    status, headers, _ = browser.request("POST", "/patients/", {"q": "09/07/1931"})
    assert status == 302
    status, _, page = browser.request("GET", headers["Location"])
    assert f"{CANARY}Birthday" in page
    assert "Unrelated" not in page

    # The request a patient row links to (an opaque id) is in the log as well.
    patient_url = re.search(r'href="(/patients/[0-9a-f-]{36}/)"', page).group(1)
    assert browser.request("GET", patient_url)[0] == 200
    search_id = results.split("s=", 1)[1]

    server["process"].send_signal(signal.SIGTERM)  # stop now, so that the log is complete
    server["process"].wait(timeout=15)
    log = {name: path.read_text(encoding="utf-8", errors="replace") for name, path in server["logs"].items()}
    assert f"/patients/?s={search_id}" in log["access"]  # the log does hold query strings: the scan can see
    assert "POST /patients/" in log["access"]
    assert patient_url in log["access"]
    for name, text in log.items():
        assert not _leaks(text), f"the {name} log contains {_leaks(text)}"
