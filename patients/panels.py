"""Sections of the patient page that other apps own (therapy, monitoring): a registry, twin of ``portal.home``.

An app registers a ``Panel`` in its ``AppConfig.ready()``: a template and a function (patient, user) -> context.
The patient page renders the panels in ``order`` after the record's header, so ``patients`` never imports the
apps that build on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable[[Any, Any], dict[str, Any]]  # (patient, user) -> the template's context
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register(panel: Panel) -> Panel:
    _PANELS[panel.key] = panel
    return panel


def panels_for(patient, user) -> tuple[list[str], dict[str, Any]]:
    """The panel templates in page order and the context they read, merged."""
    context: dict[str, Any] = {}
    templates = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        context.update(panel.context(patient, user))
        templates.append(panel.template)
    return templates, context
