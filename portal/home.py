"""What waits for each role on the home page.

Each app registers a provider: a function (user) -> list of HomeSection. Providers read through the apps'
selectors, so the home page stays one place that shows each person only what needs their action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HomeItem:
    label: str
    url: str
    count: int | None = None
    urgent: bool = False


@dataclass(frozen=True)
class HomeSection:
    title: str
    items: list[HomeItem] = field(default_factory=list)
    empty_text: str = "Nothing waits for you here."


Provider = Callable[[object], list[HomeSection]]
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def sections_for(user) -> list[HomeSection]:
    sections: list[HomeSection] = []
    for provider in _PROVIDERS:
        sections.extend(provider(user))
    return sections
