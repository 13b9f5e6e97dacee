from django.apps import AppConfig


class InterfacesConfig(AppConfig):
    name = "interfaces"
    verbose_name = "Interfaces (HL7 v2, FHIR, CDS Hooks)"
