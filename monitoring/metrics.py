"""The open-alerts gauge for /metrics (portal/metrics.py), registered in MonitoringConfig.ready()."""

from __future__ import annotations

from django.db.models import Count

from monitoring.models import Alert

SEVERITY_LABELS = {severity.value: severity.name.lower() for severity in Alert.Severity}  # urgent, same_day, routine


def open_alerts_by_severity() -> dict[tuple[str, ...], float]:
    """Open alerts of every clinic, by severity, in one query; a severity without open alerts is 0."""
    counts: dict[tuple[str, ...], float] = {(label,): 0.0 for label in SEVERITY_LABELS.values()}
    rows = Alert.objects.filter(status=Alert.Status.OPEN).order_by().values_list("severity").annotate(n=Count("id"))
    for severity, n in rows:
        counts[(SEVERITY_LABELS[severity],)] = float(n)
    return counts
