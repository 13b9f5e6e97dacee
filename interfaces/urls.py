"""The machine interfaces' addresses (README "Interfaces"). Each sub-package owns its own patterns."""

from django.urls import include, path

urlpatterns = [
    path("interfaces/hl7v2/", include("interfaces.hl7v2.urls")),
    path("fhir/R4/", include("interfaces.fhir.urls")),
    path("cds-services", include("interfaces.cds.urls")),
]
