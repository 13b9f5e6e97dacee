from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        from monitoring.home import monitoring_sections
        from monitoring.metrics import open_alerts_by_severity
        from monitoring.render import patient_panel
        from monitoring.selectors import open_alert_facts
        from monitoring.tasks import REMINDERS_EVERY, send_reminders_job
        from monitoring.timeline import monitoring_timeline_events
        from patients.panels import Panel, register
        from patients.timeline import register as register_timeline
        from portal.home import register as register_home
        from portal.jobs import register_periodic
        from portal.metrics import register_gauge
        from therapy.selectors import register_alert_source

        register_home(monitoring_sections)
        register_alert_source(open_alert_facts)
        register(Panel("monitoring", "monitoring/_patient_panel.html", patient_panel, order=20))
        register_timeline("monitoring", monitoring_timeline_events)
        register_gauge("portal_open_alerts", "Open alerts by severity.", ["severity"], open_alerts_by_severity)
        register_periodic("send_reminders", send_reminders_job, every=REMINDERS_EVERY)
