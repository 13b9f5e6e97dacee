from django.apps import AppConfig


class DrugsConfig(AppConfig):
    name = "drugs"
    verbose_name = "Drug catalogue"

    def ready(self) -> None:
        from drugs import home  # noqa: F401  (registers the home-page sections)
