from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"

    def ready(self) -> None:
        from monitoring.home import monitoring_sections
        from portal.home import register

        register(monitoring_sections)
