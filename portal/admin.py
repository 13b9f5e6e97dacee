from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from portal.models import AuditEvent, Clinic, User

admin.site.site_header = "JAK Portal administration"
admin.site.site_title = "JAK Portal admin"


def _superuser_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


# Only superusers manage staff accounts and read the audit trail in /admin/.
admin.site.has_permission = _superuser_only


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "clinic", "is_active", "is_superuser")
    list_filter = ("is_active", "is_superuser", "groups", "clinic")
    fieldsets = (*UserAdmin.fieldsets, ("Clinic", {"fields": ("clinic",)}))


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_username", "action", "object_type", "object_id", "summary")
    list_filter = ("action", "object_type")
    search_fields = ("actor_username", "object_type", "object_id", "summary")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
