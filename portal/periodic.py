"""Which period a moment falls in, for jobs that run every N minutes (plain Python, tested table by table).

Periods are aligned on the Unix epoch in UTC: every 30 minutes means :00 and :30 of each hour, every day means UTC
midnight. A periodic job is enqueued once per period (portal/jobs.py keys a row by job name and period start), so
two schedulers that look at the same moment agree on the period without talking to each other.
"""

from __future__ import annotations

import datetime as dt

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def period_start(now: dt.datetime, every: dt.timedelta) -> dt.datetime:
    """The start (UTC) of the period of length ``every`` that ``now`` (aware) falls in."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if every < dt.timedelta(seconds=1) or every.microseconds:
        raise ValueError(f"a period is a whole number of seconds, at least one; got {every}")
    elapsed = now.astimezone(dt.UTC) - EPOCH
    return EPOCH + every * (elapsed // every)


def next_period_start(now: dt.datetime, every: dt.timedelta) -> dt.datetime:
    """When the period after the one ``now`` falls in starts."""
    return period_start(now, every) + every
