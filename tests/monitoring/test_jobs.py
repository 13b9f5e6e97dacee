"""Issue 17, jobs: the reminders as a job on the django-tasks database backend, periodic scheduling once per period,
retries with backoff, the cron command as a thin wrapper, and the queue depth at /metrics.

These run the library's worker loop in this process (``--batch``: run what is ready, then stop) against the real
database backend, on SQLite or PostgreSQL. Two worker processes at once are in test_jobs_workers.py (PostgreSQL).
"""

import datetime as dt
import io
import logging
import signal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

import monitoring.tasks
from monitoring.models import Alert
from monitoring.tasks import send_reminders_job
from portal import jobs, metrics
from portal.models import AuditEvent, OutboundEmail, PeriodicJobRun
from portal.periodic import next_period_start, period_start
from portal.tasks import deliver_email_job, prune_jobs_job
from tests.factories import TODAY, make_course, make_patient, make_scheduled_item, record_result
from tests.mailbackends import FlakyBackend

DIGEST = "JAK Portal: checks due and overdue"
ESCALATION = "JAK Portal: URGENT alert not acknowledged"
BOTH = sorted([DIGEST, ESCALATION])
REMINDERS_PATH = "monitoring.tasks.send_reminders_job"


@pytest.fixture
def due_and_urgent(clinic, derm, nurse, catalogue):
    """One patient with a lipids check three days overdue and an urgent platelet alert open for six hours."""
    derm.email, nurse.email = "derm@example.invalid", "nurse@example.invalid"
    derm.save()
    nurse.save()
    patient = make_patient(clinic=clinic, dermatologist=derm, given_name="Jobsecret", record_number="JOB-1")
    course = make_course(patient, derm)
    make_scheduled_item(course, check_type="lipids", due=TODAY - dt.timedelta(days=3))
    alert = Alert.objects.get(lab_result=record_result(nurse, patient, "platelets", "45"))
    Alert.objects.filter(pk=alert.pk).update(created_at=alert.created_at - dt.timedelta(hours=6))
    return alert


@pytest.fixture(autouse=True)
def _keep_the_test_transaction(monkeypatch):
    """The worker loop calls close_old_connections(), which closes a connection inside a transaction: here, the
    test's own (PostgreSQL). A real worker is not inside one; test_jobs_workers.py runs real ones."""
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.mailbackends.FlakyBackend"
    FlakyBackend.failures = {}
    yield FlakyBackend.failures
    FlakyBackend.failures = {}


def run_worker():
    """django-tasks-db's worker loop, as `db_worker --batch` runs it: every ready task, then return."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def reminder_tasks():
    return DBTaskResult.objects.filter(task_path=REMINDERS_PATH)


def travel_past(moment):
    return time_machine.travel(moment + dt.timedelta(seconds=1), tick=False)


def gauge_text():
    return metrics.exposition().decode()


def sample(text, name, **labels):
    """The value of one sample in the Prometheus text."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    raise AssertionError(f"no sample {name} {labels}")


# --- Periodic scheduling --------------------------------------------------------------------------------------------


def test_each_periodic_job_is_enqueued_once_per_period(db):
    now = dt.datetime(2026, 12, 4, 7, 10, 20, tzinfo=dt.UTC)
    first = jobs.jobs_schedule_due(now=now)
    assert sorted(first) == ["deliver_email", "prune_jobs", "send_reminders"]
    assert jobs.jobs_schedule_due(now=now + dt.timedelta(seconds=30)) == []  # same minute, same half hour
    assert jobs.jobs_schedule_due(now=now + dt.timedelta(minutes=1)) == ["deliver_email"]
    assert sorted(jobs.jobs_schedule_due(now=dt.datetime(2026, 12, 4, 7, 30, tzinfo=dt.UTC))) == [
        "deliver_email",
        "send_reminders",
    ]
    paths = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert paths == [
        "monitoring.tasks.send_reminders_job",
        "monitoring.tasks.send_reminders_job",
        "portal.tasks.deliver_email_job",
        "portal.tasks.deliver_email_job",
        "portal.tasks.deliver_email_job",
        "portal.tasks.prune_jobs_job",
    ]
    run = PeriodicJobRun.objects.get(job="send_reminders", period_start=dt.datetime(2026, 12, 4, 7, tzinfo=dt.UTC))
    assert DBTaskResult.objects.get(pk=run.task_id).task_path == REMINDERS_PATH


