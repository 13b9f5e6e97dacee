from django.urls import path

from interfaces.fhir import views

app_name = "fhir"
urlpatterns = [
    path("metadata", views.metadata_view, name="metadata"),
    # <str:…>, not <uuid:…>: a malformed id is answered with an OperationOutcome 404, not the HTML one.
    path("Patient/<str:public_id>/$everything", views.patient_everything, name="patient_everything"),
]
