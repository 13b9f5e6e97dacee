"""Monitoring pages that belong to one patient (lab entry, symptom check), under /patients/<id>/."""

from django.urls import path

from monitoring import views_monitoring as views

app_name = "patient_monitoring"
urlpatterns = [
    path("patients/<uuid:public_id>/labs/new/", views.lab_entry, name="labs"),
    path("patients/<uuid:public_id>/labs/saved/", views.lab_saved, name="labs_saved"),
    path("patients/<uuid:public_id>/symptoms/new/", views.symptom_check, name="symptoms"),
]
