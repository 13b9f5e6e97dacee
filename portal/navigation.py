"""The navigation bar: each entry shows only to users holding its permission (None = every signed-in user)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.urls import NoReverseMatch, get_script_prefix, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None = None
    superuser_only: bool = False


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Home", "portal:home"),
    NavItem("Patients", "patients:list", permission="patients.view_patient"),
    NavItem("Worklist", "monitoring:worklist", permission="therapy.view_scheduleditem"),
    NavItem("Alerts", "monitoring:alerts", permission="monitoring.view_alert"),
    NavItem("Lab inbox", "hl7v2:inbox", permission="patients.add_labresult"),  # HL7 v2 results for no patient
    NavItem("Drug catalogue", "drugs:list", permission="drugs.view_drug"),
    NavItem("Clinic settings", "portal:clinic_settings", permission="portal.change_clinic"),
    NavItem("Audit trail", "portal:audit", superuser_only=True),
    NavItem("Locked log-ins", "portal:unlock", superuser_only=True),
    NavItem("Django admin", "admin:index", superuser_only=True),
)


@functools.cache
def _url_of(url_name: str, prefix: str) -> str | None:
    """An entry's address, once per process and script prefix (the entries take no arguments): a ``reverse`` per
    entry on every page was most of the bar's cost (bench/profile_page.py). None: not in this build's URLs."""
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def nav_for(user, current_path: str) -> list[dict]:
    if not user.is_authenticated:
        return []
    items = []
    for item in NAV_ITEMS:
        if item.superuser_only and not user.is_superuser:
            continue
        if item.permission and not user.has_perm(item.permission):
            continue
        url = _url_of(item.url_name, get_script_prefix())
        if url is None:
            continue
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"label": item.label, "url": url, "active": active})
    return items
