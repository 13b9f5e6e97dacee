from django.urls import path

from monitoring import views_monitoring as views

app_name = "monitoring"
urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("items/<uuid:public_id>/done/", views.item_done, name="item_done"),
    path("labs/upload/", views.lab_upload, name="lab_upload"),
    path("alerts/", views.alert_inbox, name="alerts"),
    path("alerts/<uuid:public_id>/", views.alert_detail, name="alert"),
    path("alerts/<uuid:public_id>/acknowledge/", views.alert_acknowledge, name="alert_ack"),
    path("alerts/<uuid:public_id>/<slug:action>/", views.alert_act, name="alert_act"),
]
