"""Failure drills against the real stack: gunicorn on 127.0.0.1 in front of the PostgreSQL test database.

They run in ``make test`` (and .ci/run) when DATABASE_URL points at PostgreSQL and gunicorn is installed, and
are skipped with the reason otherwise. The PostgreSQL restart drill also needs ``pg_ctlcluster`` and root, and
restarts the local cluster: other sessions on the same cluster see their connections dropped once.

The Django test client cannot prove any of this (it disconnects ``close_old_connections``), so requests go over
HTTP to gunicorn. Tests use ``transaction=True`` so the rows they create are committed and visible to gunicorn.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings
from django.db import connection

from patients.models import Patient, ScreeningResult
from portal import roles
from tests.factories import CANARY, TEST_PASSWORD, make_clinic, make_patient, make_user

ROOT = Path(__file__).resolve().parents[2]
_ON_PG = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
_GUNICORN = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")

pytestmark = [
    pytest.mark.drill,
    pytest.mark.skipif(not _ON_PG, reason="failure drills need DATABASE_URL pointing at PostgreSQL"),
    pytest.mark.skipif(_GUNICORN is None, reason="failure drills need gunicorn installed"),
    pytest.mark.django_db(transaction=True),  # role groups: tests.factories.make_user restores them after a flush
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A tiny HTTP client with cookies and CSRF, talking to gunicorn over loopback."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, dict, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode({**data, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}, doseq=True)
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

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, data):
        return self.request("POST", path, data)

    def login(self, username: str) -> None:
        self.get("/accounts/login/")
        status, headers, _ = self.post("/accounts/login/", {"username": username, "password": TEST_PASSWORD})
        assert status == 302, f"log-in failed with {status}"


@pytest.fixture
def server(transactional_db):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    (Path(settings.BASE_DIR) / "var").mkdir(exist_ok=True)
    log = open(Path(settings.BASE_DIR) / "var" / f"drill-gunicorn-{port}.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [_GUNICORN, "portal.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "30", "--graceful-timeout", "5"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if Browser(port).get("/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("gunicorn did not come up in 30 s")
    yield {"port": port, "process": process}
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()
    connection.close()  # the restart drill may have left this process's connection broken


@pytest.fixture
def staff(transactional_db):
    clinic = make_clinic()
    derm = make_user(role=roles.DERMATOLOGIST, clinic=clinic)
    nurses = [make_user(role=roles.NURSE, clinic=clinic) for _ in range(2)]
    patient = make_patient(clinic=clinic, dermatologist=derm, given_name=f"{CANARY}Drill", family_name=CANARY)
    return {"derm": derm, "nurses": nurses, "patient": patient}


def _screening(browser: Browser, patient: Patient, item: str) -> int:
    status, _, _ = browser.post(
        f"{patient.get_absolute_url()}screening/",
        {"item": item, "performed_on": "2026-01-05", "result": "negative", "note": ""},
    )
    return status


def _cluster_for_port(port: str) -> tuple[str, str] | None:
    if not shutil.which("pg_ctlcluster") or os.geteuid() != 0:
        return None
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    for line in out.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == (port or "5432"):
            return version, name
    return None


def test_portal_survives_a_postgresql_restart(server, staff):
    db = connection.settings_dict
    if urlsplit(f"//{db['HOST'] or 'localhost'}").hostname not in ("127.0.0.1", "localhost", ""):
        pytest.skip("the restart drill only restarts a local cluster")
    cluster = _cluster_for_port(str(db["PORT"] or "5432"))
    if cluster is None:
        pytest.skip("the restart drill needs root and pg_ctlcluster for the cluster on DATABASE_URL's port")
    nurse = Browser(server["port"])
    nurse.login(staff["nurses"][0].username)
    patient = staff["patient"]
    assert _screening(nurse, patient, "tb") == 302  # acknowledged before the restart
    subprocess.run(["pg_ctlcluster", *cluster, "restart"], check=True, timeout=120)  # noqa: S607
    connection.close()
    # The very next request succeeds: CONN_HEALTH_CHECKS drops the stale connection instead of failing.
    status, _, body = nurse.get(patient.get_absolute_url())
    assert status == 200
    assert _screening(nurse, patient, "hcv") == 302
    assert set(ScreeningResult.objects.filter(patient=patient).values_list("item", flat=True)) == {"tb", "hcv"}


def test_portal_survives_a_killed_worker(server, staff):
    master = server["process"].pid
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True, check=False)  # noqa: S607
    workers = [int(p) for p in found.stdout.split()]
    assert len(workers) == 2
    nurse = Browser(server["port"])
    nurse.login(staff["nurses"][0].username)
    os.kill(workers[0], signal.SIGKILL)
    statuses = [nurse.get(staff["patient"].get_absolute_url())[0] for _ in range(20)]
    assert statuses == [200] * 20
    assert _screening(nurse, staff["patient"], "cbc") == 302
    assert ScreeningResult.objects.filter(patient=staff["patient"], item="cbc").count() == 1


def test_two_nurses_saving_for_the_same_patient_both_land(server, staff):
    browsers = []
    for nurse in staff["nurses"]:
        browser = Browser(server["port"])
        browser.login(nurse.username)
        browsers.append(browser)
    results: dict[int, int] = {}
    barrier = threading.Barrier(2)

    def save(n: int, item: str) -> None:
        barrier.wait()
        results[n] = _screening(browsers[n], staff["patient"], item)

    threads = [threading.Thread(target=save, args=(n, item)) for n, item in enumerate(("lipids", "liver"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == {0: 302, 1: 302}
    saved = ScreeningResult.objects.filter(patient=staff["patient"])
    assert sorted(saved.values_list("item", flat=True)) == ["lipids", "liver"]


def test_double_submitted_patient_form_writes_once(server, staff):
    derm = Browser(server["port"])
    derm.login(staff["derm"].username)
    _, _, page = derm.get("/patients/new/")
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page).group(1)
    row_version = re.search(r'name="row_version" value="(\d+)"', page)
    data = {
        "idempotency_key": key,
        "record_number": "DRILL-0001",
        "given_name": f"{CANARY}Twice",
        "family_name": CANARY,
        "date_of_birth": "1975-03-04",
        "sex_at_birth": "female",
    }
    if row_version:
        data["row_version"] = row_version.group(1)
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(2)

    def submit() -> None:
        barrier.wait()
        status, headers, _ = derm.post("/patients/new/", data)
        results.append((status, headers.get("Location", "")))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [status for status, _ in results] == [302, 302]
    assert results[0][1] == results[1][1]
    assert Patient.objects.filter(record_number="DRILL-0001").count() == 1


# --- Sustained load through a worker kill and a PostgreSQL restart -------------------------------------------------

LOAD_SECONDS = 25  # the writers stop after this long, or after LOAD_MAX_REQUESTS each, whichever comes first
LOAD_MAX_REQUESTS = 400
KILL_AT, RESTART_AT = 6.0, 12.0  # seconds into the load


class Write:
    """One submitted write: what was sent (with its one-time token) and how the portal answered."""

    def __init__(self, browser: Browser, kind: str, path: str, data: dict, key: str):
        self.browser, self.kind, self.path, self.data, self.key = browser, kind, path, data, key
        self.answer = ""  # "ack" (the portal confirmed it), or what went wrong: "503", "error: ..."
        self.at = 0.0  # when it was sent

    def send(self) -> str:
        try:
            status, headers, _ = self.browser.post(self.path, self.data)
        except (OSError, http.client.HTTPException) as exc:
            return f"error: {type(exc).__name__}"
        location = headers.get("Location", "")
        confirmed = "/risk/" if self.kind == "patient" else "/labs/saved/"
        return "ack" if status == 302 and confirmed in location else str(status)


def _writer(browser: Browser, kind: str, patient: Patient, n: int, end: float, writes: list[Write]) -> None:
    for i in range(LOAD_MAX_REQUESTS):
        if time.monotonic() > end:
            return
        token = str(uuid.uuid4())  # what the form page hands out (portal.idempotency.form_key)
        if kind == "patient":
            key = f"LOAD-{n}-{i:03d}"
            data = {
                "record_number": key,
                "given_name": f"{CANARY}Load",
                "family_name": CANARY,
                "date_of_birth": "1970-01-01",
                "sex_at_birth": "female",
            }
            path = "/patients/new/"
        else:
            key = f"{10 + n + i / 1000:.3f}"  # a distinct haemoglobin value per write: a new result, not a repeat
            data = {"collected_on": "2026-01-05", "v_hb": key, "u_hb": "g/dL"}
            path = f"{patient.get_absolute_url()}labs/new/?panel=cbc"
        write = Write(browser, kind, path, {**data, "idempotency_key": token}, key)
        write.at = time.monotonic()
        write.answer = write.send()
        writes.append(write)


def _stored() -> tuple[list[str], list[str]]:
    from patients.models import LabResult  # noqa: PLC0415  (only this drill reads lab results)

    patients = list(Patient.objects.filter(record_number__startswith="LOAD-").values_list("record_number", flat=True))
    values = [f"{v:.3f}" for v in LabResult.objects.filter(lab_test__analyte="hb").values_list("value", flat=True)]
    return patients, values


def test_acknowledged_writes_survive_a_killed_worker_and_a_postgresql_restart(server, staff):
    """Four writers (two registering patients, two entering lab results, each write with its own form token) for
    up to LOAD_SECONDS, while one gunicorn worker is killed and the PostgreSQL cluster restarted. Every write the
    portal confirmed is stored exactly once, nothing is stored that was not sent, a failed write is stored at
    most once, and resending a failed write with its token stores it at most once (exactly once in the end)."""
    from django.core.management import call_command  # noqa: PLC0415

    db = connection.settings_dict
    if urlsplit(f"//{db['HOST'] or 'localhost'}").hostname not in ("127.0.0.1", "localhost", ""):
        pytest.skip("the load drill restarts the local cluster only")
    cluster = _cluster_for_port(str(db["PORT"] or "5432"))
    if cluster is None:
        pytest.skip("the load drill needs root and pg_ctlcluster for the cluster on DATABASE_URL's port")
    call_command("load_catalogue", verbosity=0)
    browsers = []
    for user in (staff["derm"], staff["derm"], staff["nurses"][0], staff["nurses"][1]):
        browser = Browser(server["port"])
        browser.login(user.username)
        browsers.append(browser)
    kinds = ("patient", "patient", "lab", "lab")
    writes: list[list[Write]] = [[] for _ in kinds]
    start = time.monotonic()
    end = start + LOAD_SECONDS
    threads = [
        threading.Thread(target=_writer, args=(browsers[n], kinds[n], staff["patient"], n, end, writes[n]))
        for n in range(len(kinds))
    ]
    for t in threads:
        t.start()
    time.sleep(KILL_AT)
    found = subprocess.run(["pgrep", "-P", str(server["process"].pid)], capture_output=True, text=True, check=False)  # noqa: S607
    os.kill(int(found.stdout.split()[0]), signal.SIGKILL)
    time.sleep(max(0.0, start + RESTART_AT - time.monotonic()))
    restarted = time.monotonic()
    subprocess.run(["pg_ctlcluster", *cluster, "restart"], check=True, timeout=120)  # noqa: S607
    for t in threads:
        t.join(timeout=LOAD_SECONDS + 90)
    assert not any(t.is_alive() for t in threads), "a writer did not stop"
    connection.close()  # this process's connection did not survive the restart
    sent = [w for per_writer in writes for w in per_writer]
    acked = [w for w in sent if w.answer == "ack"]
    failed = [w for w in sent if w.answer != "ack"]
    answers = Counter(w.answer for w in sent)
    print(f"load drill: {len(sent)} writes in {time.monotonic() - start:.0f} s: {dict(answers)}", file=sys.stderr)  # noqa: T201
    assert acked, "no write was acknowledged"
    assert any(w.at > restarted + 1 for w in acked), "the load had stopped before the restart: nothing was proven"
    # While the database is down the portal says "back in a moment" (503 with Retry-After), never a server error.
    assert "500" not in answers, f"a write got a server error page instead of 503: {dict(answers)}"

    patients, values = _stored()
    sent_keys = {(w.kind, w.key) for w in sent}
    stored = [("patient", k) for k in patients] + [("lab", v) for v in values]
    assert set(stored) <= sent_keys, "a row was stored that no write sent"
    assert len(stored) == len(set(stored)), "a write was stored twice"
    assert {(w.kind, w.key) for w in acked} <= set(stored), "an acknowledged write is missing"

    # Resend every failed write with its own token, once the portal answers again: stored at most once, and
    # confirmed now (the first try's commit is found by its token, or the write is done now).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if browsers[0].get("/healthz")[0] == 200:
                break
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.5)
    retried = [w.send() for w in failed]
    connection.close()
    patients, values = _stored()
    stored = [("patient", k) for k in patients] + [("lab", v) for v in values]
    assert len(stored) == len(set(stored)), "a resent write was stored twice"
    assert set(stored) <= sent_keys
    assert retried == ["ack"] * len(failed), retried
    assert set(stored) == sent_keys
