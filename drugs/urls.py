from django.urls import path

from drugs import views

app_name = "drugs"
urlpatterns = [
    path("", views.drug_list, name="list"),
    path("lab-tests/", views.lab_test_list, name="lab_tests"),
    path("lab-tests/<slug:analyte>/edit/", views.lab_test_edit, name="lab_test_edit"),
    path("<slug:slug>/", views.drug_detail, name="detail"),
    path("<slug:slug>/edit/", views.drug_edit, name="edit"),
    path("<slug:slug>/codes/", views.drug_codes_edit, name="codes"),
    path("<slug:slug>/edit/<slug:section>/", views.drug_section_edit, name="edit_section"),
    path("<slug:slug>/history/", views.drug_history, name="history"),
    path("<slug:slug>/handout/", views.drug_handout, name="handout"),
    path("<slug:slug>/delete/", views.drug_delete, name="delete"),
]
