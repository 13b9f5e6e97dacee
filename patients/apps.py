from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patient records"

    def ready(self) -> None:
        from patients.home import patient_sections
        from portal.home import register

        register(patient_sections)
