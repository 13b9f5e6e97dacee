from django.contrib import admin

from interfaces.models import InterfaceRequest, InterfaceToken


@admin.register(InterfaceToken)
class InterfaceTokenAdmin(admin.ModelAdmin):
    """Tokens are created and revoked with ``manage.py interface_token`` (the secret is printed once there);
    the admin shows them, read-only."""

    list_display = ("name", "clinic", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("clinic",)
    readonly_fields = ("name", "clinic", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    exclude = ("token_hash",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InterfaceRequest)
class InterfaceRequestAdmin(admin.ModelAdmin):
    list_display = ("at", "interface", "token", "message_id", "outcome", "reason")
    list_filter = ("interface", "outcome")
    readonly_fields = ("at", "interface", "token", "actor", "message_id", "outcome", "reason", "size")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
