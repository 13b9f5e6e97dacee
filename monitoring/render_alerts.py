"""The alert inbox's list items, built in Python.

Measured on the bench (bench/profile_page.py alerts, 25 alerts a page): the template loop over the alerts (about
30 variable lookups and two date filters per alert) was most of the page's CPU time. The page's structure stays in
templates/monitoring/alert_inbox.html; only the items are built here, every value escaped by ``format_html``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import dateformat, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from monitoring.selectors import InboxAlert

SHOWN_AT = "j M Y H:i"  # the template's |date:"j M Y H:i"
FOR_ANYONE = "anyone at the clinic (no active dermatologist on this patient)"


def _at(value: dt.datetime | None) -> str:
    return dateformat.format(timezone.localtime(value), SHOWN_AT) if value is not None else ""


def _for(alert: InboxAlert, scope: str) -> SafeString | str:
    return format_html(" · for {}", alert.for_user or FOR_ANYONE) if scope == "clinic" else ""


def _acknowledged(alert: InboxAlert) -> SafeString | str:
    if not alert.acknowledged:
        return ""
    action = format_html(" ({})", alert.action_label) if alert.action_label else ""
    return format_html(
        '<div class="small mt-1">Acknowledged by {} {}{}: “{}”</div>',
        alert.acknowledged_by,
        _at(alert.acknowledged_at),
        action,
        alert.comment,
    )


def alert_items_html(alerts: Iterable[InboxAlert], *, scope: str) -> SafeString:
    """The ``<li>`` of each alert: severity, title (linked), when and whether escalated, the patient, the course,
    whom it is for (the clinic list only), why, what to do, and the acknowledgement."""
    return format_html_join(
        "\n",
        '<li class="list-group-item alert-row alert-sev-{}">'
        '<div class="d-flex flex-wrap justify-content-between gap-2">'
        '<span><span class="badge alert-badge alert-sev-{}">{}</span> <a href="{}">{}</a></span>'
        '<span class="small">{}{}</span></div>'
        '<div class="small">{}{}{}</div>'
        '<div class="small mt-1"><strong>Why:</strong> {}</div>'
        '<div class="small"><strong>What to do:</strong> {}</div>'
        "{}</li>",
        (
            (
                alert.severity,
                alert.severity,
                alert.severity_label,
                alert.url,
                alert.title,
                _at(alert.created_at),
                format_html(" · <strong>{}</strong>", "escalated") if alert.escalated else "",
                alert.patient,
                format_html(" · {}", alert.course) if alert.course else "",
                _for(alert, scope),
                alert.reason,
                alert.advice,
                _acknowledged(alert),
            )
            for alert in alerts
        ),
    )
