"""What monitoring shows on the home page: checks due for nurses (and a link to the clinic's alerts), unacknowledged
urgent alerts for dermatologists."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from monitoring import selectors as sel
from portal.home import HomeItem, HomeSection


def monitoring_sections(user) -> list[HomeSection]:
    sections = []
    if user.has_perm("monitoring.change_alert"):
        alerts = sel.urgent_open_alerts(user)
        items = [
            HomeItem(
                f"URGENT · {a.patient.record_number}: {a.title}"
                + ("" if a.for_user_id else " (no active dermatologist on this patient)"),  # type: ignore[attr-defined]  # annotated by recipients.with_recipient
                a.get_absolute_url(),
                urgent=True,
            )
            for a in alerts
        ]
        items.append(HomeItem("All your alerts", reverse("monitoring:alerts")))
        sections.append(HomeSection("Urgent alerts waiting for you", items, "No urgent alerts."))
    if user.has_perm("therapy.view_scheduleditem") and user.clinic_id is not None:
        counts = sel.worklist_counts(user, timezone.localdate())
        url = reverse("monitoring:worklist")
        items = [
            HomeItem("Overdue checks", f"{url}?window=overdue", count=counts["overdue"]),
            HomeItem("Checks due today", f"{url}?window=today", count=counts["today"]),
            HomeItem("Open the worklist", url),
        ]
        if user.has_perm("patients.add_labresult"):
            items.append(HomeItem("Upload lab results (CSV)", reverse("monitoring:lab_upload")))
        if user.has_perm("monitoring.view_alert") and not user.has_perm("monitoring.change_alert"):
            items.append(HomeItem("Alerts of your clinic", reverse("monitoring:alerts")))
        sections.append(HomeSection("Monitoring worklist", items))
    return sections
