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


Provider = Callable[..., list[TimelineEvent]]  # (patient, user) -> events; (patient, user, newest=N) if it can
_PROVIDERS: dict[str, Provider] = {}
_TAKES_NEWEST: set[str] = set()


def register(key: str, provider: Provider, *, takes_newest: bool = False) -> Provider:
    """``takes_newest``: the provider accepts ``newest=N`` and may then leave out events older than its N newest
    (a large record's lab results, when the patient page shows only the newest events)."""
    _PROVIDERS[key] = provider
    if takes_newest:
        _TAKES_NEWEST.add(key)
    return provider


def _order(event: TimelineEvent) -> tuple:
    at = event.at.timestamp() if event.at is not None else float("-inf")
    return (event.on, at, event.kind, event.title)


def events_for(patient, user, newest: int | None = None) -> list[TimelineEvent]:
    """Every provider's events for the patient, newest first (by date, then time of recording); only the
    ``newest`` first when given."""
    events: list[TimelineEvent] = []
    for key in sorted(_PROVIDERS):
        if newest is not None and key in _TAKES_NEWEST:
            events.extend(_PROVIDERS[key](patient, user, newest=newest))
        else:
            events.extend(_PROVIDERS[key](patient, user))
    events.sort(key=_order, reverse=True)
    return events if newest is None else events[:newest]
