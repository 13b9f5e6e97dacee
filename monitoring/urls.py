from django.urls import path

from monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("patients/<uuid:public_id>/labs/new/", views.lab_entry, name="lab_entry"),
    path("patients/<uuid:public_id>/labs/saved/", views.lab_saved, name="lab_saved"),
    path("patients/<uuid:public_id>/labs/", views.results_table, name="results_table"),
    path("patients/<uuid:public_id>/labs/<slug:analyte>/history/", views.lab_history, name="lab_history"),
    path("patients/<uuid:public_id>/symptoms/new/", views.symptom_check, name="symptom_check"),
    path("monitoring/worklist/", views.worklist, name="worklist"),
    path("monitoring/worklist/contacts/", views.worklist_contacts, name="worklist_contacts"),
    path("monitoring/worklist/export/", views.worklist_export, name="worklist_export"),
    path("monitoring/items/<uuid:public_id>/done/", views.item_done, name="item_done"),
    path("monitoring/labs/upload/", views.lab_upload, name="lab_upload"),
    path("monitoring/alerts/", views.alert_inbox, name="alerts"),
    path("monitoring/alerts/<uuid:public_id>/", views.alert_detail, name="alert"),
    path("monitoring/alerts/<uuid:public_id>/acknowledge/", views.alert_acknowledge, name="alert_ack"),
    path("monitoring/alerts/<uuid:public_id>/<slug:action>/", views.alert_act, name="alert_act"),
]
