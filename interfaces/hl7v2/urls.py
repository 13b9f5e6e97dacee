from django.urls import path

from interfaces.hl7v2 import views

app_name = "hl7v2"
urlpatterns = [
    path("oru", views.oru, name="oru"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<uuid:public_id>/", views.inbox_message, name="inbox_message"),
]
