"""URLs of many objects of one kind, built from one ``reverse``: a list page links each row to its patient or
course, and a ``reverse`` per row (or ``{% url %}`` / ``get_absolute_url`` in the template) was a measurable share
of the worklist's time (bench/profile_page.py). The result is the string ``reverse`` gives."""

from __future__ import annotations

import functools
import uuid

from django.urls import get_script_prefix, reverse

_MARK = uuid.UUID(int=0x5EED)


@functools.cache
def _parts(name: str, prefix: str) -> tuple[str, str]:
    path = reverse(name, args=[_MARK])
    head, mark, tail = path.partition(str(_MARK))
    if not mark:
        raise ValueError(f"{name} does not take one public id")
    return head, tail


def id_url(name: str, public_id: uuid.UUID | str) -> str:
    """``reverse(name, args=[public_id])`` for a URL whose one argument is a public id (a UUID)."""
    head, tail = _parts(name, get_script_prefix())
    return f"{head}{public_id}{tail}"
