from django.urls import path, re_path

from interfaces.fhir import views

app_name = "fhir"
urlpatterns = [
    path("metadata", views.metadata_view, name="metadata"),
    # <str:…>, not <uuid:…>: a malformed id is answered with an OperationOutcome 404, not the HTML one.
    path("Patient/<str:public_id>/$everything", views.patient_everything, name="patient_everything"),
    # Last: any other address under the FHIR base is answered as FHIR (an OperationOutcome), not the HTML 404.
    re_path(r"^(?P<rest>.*)$", views.not_supported, name="not_supported"),
]
