"""Python renderers for the course page (therapy/views.py), where the template cost was measured.

The course page shows up to three action forms (dose change, interrupt or resume, stop) through crispy-forms, and
rendering them cost about 3.5 of the page's 18 ms of CPU per request (bench/profile_page.py course, 10,000-patient
bench) although an unbound form's markup only changes with what it offers: its fields, their labels, initial values
(today's date, the course's row version) and choices (the catalogue's doses and analytes). ``form_html`` renders each
such state once per process with crispy itself, so the markup stays exactly crispy's; a bound form (one sent back
with its errors) is rendered afresh every time. The CSRF token is outside the form's markup (in the template).

``schedule_rows`` writes the monitoring schedule's rows (one per check, growing with the course) in Python: through the
template each row cost about 20 variable lookups and four date filters."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from typing import Any

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms
from django.template.defaultfilters import date
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from therapy.models import ScheduledItem

FORMS_KEPT = 256  # distinct form states kept per process (a few per course and day)
_kept: OrderedDict[tuple, SafeString] = OrderedDict()
_lock = threading.Lock()


def _choices(choices: Any) -> tuple:
    """Choices as plain strings (labels are often lazy translations), groups included."""
    return tuple(
        (str(value), _choices(label) if isinstance(label, list | tuple) else str(label)) for value, label in choices
    )


def form_state(form: forms.Form) -> tuple | None:
    """Everything an unbound form's markup is made from, or None when it is bound (its data and errors show)."""
    if form.is_bound or getattr(form, "helper", None) is not None:
        return None
    state: list[Any] = [type(form).__module__, type(form).__qualname__, form.prefix, form.auto_id, form.label_suffix]
    for bound in form:
        field, widget = bound.field, bound.field.widget
        state.append(
            (
                bound.name,
                str(bound.label),
                str(field.help_text),
                field.required,
                field.disabled,
                type(widget),
                tuple(sorted((key, str(value)) for key, value in widget.attrs.items())),
                repr(bound.value()),
                _choices(getattr(field, "choices", ())),
            )
        )
    return tuple(state)


def form_html(form: forms.Form) -> SafeString:
    """``{{ form|crispy }}``, kept per unbound form state (see the module's docstring)."""
    key = form_state(form)
    if key is None:
        return as_crispy_form(form)
    html = _kept.get(key)
    if html is None:
        html = as_crispy_form(form)
        with _lock:
            _kept[key] = html
            while len(_kept) > FORMS_KEPT:
                _kept.popitem(last=False)
    return html


# One row of the course page's monitoring schedule, laid out as the template wrote it.
_SCHEDULE_ROW = (
    '\n      <tr class="{}">\n        <td>{}</td>\n        <td class="small">{} – {}</td>\n        <td>{}</td>\n'
    '        <td class="small">{}<br><span class="text-body-secondary">{} {}</span>{}</td>\n'
    "        <td>{}{}{}</td>\n      </tr>"
)
_NO_CHECKS = mark_safe('<tr><td colspan="5">No checks scheduled.</td></tr>')
_UNCONFIRMED = mark_safe(' <span class="badge text-bg-warning">Unconfirmed</span>')
_SMALL = '<div class="small">{}</div>'


@functools.lru_cache(maxsize=4096)
def _date(value, fmt: str, language: str | None) -> str:
    """Django's ``|date`` filter, once per date, format and language: a schedule repeats its dates, and each format
    call looks up the month name's translation."""
    return date(value, fmt)


def _day(value, fmt: str = "j M Y") -> str:
    return _date(value, fmt, get_language())


@functools.lru_cache(maxsize=64)
def _status_label(status: str, language: str | None) -> str:
    """``item.get_status_display()``, once per status and language (that method rebuilds its choices each call)."""
    return str(dict(ScheduledItem.Status.choices).get(status, status))


def _schedule_cells(item) -> tuple:
    """``item``: a ``ScheduledItem`` from ``selectors.course_page`` (with ``check_label`` and ``done_by_record``)."""
    done = item.done_by_record
    return (
        "text-body-secondary" if item.status != "open" or done else "",
        _day(item.due_date),
        _day(item.earliest, "j M") if item.earliest else "before",
        _day(item.latest),
        item.check_label,
        item.reason,
        item.rule,
        item.source,
        _UNCONFIRMED if item.unconfirmed else "",
        format_html("Done" + _SMALL, done) if done else _status_label(item.status, get_language()),
        format_html(_SMALL, item.cancel_reason) if item.cancel_reason else "",
        format_html(_SMALL, _day(item.completed_on)) if item.completed_on else "",
    )


def schedule_rows(schedule) -> SafeString:
    """The rows of the course page's schedule table (escaped by ``format_html_join``)."""
    if not schedule:
        return _NO_CHECKS
    return format_html_join("", _SCHEDULE_ROW, (_schedule_cells(item) for item in schedule))
