from django.urls import path

from therapy import views

app_name = "therapy"
urlpatterns = [
    path("patients/<uuid:public_id>/therapy/start/", views.course_start, name="start"),
    path("therapy/<uuid:public_id>/", views.course_detail, name="course"),
    path("therapy/<uuid:public_id>/handout/", views.course_handout, name="handout"),
    path("therapy/<uuid:public_id>/gp-letter/", views.course_letter, name="gp_letter"),
    path("therapy/<uuid:public_id>/gp-letter.pdf", views.course_letter_pdf, name="gp_letter_pdf"),
    path("therapy/<uuid:public_id>/dose/", views.course_dose, name="dose"),
    path("therapy/<uuid:public_id>/interrupt/", views.course_interrupt, name="interrupt"),
    path("therapy/<uuid:public_id>/resume/", views.course_resume, name="resume"),
    path("therapy/<uuid:public_id>/stop/", views.course_stop, name="stop"),
]
