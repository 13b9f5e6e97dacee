"""Background jobs (README "Jobs") on the django-tasks database backend: periodic scheduling, retries, queue gauges.

The queue is the ``django_tasks_db`` table in the portal's own database, so it needs no extra server. Jobs are
``@task()`` functions (``portal.tasks``, ``monitoring.tasks``); ``manage.py db_worker`` runs them. What this module
adds to the library, which has neither:

- **Periodic jobs.** An app registers a task with ``register_periodic(name, task, every=...)`` in its
  ``AppConfig.ready()`` (monitoring registers the reminders without portal importing it). ``jobs_schedule_due``
  enqueues each one at most once per period: it inserts a ``PeriodicJobRun`` keyed by (job, period start), unique,
  and the task in the same transaction, so of several workers' schedulers looking at the same moment one inserts
  and the others get the unique key's IntegrityError and enqueue nothing. The portal's ``db_worker`` runs it every
  few seconds in a thread (``Scheduler``); no cron, no beat server. A period missed while no worker ran is not
  caught up: the next run covers it (the jobs look at the state of the records, not at the clock).
- **Retries with backoff.** django-tasks-db marks a task that raised FAILED and never runs it again. For a task
  registered with ``retry_with_backoff``, the ``task_finished`` handler below puts that same row back to READY with
  ``run_after`` = now + ``portal.backoff.retry_delay(attempts)`` (1 minute, 5, 30, 2 hours, 6 hours: the outbox's
  backoff), keeping the last exception on the row; after the sixth failed attempt it stays FAILED and an ERROR is
  logged. ``attempts`` is the library's own count (one worker id per run). The jobs are idempotent (the outbox's
  dedupe keys), so running one again never sends twice.
- **Gauges** for /metrics: the queue by state, the age of the oldest job waiting for a worker, and when each
  periodic job was last enqueued (a stopped scheduler shows there, not in the queue depth).

Logs name jobs and exception classes only, never arguments or messages (no patient data in logs).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction
from django.db.models import Case, Count, DateTimeField, F, Max, Min, Q, When
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import TaskResult, TaskResultStatus
from django_tasks.base import Task
from django_tasks_db.compat import task_finished  # the signal the worker sends (django.tasks on Django 6)
from django_tasks_db.models import DBTaskResult, get_date_max

from portal.backoff import MAX_ATTEMPTS, retry_delay
from portal.models import PeriodicJobRun
from portal.periodic import period_start

logger = logging.getLogger(__name__)

# How often each worker's scheduler thread looks for a periodic job whose period began (seconds).
SCHEDULE_CHECK_SECONDS = 10.0


# --- Periodic jobs ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Task
    every: dt.timedelta


_PERIODIC: dict[str, PeriodicJob] = {}


def register_periodic(name: str, task: Task, *, every: dt.timedelta) -> None:
    """Enqueue ``task`` (no arguments) once every ``every``; registering the same name again replaces it."""
    period_start(timezone.now(), every)  # refuses a period that is not a whole number of seconds
    _PERIODIC[name] = PeriodicJob(name, task, every)


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_PERIODIC.values(), key=lambda job: job.name)


def jobs_schedule_due(*, now: dt.datetime | None = None) -> list[str]:
    """Enqueue each periodic job not yet enqueued for the period ``now`` falls in; the names of those enqueued.

    Safe to run in any number of processes at once (see the module docstring). Each job commits on its own, so one
    that cannot be enqueued does not hold back the others."""
    now = now or timezone.now()
    enqueued = []
    for job in periodic_jobs():
        start = period_start(now, job.every)
        if PeriodicJobRun.objects.filter(job=job.name, period_start=start).exists():
            continue
        try:
            with transaction.atomic():
                run = PeriodicJobRun.objects.create(job=job.name, period_start=start, enqueued_at=now)
                result = job.task.enqueue()
                run.task_id = str(result.id)
                run.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # another scheduler enqueued it for this period a moment ago
        logger.info("jobs: enqueued %s for the period from %s", job.name, start.isoformat())
        enqueued.append(job.name)
    return enqueued


class Scheduler(threading.Thread):
    """Runs ``jobs_schedule_due`` every ``interval`` seconds, on its own database connection, until ``stop()``.

    A daemon thread: a worker stopped while it sleeps exits at once; a schedule being written is rolled back with
    the connection (``stop()`` waits for it when the worker stops gracefully)."""

    def __init__(self, interval: float = SCHEDULE_CHECK_SECONDS) -> None:
        super().__init__(name="jak-portal-scheduler", daemon=True)
        self.interval = interval
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                close_old_connections()
                try:
                    jobs_schedule_due()
                except DatabaseError as exc:  # the database is away: try again at the next check
                    logger.warning("jobs: could not enqueue the periodic jobs (%s)", exc.__class__.__name__)
                self._halt.wait(self.interval)
        finally:
            connection.close()

    def stop(self, timeout: float = 10.0) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout)


# --- Retries with backoff --------------------------------------------------------------------------------------------

_RETRYING: set[str] = set()


def retry_with_backoff(task: Task) -> Task:
    """Mark ``task`` to be run again with backoff when it raises (decorate above ``@task()``). Only for idempotent
    jobs: an attempt may have done part of its work before it failed."""
    _RETRYING.add(task.module_path)
    return task


def _exception_name(task_result: TaskResult) -> str:
    if not task_result.errors:
        return "unknown error"
    return task_result.errors[-1].exception_class_path.rsplit(".", 1)[-1]


@receiver(task_finished, dispatch_uid="portal.jobs.retry_failed_task")
def retry_failed_task(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    """A retrying task that failed: back to READY after the backoff delay, or, after the last attempt, left FAILED
    with an ERROR in the log. Never raises: the worker sends this signal from its own error handler."""
    try:
        if task_result.status != TaskResultStatus.FAILED or task_result.task.module_path not in _RETRYING:
            return
        if getattr(task_result, "db_result", None) is None:
            return  # not the database backend (the immediate one in a test): there is no row to run again
        name, attempts, error = task_result.task.name, len(task_result.worker_ids), _exception_name(task_result)
        delay = retry_delay(max(attempts, 1))
        if delay is None:
            logger.error("jobs: %s gave up after %d attempts (%s); task %s", name, attempts, error, task_result.id)
            return
        again = DBTaskResult.objects.filter(pk=task_result.id, status=TaskResultStatus.FAILED).update(
            status=TaskResultStatus.READY, run_after=timezone.now() + delay, finished_at=None
        )
        if again:
            logger.warning(
                "jobs: %s failed (%s), attempt %d of %d; next try in %s", name, error, attempts, MAX_ATTEMPTS, delay
            )
    except Exception:  # noqa: BLE001  a failing handler would stop the worker; the task stays FAILED, visibly
        logger.exception("jobs: could not schedule a retry of task %s", task_result.id)


# --- Gauges for /metrics ---------------------------------------------------------------------------------------------

JOB_STATES = ("ready", "waiting", "running", "failed")


def _ready(now: dt.datetime) -> Q:
    """As ``DBTaskResult.objects.ready()``: READY, and not deferred to later (the library stores "no run_after" as
    the year 9999)."""
    return Q(status=TaskResultStatus.READY) & (Q(run_after=get_date_max()) | Q(run_after__lte=now))


def job_queue_depth() -> Mapping[tuple[str, ...], float]:
    """Jobs by state, in one query: ready (a worker may take it now), waiting (deferred: a retry after its backoff),
    running, failed (kept until ``prune_db_task_results`` removes it). Successful ones are not counted."""
    now = timezone.now()
    counts = DBTaskResult.objects.aggregate(
        ready=Count("id", filter=_ready(now)),
        waiting=Count("id", filter=Q(status=TaskResultStatus.READY, run_after__gt=now) & ~Q(run_after=get_date_max())),
        running=Count("id", filter=Q(status=TaskResultStatus.RUNNING)),
        failed=Count("id", filter=Q(status=TaskResultStatus.FAILED)),
    )
    return {(state,): float(counts[state]) for state in JOB_STATES}


def job_oldest_ready_age() -> Mapping[tuple[str, ...], float]:
    """Seconds the oldest ready job has waited for a worker since it became due (0 when none waits), one query."""
    now = timezone.now()
    due_since = Case(
        When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"), output_field=DateTimeField()
    )
    oldest = DBTaskResult.objects.filter(_ready(now)).aggregate(oldest=Min(due_since))["oldest"]
    return {(): max((now - oldest).total_seconds(), 0.0) if oldest else 0.0}


def periodic_last_enqueued() -> Mapping[tuple[str, ...], float]:
    """When each registered periodic job was last enqueued (Unix time; 0: never), one query."""
    last = dict(PeriodicJobRun.objects.order_by().values_list("job").annotate(at=Max("enqueued_at")))
    return {(job.name,): last[job.name].timestamp() if job.name in last else 0.0 for job in periodic_jobs()}