@pytest.mark.parametrize(
    ("now", "every", "start"),
    [
        (dt.datetime(2026, 12, 4, 7, 44, 59, tzinfo=dt.UTC), dt.timedelta(minutes=30), "2026-12-04T07:30:00+00:00"),
        (dt.datetime(2026, 12, 4, 7, 30, tzinfo=dt.UTC), dt.timedelta(minutes=30), "2026-12-04T07:30:00+00:00"),
        (dt.datetime(2026, 12, 4, 7, 44, 59, tzinfo=dt.UTC), dt.timedelta(minutes=1), "2026-12-04T07:44:00+00:00"),
        (dt.datetime(2026, 12, 4, 23, 59, tzinfo=dt.UTC), dt.timedelta(days=1), "2026-12-04T00:00:00+00:00"),
        # An aware time in another zone falls in the same UTC period.
        (
            dt.datetime(2026, 12, 4, 9, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            dt.timedelta(minutes=30),
            "2026-12-04T07:00:00+00:00",
        ),
    ],
)
def test_period_start(now, every, start):
    assert period_start(now, every).isoformat() == start
    assert next_period_start(now, every) == period_start(now, every) + every


@pytest.mark.parametrize("every", [dt.timedelta(0), dt.timedelta(milliseconds=1500), dt.timedelta(seconds=-60)])
def test_a_period_is_a_whole_number_of_seconds(every):
    with pytest.raises(ValueError, match="whole number of seconds"):
        period_start(dt.datetime(2026, 12, 4, tzinfo=dt.UTC), every)
    with pytest.raises(ValueError, match="aware"):
        period_start(dt.datetime(2026, 12, 4), dt.timedelta(minutes=1))


# --- The reminder job and the cron wrapper ----------------------------------------------------------------------------


def test_the_reminder_job_run_three_times_by_the_worker_sends_each_email_once(due_and_urgent):
    for _ in range(3):
        send_reminders_job.enqueue()
    run_worker()
    assert sorted(m.subject for m in mail.outbox) == BOTH
    assert all("Jobsecret" not in m.body for m in mail.outbox)
    assert list(reminder_tasks().values_list("status", flat=True)) == [TaskResultStatus.SUCCESSFUL] * 3
    results = sorted((r.return_value for r in reminder_tasks()), key=lambda r: -r["digests_queued"])
    assert results[0] == {
        "digests_queued": 1,
        "digests_already_queued": 0,
        "clinics_without_nurse_email": [],
        "alerts_escalated": 1,
        "emails_sent": 2,
        "emails_retrying": 0,
        "emails_failed": 0,
    }
    assert [r["digests_already_queued"] for r in results[1:]] == [1, 1]
    assert AuditEvent.objects.filter(summary="Urgent alert escalated: unacknowledged").count() == 1
    assert "JOB-1" not in str(results)
    assert "Jobsecret" not in str(results)


def test_send_reminders_enqueue_puts_the_job_on_the_queue_for_the_worker(due_and_urgent):
    out = io.StringIO()
    call_command("send_reminders", "--enqueue", "--hours", "5", stdout=out)
    task = reminder_tasks().get()
    assert f"Reminder job queued (task {task.pk})" in out.getvalue()
    assert task.status == TaskResultStatus.READY
    assert task.args_kwargs == {"args": [], "kwargs": {"hours": 5, "deliver": True}}
    assert mail.outbox == []
    assert not OutboundEmail.objects.exists()
    run_worker()
    assert sorted(m.subject for m in mail.outbox) == BOTH
    # The cron way (no --enqueue) is the same job run here: nothing new to send.
    out = io.StringIO()
    call_command("send_reminders", stdout=out)
    assert "today's digest was already queued" in out.getvalue()
    assert len(mail.outbox) == 2


def test_send_reminders_no_deliver_enqueue_queues_without_sending(due_and_urgent):
    call_command("send_reminders", "--enqueue", "--no-deliver", stdout=io.StringIO())
    run_worker()
    assert mail.outbox == []
    assert OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING).count() == 2


def test_the_worker_batch_command_enqueues_what_is_due_and_runs_it(due_and_urgent):
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
    assert sorted(m.subject for m in mail.outbox) == BOTH
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    assert set(PeriodicJobRun.objects.values_list("job", flat=True)) == {
        "deliver_email",
        "prune_jobs",
        "send_reminders",
    }


