"""The portal's background jobs (README "Jobs"): email delivery and pruning the job history.

Registered as periodic jobs in ``PortalConfig.ready()``; ``manage.py db_worker`` runs them. Each returns counts
only (stored as the task's result), never an address, a subject or a body.
"""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

from portal.models import PeriodicJobRun
from portal.outbox import outbox_deliver

DELIVER_EVERY = dt.timedelta(minutes=1)
PRUNE_EVERY = dt.timedelta(days=1)
KEEP_SUCCESSFUL_DAYS = 14
KEEP_FAILED_DAYS = 90


@task()
def deliver_email_job(limit: int = 500) -> dict:
    """Send the due emails of the outbox (what `manage.py deliver_email` does). No job-level retry: a failed email
    is retried by the outbox with its own backoff, and the next minute's run is this job's retry."""
    report = outbox_deliver(limit=limit)
    return {"sent": len(report.sent), "retrying": len(report.retrying), "failed": len(report.failed)}


@task()
def prune_jobs_job() -> dict:
    """Delete finished jobs (successful after 14 days, failed after 90, with django-tasks-db's own command) and the
    periodic-run rows older than 14 days."""
    call_command(
        "prune_db_task_results",
        min_age_days=KEEP_SUCCESSFUL_DAYS,
        failed_min_age_days=KEEP_FAILED_DAYS,
        verbosity=0,
    )
    cutoff = timezone.now() - dt.timedelta(days=KEEP_SUCCESSFUL_DAYS)
    deleted, _ = PeriodicJobRun.objects.filter(period_start__lt=cutoff).delete()
    return {"periodic_runs_deleted": deleted}
