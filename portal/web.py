"""Small pieces every view layer needs: query-string integers, the GET/POST decorator, paging without COUNT(*),
and putting a service's refusal onto a form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, overload

from django import forms
from django.views.decorators.http import require_http_methods

from portal.errors import DomainError

MAX_QUERY_INT = 2**31 - 1  # page numbers and ids from the query string: larger ones are nobody's

require_get_post = require_http_methods(["GET", "POST"])


@overload
def query_int(value: Any, default: int) -> int: ...
@overload
def query_int(value: Any, default: None = None) -> int | None: ...
def query_int(value: Any, default: int | None = None) -> int | None:
    """A whole number from 1 to 2**31-1 typed in the query string, else ``default``.

    Anything else (empty, text, signs, spaces, decimals, zero, negative or absurdly large) is ignored instead of
    reaching the database, where a value beyond 64 bits is an OverflowError or a datatype mismatch (HTTP 500)."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 10:
        return default
    number = int(value)
    return number if 0 < number <= MAX_QUERY_INT else default


@dataclass
class ListPage:
    """A page without COUNT(*): fetch one row more than the page to know whether a next page exists."""

    number: int
    rows: list = field(default_factory=list)
    has_next: bool = False

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


def page_of(qs, page: int | None, size: int) -> ListPage:
    """Page ``page`` (1 when absent or below 1) of ``qs``, ``size`` rows, with ``has_next`` from one extra row."""
    number = max(1, page or 1)
    start = (number - 1) * size
    rows = list(qs[start : start + size + 1])
    return ListPage(number=number, rows=rows[:size], has_next=len(rows) > size)


def page_of_ids(ids, rows, page: int | None, size: int) -> ListPage:
    """``page_of`` for a list whose page is cheap to choose but costly to read: ``ids`` (an ordered queryset of
    primary keys, e.g. ``values("pk")``) chooses the page in a subquery; ``rows`` (the same ordering) reads only
    those rows, with their joins. One query. Measured on the alert inbox: sorting every open alert with ten joins
    took the database three times as long as choosing the page first."""
    number = max(1, page or 1)
    start = (number - 1) * size
    found = list(rows.filter(pk__in=ids[start : start + size + 1]))
    return ListPage(number=number, rows=found[:size], has_next=len(found) > size)


def add_service_error(form: forms.BaseForm, exc: DomainError) -> None:
    """Show a service's refusal on the form: on its field when the form has that field, else above the form."""
    field_name = exc.field if exc.field in form.fields else None
    form.add_error(field_name, str(exc))
