from django.urls import path

from interfaces.cds import views

app_name = "cds"
urlpatterns = [
    path("cds-services", views.discovery, name="discovery"),
    path("cds-services/<slug:service_id>", views.service, name="service"),
]
