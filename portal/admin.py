from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit import audit_record, describe_changes
from portal.models import AuditEvent, Clinic, OutboundEmail, User
from portal.security import twofactor

# Account fields whose old and new values go into the audit trail (never the password hash).
_AUDITED_USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
    "clinic",
)


def _user_snapshot(user: User) -> dict:
    row: dict[str, object] = {
        name: str(getattr(user, name)) if getattr(user, name) is not None else None for name in _AUDITED_USER_FIELDS
    }
    row["groups"] = sorted(user.groups.values_list("name", flat=True)) if user.pk else []
    return row


admin.site.site_header = "JAK Portal administration"
admin.site.site_title = "JAK Portal admin"


def _superuser_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


# Only superusers manage staff accounts and read the audit trail in /admin/.
admin.site.has_permission = _superuser_only  # type: ignore[method-assign]

# django-otp's TOTPDevice admin shows the plain secret as a QR code; the portal's AuthenticatorDevice replaced it.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "clinic", "is_active", "is_superuser")
    list_filter = ("is_active", "is_superuser", "groups", "clinic")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Clinic", {"fields": ("clinic",)}))
    actions = ["deactivate_users", "reset_two_step", "issue_enrolment_code"]

    # Every account change made here is written to the audit trail with what changed (bulk changes too).
    def save_model(self, request, obj, form, change):
        request._audit_before = _user_snapshot(User.objects.get(pk=obj.pk)) if change else None
        request._audit_password = "password" in form.changed_data or any(
            name.startswith("password") for name in form.changed_data
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = getattr(request, "_audit_before", None)
        after = _user_snapshot(obj)
        if before is None:
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.CREATE,
                obj=obj,
                summary="Account created in admin",
                changes={"after": after},
            )
            return
        changed = {k: {"from": before[k], "to": after[k]} for k in after if before.get(k) != after[k]}
        if getattr(request, "_audit_password", False):
            changed["password"] = {"from": "(hidden)", "to": "(changed)"}
        if changed:
            summary = (
                "Account deactivated in admin"
                if changed.get("is_active", {}).get("to") == "False"
                else ("Account changed in admin")
            )
            audit_record(actor=request.user, action=AuditEvent.Action.CHANGE, obj=obj, summary=summary, changes=changed)

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.DELETE,
            obj=obj,
            summary="Account deleted in admin",
            changes={"before": _user_snapshot(obj)},
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.DELETE,
                obj=obj,
                summary="Account deleted in admin (bulk)",
                changes={"before": _user_snapshot(obj)},
            )
        super().delete_queryset(request, queryset)

    @admin.action(description="Deactivate selected accounts (ends their sessions)")
    def deactivate_users(self, request, queryset):
        for user in queryset.filter(is_active=True):
            user.is_active = False
            user.save(update_fields=["is_active"])
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.CHANGE,
                obj=user,
                summary="Account deactivated in admin (bulk)",
                changes={"is_active": {"from": "True", "to": "False"}},
            )

    @admin.action(
        description="Reset two-step log-in of selected accounts (removes the app; shows a new enrolment code)",
        permissions=["change"],
    )
    def reset_two_step(self, request, queryset):
        for user in queryset:
            twofactor.second_factor_reset(actor=request.user, user=user)
        return self._issue_codes(request, queryset, reset=True)

    @admin.action(description="Issue enrolment code for two-step log-in (shown once)", permissions=["change"])
    def issue_enrolment_code(self, request, queryset):
        return self._issue_codes(request, queryset, reset=False)

    def _issue_codes(self, request, queryset, *, reset: bool):
        """Issue each selected user a one-time enrolment code and show the codes once, on a page that is not cached
        (not in a message: messages are kept in the session until shown)."""
        issued = []
        for user in queryset.order_by("username"):
            code, expires = twofactor.enrolment_code_issue(actor=request.user, user=user)
            issued.append({"user": user, "code": code, "expires": expires})
        context = {
            **self.admin_site.each_context(request),
            "title": "Enrolment codes issued",
            "issued": issued,
            "reset": reset,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/portal/enrolment_codes_issued.html", context)
        add_never_cache_headers(response)
        return response

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.CHANGE,
                object_type="portal.user",
                object_id=str(id),
                summary="Password set by an administrator",
                changes={"password": {"from": "(hidden)", "to": "(changed)"}},
            )
        return response


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
    readonly_fields = ("what_changed",)

    @admin.display(description="What changed (in words)")
    def what_changed(self, obj: AuditEvent) -> str:
        return "; ".join(describe_changes(obj.changes, obj.object_type)) or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The email outbox, read-only: what is waiting, what was sent, and what failed and why (exception class)."""

    list_display = ("created_at", "dedupe_key", "status", "attempts", "next_attempt_at", "last_error", "sent_at")
    list_filter = ("status",)
    search_fields = ("dedupe_key",)
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
