"""Rows read once per request: the patient page's panels, trends and timeline all need the same lists of one record
(its assessments, screening, medicines, course events, symptom checks). Each selector that reads such a list asks
``rows_once(record, key, load)``; the first caller runs the query, later callers in the same request get the same
list. The memo lives on the model instance, so it ends with the request that loaded the instance, and a write never
goes through it (services read the database themselves)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
_ATTR = "_rows_once"


def rows_once(record: Any, key: str, load: Callable[[], Iterable[T]]) -> list[T]:
    memo = record.__dict__.setdefault(_ATTR, {})
    if key not in memo:
        memo[key] = list(load())
    return memo[key]


def forget_rows(record: Any) -> None:
    """Drop what was read, e.g. after a write in the same request."""
    record.__dict__.pop(_ATTR, None)