def test_with_the_immediate_backend_a_job_runs_at_once(due_and_urgent, settings):
    """A test (or a site) may choose the immediate backend: the enqueue runs the job inline, no worker needed."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    result = send_reminders_job.enqueue()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["digests_queued"] == 1
    assert not DBTaskResult.objects.exists()
    assert len(mail.outbox) == 2


# --- Retries ----------------------------------------------------------------------------------------------------------


def test_a_refusing_mail_server_is_retried_with_backoff_by_the_delivery_job_then_the_email_goes(due_and_urgent, flaky):
    flaky["checks due"] = 2  # the digest is refused twice
    send_reminders_job.enqueue()
    run_worker()
    assert [m.subject for m in mail.outbox] == [ESCALATION]
    digest = OutboundEmail.objects.get(dedupe_key__startswith="digest:")
    assert (digest.status, digest.attempts, digest.last_error) == ("pending", 1, "ConnectionRefusedError")
    assert reminder_tasks().get().status == TaskResultStatus.SUCCESSFUL  # the job did its part; the outbox retries

    with travel_past(digest.next_attempt_at - dt.timedelta(seconds=2)):  # not yet due: the delivery job sends nothing
        deliver_email_job.enqueue()
        run_worker()
    digest.refresh_from_db()
    assert digest.attempts == 1
    for attempts in (2, 3):
        with travel_past(digest.next_attempt_at):
            jobs.jobs_schedule_due()  # the minute's deliver_email job
            run_worker()
        digest.refresh_from_db()
        assert digest.attempts == attempts
    assert digest.status == "sent"
    assert sorted(m.subject for m in mail.outbox) == BOTH
    assert DBTaskResult.objects.filter(task_path="portal.tasks.deliver_email_job").count() == 3  # one per minute


def test_an_email_refused_every_time_is_given_up_after_six_attempts(due_and_urgent, flaky):
    flaky["checks due"] = -1
    send_reminders_job.enqueue()
    run_worker()
    digest = OutboundEmail.objects.get(dedupe_key__startswith="digest:")
    while digest.status == "pending":
        with travel_past(digest.next_attempt_at):
            jobs.jobs_schedule_due()
            run_worker()
        digest.refresh_from_db()
    assert (digest.status, digest.attempts) == ("failed", 6)
    assert 'portal_outbox_emails{status="failed"} 1.0' in gauge_text()


def test_a_job_that_raises_is_run_again_after_the_backoff_then_succeeds(due_and_urgent, monkeypatch, caplog):
    real = monitoring.tasks.reminder_digests
    calls = []

    def down_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("connection lost (test)")
        return real(**kwargs)

    monkeypatch.setattr(monitoring.tasks, "reminder_digests", down_once)
    started = timezone.now()
    send_reminders_job.enqueue()
    with caplog.at_level(logging.WARNING, logger="portal.jobs"):
        run_worker()
    task = reminder_tasks().get()
    assert task.status == TaskResultStatus.READY
    assert len(task.worker_ids) == 1
    assert task.exception_class_path == "django.db.utils.OperationalError"  # the last error stays visible
    assert started + dt.timedelta(minutes=1) <= task.run_after <= timezone.now() + dt.timedelta(minutes=1)
    assert "jobs: send_reminders_job failed (OperationalError), attempt 1 of 6; next try in 0:01:00" in caplog.text
    assert mail.outbox == []
    text = gauge_text()
    assert 'portal_jobs{state="waiting"} 1.0' in text
    assert 'portal_jobs{state="failed"} 0.0' in text

    run_worker()  # not due yet
    assert len(calls) == 1
    with travel_past(task.run_after):
        run_worker()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert len(task.worker_ids) == 2
    assert sorted(m.subject for m in mail.outbox) == BOTH


def test_a_job_that_always_raises_gives_up_after_six_attempts_and_counts_failed(due_and_urgent, monkeypatch, caplog):
    def down(**kwargs):
        raise OperationalError("connection lost (test)")

    monkeypatch.setattr(monitoring.tasks, "reminder_digests", down)
    send_reminders_job.enqueue()
    delays = []
    with caplog.at_level(logging.WARNING, logger="portal.jobs"):
        run_worker()
        failed_at = timezone.now()
        task = reminder_tasks().get()
        while task.status == TaskResultStatus.READY:
            delays.append(round((task.run_after - failed_at).total_seconds() / 60))
            with travel_past(task.run_after):
                run_worker()
                failed_at = timezone.now()
            task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert len(task.worker_ids) == 6
    assert delays == [1, 5, 30, 120, 360]  # minutes: portal.backoff's delays
    assert "jobs: send_reminders_job gave up after 6 attempts (OperationalError)" in caplog.text
    assert [r.levelname for r in caplog.records if "gave up" in r.getMessage()] == ["ERROR"]
    text = gauge_text()
    assert 'portal_jobs{state="failed"} 1.0' in text
    assert 'portal_jobs{state="waiting"} 0.0' in text


def test_a_job_without_retry_fails_once_and_stays_failed(db, monkeypatch):
    import portal.tasks

    def down(**kwargs):
        raise OperationalError("mail queue table away (test)")

    monkeypatch.setattr(portal.tasks, "outbox_deliver", down)
    portal.tasks.deliver_email_job.enqueue()
    run_worker()
    task = DBTaskResult.objects.get(task_path="portal.tasks.deliver_email_job")
    assert (task.status, len(task.worker_ids)) == (TaskResultStatus.FAILED, 1)


# --- Metrics --------------------------------------------------------------------------------------------------------


def test_metrics_show_the_queue_depth_the_oldest_waiting_job_and_the_schedule(db, django_assert_max_num_queries):
    with time_machine.travel(timezone.now() - dt.timedelta(minutes=10), tick=False):
        send_reminders_job.enqueue()
    send_reminders_job.enqueue()
    send_reminders_job.using(run_after=timezone.now() + dt.timedelta(hours=1)).enqueue()
    failed = send_reminders_job.enqueue()
    DBTaskResult.objects.filter(pk=failed.id).update(status=TaskResultStatus.FAILED)
    running = send_reminders_job.enqueue()
    DBTaskResult.objects.filter(pk=running.id).update(status=TaskResultStatus.RUNNING)
    now = dt.datetime(2026, 12, 4, 7, 10, tzinfo=dt.UTC)
    jobs.jobs_schedule_due(now=now)  # three more ready (enqueued "now", which is in the past)
    with django_assert_max_num_queries(5):  # one query per gauge
        text = gauge_text()
    assert 'portal_jobs{state="ready"} 5.0' in text
    assert 'portal_jobs{state="waiting"} 1.0' in text
    assert 'portal_jobs{state="running"} 1.0' in text
    assert 'portal_jobs{state="failed"} 1.0' in text
    assert 599 <= sample(text, "portal_jobs_oldest_ready_seconds") < 700
    assert sample(text, "portal_periodic_job_last_enqueued_timestamp_seconds", job="send_reminders") == now.timestamp()
    assert 'portal_scrape_source_up{gauge="portal_jobs"} 1.0' in text


def test_metrics_with_an_empty_queue(db):
    text = gauge_text()
    for state in jobs.JOB_STATES:
        assert f'portal_jobs{{state="{state}"}} 0.0' in text
    assert "portal_jobs_oldest_ready_seconds 0.0" in text
    assert 'portal_periodic_job_last_enqueued_timestamp_seconds{job="deliver_email"} 0.0' in text


def test_a_worker_with_no_schedule_enqueues_nothing(db):
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-schedule", "--no-startup-delay", "--no-reload", stdout=io.StringIO())
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
    assert not PeriodicJobRun.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_the_prune_job_deletes_old_finished_jobs_and_schedule_rows_only(db):
    old = timezone.now() - dt.timedelta(days=20)
    very_old = timezone.now() - dt.timedelta(days=100)
    kept = []
    for status, finished in [
        (TaskResultStatus.SUCCESSFUL, old),  # deleted: successful, older than 14 days
        (TaskResultStatus.FAILED, old),  # kept: failed ones stay 90 days
        (TaskResultStatus.FAILED, very_old),  # deleted
        (TaskResultStatus.SUCCESSFUL, timezone.now()),  # kept: recent
        (TaskResultStatus.READY, None),  # kept: not finished
    ]:
        result = send_reminders_job.enqueue()
        DBTaskResult.objects.filter(pk=result.id).update(status=status, finished_at=finished)
        kept.append(result.id)
    PeriodicJobRun.objects.create(job="send_reminders", period_start=old)
    PeriodicJobRun.objects.create(job="send_reminders", period_start=timezone.now())
    assert prune_jobs_job.call() == {"periodic_runs_deleted": 1}
    assert set(map(str, DBTaskResult.objects.values_list("pk", flat=True))) == {kept[1], kept[3], kept[4]}
    assert PeriodicJobRun.objects.count() == 1
