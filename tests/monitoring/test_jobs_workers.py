"""Issue 17, done when "a reminder job runs once with two workers": two real `manage.py db_worker` processes on
one PostgreSQL database, each with its scheduler, send each digest and escalation exactly once, and stop gracefully
on SIGTERM.

PostgreSQL only: the workers claim tasks with SELECT … FOR UPDATE SKIP LOCKED and the schedulers race on the
unique period key, which needs real concurrent transactions (SQLite serialises them).
"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from monitoring.models import Alert
from monitoring.tasks import send_reminders_job
from portal import jobs, roles
from portal.models import OutboundEmail, PeriodicJobRun
from tests.factories import TODAY, make_clinic, make_course, make_patient, make_scheduled_item, make_user, record_result

pytestmark = [
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="two workers racing for tasks need PostgreSQL (SQLite serialises transactions)",
    ),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "JAK Portal: checks due and overdue"
ESCALATION = "JAK Portal: URGENT alert not acknowledged"
REMINDERS_PATH = "monitoring.tasks.send_reminders_job"
DEADLINE_SECONDS = 60  # the whole run normally takes a few seconds; this bounds a hung worker


@pytest.fixture
def two_clinics(catalogue):
    """Two clinics, each with two nurses, an overdue check and an urgent alert open for six hours."""
    for n in (1, 2):
        clinic = make_clinic(f"Worker Clinic {n}")
        derm = make_user(role=roles.DERMATOLOGIST, clinic=clinic, email=f"derm{n}@example.invalid")
        nurse = make_user(role=roles.NURSE, clinic=clinic, email=f"nurse{n}@example.invalid")
        make_user(role=roles.NURSE, clinic=clinic, email=f"nurse{n}b@example.invalid")
        patient = make_patient(clinic=clinic, dermatologist=derm, record_number=f"WRK-{n}")
        make_scheduled_item(make_course(patient, derm), check_type="lipids", due=TODAY - dt.timedelta(days=2))
        alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
        Alert.objects.filter(pk=alert.pk).update(created_at=alert.created_at - dt.timedelta(hours=6))


def database_url() -> str:
    db = connection.settings_dict  # the test database pytest-django created
    auth = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}@" if db["USER"] else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(name: str, tmp_path: Path, spool: Path) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_EMAIL_BACKEND": "tests.mailbackends.SpoolBackend",
        "JAK_TEST_MAIL_SPOOL": str(spool),
        "PORTAL_LOG_FORMAT": "plain",
    }
    env.pop("PORTAL_DEMO", None)
    log = tmp_path / f"{name}.log"
    command = [sys.executable, "manage.py", "db_worker", "--worker-id", name, "--no-reload", "--no-startup-delay"]
    command += ["--interval", "0.1", "--schedule-interval", "0.5"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return process, log


def sent(spool: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(spool.glob("*.json"))]


def all_done() -> bool:
    scheduled = PeriodicJobRun.objects.filter(job="send_reminders").exists()
    unfinished = DBTaskResult.objects.filter(task_path=REMINDERS_PATH).exclude(status=TaskResultStatus.SUCCESSFUL)
    unsent = OutboundEmail.objects.exclude(status=OutboundEmail.Status.SENT)
    return scheduled and not unfinished.exists() and OutboundEmail.objects.exists() and not unsent.exists()


def test_two_workers_run_the_reminder_job_and_send_each_email_once(two_clinics, tmp_path):
    spool = tmp_path / "mail"
    spool.mkdir()
    for _ in range(3):  # as if cron (`send_reminders --enqueue`) ran too: the workers race through four jobs
        send_reminders_job.enqueue()
    workers = [start_worker(name, tmp_path, spool) for name in ("worker-a", "worker-b")]
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not all_done() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # a duplicate send, if there were one, would land now
        for process, _ in workers:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=20) for process, _ in workers]
    finally:
        for process, _ in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
    logs = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for _, log in workers)
    assert all_done(), logs
    assert codes == [0, 0], logs  # SIGTERM: a graceful stop

    messages = sent(spool)
    assert Counter(m["subject"] for m in messages) == {DIGEST: 2, ESCALATION: 2}, logs
    assert sorted(tuple(m["to"]) for m in messages if m["subject"] == DIGEST) == [
        ("nurse1@example.invalid", "nurse1b@example.invalid"),
        ("nurse2@example.invalid", "nurse2b@example.invalid"),
    ]
    assert set(OutboundEmail.objects.values_list("status", "attempts")) == {("sent", 1)}

    # The schedulers of both workers enqueued the periodic reminder job once per half hour.
    periods = PeriodicJobRun.objects.filter(job="send_reminders").count()
    assert periods in (1, 2)  # 2 only if the run straddled :00 or :30
    tasks = DBTaskResult.objects.filter(task_path=REMINDERS_PATH)
    assert tasks.count() == 3 + periods
    assert all(len(t.worker_ids) == 1 for t in tasks)  # each job ran once, by one worker
    assert {w for t in DBTaskResult.objects.all() for w in t.worker_ids} <= {"worker-a", "worker-b"}


def test_simultaneous_schedulers_enqueue_each_periodic_job_once(db):
    now = dt.datetime(2026, 12, 4, 7, 10, tzinfo=dt.UTC)
    barrier = threading.Barrier(4)
    enqueued: list[str] = []
    errors: list[BaseException] = []

    def schedule():
        try:
            barrier.wait(timeout=30)
            enqueued.extend(jobs.jobs_schedule_due(now=now))
        except BaseException as exc:  # noqa: BLE001  reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=schedule) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(enqueued) == ["deliver_email", "prune_jobs", "send_reminders"]
    assert DBTaskResult.objects.count() == 3
    assert PeriodicJobRun.objects.count() == 3


def test_sigterm_lets_the_running_job_finish_then_the_worker_exits(db, tmp_path):
    from tests.monitoring.jobs_for_tests import slow_job

    spool = tmp_path / "mail"
    spool.mkdir()
    result = slow_job.enqueue(seconds=1.5)
    process, log = start_worker("worker-stop", tmp_path, spool)
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline and DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.READY:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    row = DBTaskResult.objects.get(pk=result.id)
    assert (row.status, row.return_value) == (TaskResultStatus.SUCCESSFUL, "finished"), log.read_text()
    assert code == 0
    assert "shutting down gracefully" in log.read_text()
