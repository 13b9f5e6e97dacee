from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal (accounts, roles, audit)"

    def ready(self) -> None:
        from portal import signals  # noqa: F401  (auth events go to the audit log)
