"""The one base for every Django admin page of patient data (issue 18, F5).

Superusers may read patient records in ``/admin/`` (support, audits), but never change them there: the admin
bypasses the services, so an edit would write no audit row and bump no ``row_version``. ``PatientDataAdmin``
therefore

* refuses add, change and delete for everyone (the change page becomes a read-only "view" page), and answers
  403 to any POST, so no action, inline or list edit can write;
* has no search box: the admin's ``?q=`` would put names or dates of birth into every access log;
* writes one audit "view" per patient shown, on the read page, the history page and each page of the list,
  with ``portal.audit.audit_record`` and the same record type and id as the portal's own patient views.

Register every model that holds patient data with a subclass of it (``tests/security/test_admin_patient_data.py``
fails otherwise). ``patient_path`` names the way from the model to its patient (``"patient"``,
``"course__patient"``); empty for the patient model itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models

from portal.audit import audit_record
from portal.models import AuditEvent

READ_METHODS = ("GET", "HEAD")
PATIENT_DATA_APPS = ("patients", "therapy", "monitoring")


def patient_of(obj: models.Model, path: str) -> models.Model | None:
    """The patient an object belongs to, following ``path`` (``"course__patient"``); ``obj`` if the path is empty."""
    target: Any = obj
    for name in path.split("__") if path else ():
        target = getattr(target, name, None)
        if target is None:
            return None
    return target


class PatientDataAdmin(admin.ModelAdmin):
    """Read-only, audited, search-free admin for a model holding patient data."""

    patient_path = ""
    actions = None
    search_fields = ()
    list_per_page = 25
    list_max_show_all = 25  # "Show all" would list (and audit) the whole table
    audit_summary = "Patient record viewed in admin"

    # --- no writes, for anyone -------------------------------------------------------------------------------

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_fields(self, request):
        return ()

    def get_search_results(self, request, queryset, search_term):
        return queryset, False  # a ?q= typed into the address bar finds nothing by name

    @staticmethod
    def _read_only(request) -> None:
        if request.method not in READ_METHODS:
            raise PermissionDenied("Patient data cannot be changed in the admin; use the clinical pages.")

    def changelist_view(self, request, extra_context=None):
        self._read_only(request)
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            self._audit(request, list(changelist.result_list), "list")
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._read_only(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._read_only(request)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._read_only(request)
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                self._audit(request, [obj], "history")
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            self._audit(request, [obj], "record")
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(self.patient_path) if self.patient_path else queryset

    # --- the audit --------------------------------------------------------------------------------------------

    def _audit(self, request, objects: list[models.Model], page: str) -> None:
        """One "view" per patient shown, filed under the patient like every other access to the record."""
        seen: set[Any] = set()
        for obj in objects:
            patient = patient_of(obj, self.patient_path)
            if patient is None or patient.pk in seen:
                continue
            seen.add(patient.pk)
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.VIEW,
                obj=patient,
                summary=f"{self.audit_summary} ({self.model._meta.model_name} {page})",
            )
