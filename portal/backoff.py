"""When to try a failed email again: exponential backoff, then give up (plain Python, tested table by table)."""

from __future__ import annotations

import datetime as dt

# The wait after the 1st, 2nd, ... failed attempt. After the last one the email is marked failed.
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=6),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1  # 6 attempts over about 8.5 hours


def retry_delay(attempts: int) -> dt.timedelta | None:
    """How long to wait after ``attempts`` failed attempts (1 or more) before the next, or None to give up."""
    if attempts < 1:
        raise ValueError(f"attempts counts failed attempts and starts at 1, got {attempts}")
    if attempts >= MAX_ATTEMPTS:
        return None
    return RETRY_DELAYS[attempts - 1]
