from django.apps import AppConfig


class TherapyConfig(AppConfig):
    name = "therapy"
    verbose_name = "Therapy (courses, the safety check, the course schedule)"

    def ready(self) -> None:
        from patients.panels import Panel, register
        from patients.services import register_screening_listener
        from patients.timeline import register as register_timeline
        from therapy.selectors import patient_therapy
        from therapy.services import record_checks_sync
        from therapy.timeline import course_timeline_events

        register(Panel("therapy", "therapy/_patient_panel.html", patient_therapy, order=10))
        register_timeline("therapy", course_timeline_events)
        register_screening_listener(record_checks_sync)
