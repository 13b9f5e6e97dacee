from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<uuid:public_id>/", views.patient_detail, name="detail"),
    path("<uuid:public_id>/timeline/", views.patient_timeline, name="timeline"),
    path("<uuid:public_id>/edit/", views.patient_edit, name="edit"),
    path("<uuid:public_id>/risk/", views.risk_profile_edit, name="risk"),
    path("<uuid:public_id>/medicines/", views.medicines, name="medicines"),
    path("<uuid:public_id>/medicines/<int:pk>/stop/", views.medicine_stop, name="medicine_stop"),
    path("<uuid:public_id>/screening/", views.screening_record, name="screening"),
    path("<uuid:public_id>/assessments/new/", views.assessment_create, name="assessment_create"),
]
