from django.contrib import admin

from patients.models import Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    """Superusers' view of patient records; also the benchmark's comparison target for the patient list."""

    list_display = ("family_name", "given_name", "record_number", "date_of_birth", "dermatologist")
    list_filter = ("dermatologist",)
    search_fields = ("family_name", "given_name", "record_number")
    list_select_related = ("dermatologist",)  # nullable FK: the admin would not follow it by itself (N+1)
    readonly_fields = ("public_id",)
