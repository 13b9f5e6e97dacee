"""`manage.py db_worker`: django-tasks-db's worker, plus the scheduler that enqueues the periodic jobs.

This command replaces the library's one of the same name (portal comes first in INSTALLED_APPS) and keeps all of
its options: it starts ``portal.jobs.Scheduler`` in a thread, then runs the library's worker loop unchanged. Every
worker may schedule (the unique PeriodicJobRun key lets one of them enqueue each period), so any number of workers
need no extra process; ``--no-schedule`` leaves a worker out. With ``--batch`` (run what is ready, then exit) it
enqueues what is due once first, so a cron line can stand in for a long-running worker. SIGTERM or SIGINT stops
it gracefully: the library finishes the task it is running, then the scheduler thread is stopped.
"""

from __future__ import annotations

import os
from typing import Any

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as LibraryWorkerCommand

from portal.jobs import SCHEDULE_CHECK_SECONDS, Scheduler, jobs_schedule_due


class Command(LibraryWorkerCommand):
    help = "Run background jobs (django-tasks-db worker) and enqueue the periodic ones (README 'Jobs')."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--no-schedule",
            action="store_false",
            dest="schedule",
            help="Do not enqueue the periodic jobs from this worker (another worker does).",
        )
        parser.add_argument(
            "--schedule-interval",
            type=float,
            default=SCHEDULE_CHECK_SECONDS,
            help=f"Seconds between two looks for a periodic job that is due (default {SCHEDULE_CHECK_SECONDS:g}).",
        )

    def handle(self, **options: Any) -> None:
        schedule = options.pop("schedule", True)
        schedule_interval = options.pop("schedule_interval", SCHEDULE_CHECK_SECONDS)
        # With --reload the parent process only restarts the child; the child (which has the variable) schedules.
        reloader_parent = options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        if schedule and options["batch"]:
            jobs_schedule_due()  # --batch (from cron): enqueue what is due once, then run everything ready
        scheduler = Scheduler(schedule_interval) if schedule and not reloader_parent and not options["batch"] else None
        if scheduler is not None:
            scheduler.start()
        try:
            super().handle(**options)
        finally:
            if scheduler is not None:
                scheduler.stop()
