from django.apps import AppConfig


class TherapyConfig(AppConfig):
    name = "therapy"
    verbose_name = "Therapy (courses, the safety check, the course schedule)"

    def ready(self) -> None:
        from patients.panels import Panel, register
        from therapy.selectors import patient_therapy

        register(Panel("therapy", "therapy/_patient_panel.html", patient_therapy, order=10))
