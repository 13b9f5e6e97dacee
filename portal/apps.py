from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal (accounts, roles, audit)"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal.roles import sync_roles_after_migrate
        from portal.security import checks, signals  # noqa: F401  (deploy checks; auth events go to the audit log)

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="portal.sync_roles")
