"""The navigation bar: each entry shows only to users holding its permission (None = every signed-in user)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


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


def nav_for(user, current_path: str) -> list[dict]:
    if not user.is_authenticated:
        return []
    items = []
    for item in NAV_ITEMS:
        if item.superuser_only and not user.is_superuser:
            continue
        if item.permission and not user.has_perm(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"label": item.label, "url": url, "active": active})
    return items
