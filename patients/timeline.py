"""The patient timeline: dated clinical events from every app, in words, newest first.

A registry, like ``patients.panels``: each app that holds a kind of event (therapy: course events; monitoring:
alerts and symptom checks; patients itself: results, screening, assessments, medicines, risk profile) registers a
provider in its ``AppConfig.ready()``. A provider reads its events for one patient in a fixed number of queries and
returns plain ``TimelineEvent``s, so ``patients`` never imports the apps built on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The kinds of event, in words (the timeline's filter and its badges read these).
KINDS = {
    "record": "Record",
    "therapy": "Therapy",
    "lab": "Lab result",
    "alert": "Alert",
    "symptoms": "Symptom check",
    "screening": "Screening",
    "assessment": "Assessment",
    "medicine": "Medicine",
    "risk": "Risk profile",
}


@dataclass(frozen=True)
class TimelineEvent:
    on: dt.date
    kind: str  # a key of KINDS
    title: str  # "Abrocitinib started", "ALT 62 U/L (high)"
    detail: str = ""
    url: str = ""
    at: dt.datetime | None = None  # orders the events of one day; None sorts them after those with a time

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)


Provider = Callable[[Any, Any], list[TimelineEvent]]  # (patient, user) -> events
_PROVIDERS: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> Provider:
    _PROVIDERS[key] = provider
    return provider


def _order(event: TimelineEvent) -> tuple:
    at = event.at.timestamp() if event.at is not None else float("-inf")
    return (event.on, at, event.kind, event.title)


def events_for(patient, user) -> list[TimelineEvent]:
    """Every provider's events for the patient, newest first (by date, then time of recording)."""
    events: list[TimelineEvent] = []
    for key in sorted(_PROVIDERS):
        events.extend(_PROVIDERS[key](patient, user))
    events.sort(key=_order, reverse=True)
    return events
