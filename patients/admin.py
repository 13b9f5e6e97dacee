from django.contrib import admin

from patients.models import Patient
from portal.admin_mixins import PatientDataAdmin


@admin.register(Patient)
class PatientAdmin(PatientDataAdmin):
    """Superusers' read-only, audited view of patient records (no search box: names stay out of URLs); also the
    benchmark's comparison target for the patient list."""

    list_display = ("family_name", "given_name", "record_number", "date_of_birth", "dermatologist")
    list_filter = ("dermatologist",)
    list_select_related = ("dermatologist",)  # nullable FK: the admin would not follow it by itself (N+1)
    readonly_fields = ("public_id",)
