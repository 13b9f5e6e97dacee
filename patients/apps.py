from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patient records"

    def ready(self) -> None:
        from patients.home import patient_sections
        from patients.selectors import PATIENT_OBJECT_TYPE, patient_change_words, record_timeline_events
        from patients.timeline import register as register_timeline
        from portal.audit import register_field_words
        from portal.home import register

        register(patient_sections)
        register_timeline("patients", record_timeline_events, takes_newest=True)
        register_field_words(PATIENT_OBJECT_TYPE, patient_change_words)
