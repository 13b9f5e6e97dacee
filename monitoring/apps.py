from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        from monitoring.home import monitoring_sections
        from monitoring.selectors import patient_monitoring
        from patients.panels import Panel, register
        from portal.home import register as register_home

        register_home(monitoring_sections)
        register(Panel("monitoring", "monitoring/_patient_panel.html", patient_monitoring, order=20))
