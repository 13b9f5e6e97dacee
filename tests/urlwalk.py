"""Every URL of the project, with sample arguments, for tests that must cover all of them."""

from __future__ import annotations

import re
import uuid

from django.urls import URLPattern, URLResolver, get_resolver

SAMPLE = {"int": "1", "slug": "sample", "str": "sample", "uuid": str(uuid.UUID(int=1)), "path": "sample"}
_CONVERTER = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def _fill(route: str) -> str:
    return _CONVERTER.sub(lambda m: SAMPLE.get(m.group("conv") or "str", "sample"), route)


def all_urls(resolver=None, prefix: str = "/", namespace: str = "") -> list[tuple[str, str]]:
    """(qualified url name, sample path) for every named pattern, skipping the Django admin."""
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            ns = entry.namespace or ""
            found += all_urls(entry, prefix + _fill(route), f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((namespace + entry.name, prefix + _fill(route)))
    return found
