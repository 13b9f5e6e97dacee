"""A job for the worker tests (a worker subprocess imports it by its path)."""

import time

from django_tasks import task


@task()
def slow_job(seconds: float) -> str:
    time.sleep(seconds)
    return "finished"
