"""The clinic's settings: which lab unit system its pages show (read once per request) and changing it (audited)."""

from __future__ import annotations

from django.db import transaction

from portal.audit import audit_record
from portal.errors import DomainError, StaleEditError
from portal.models import AuditEvent, Clinic, User

DEFAULT_UNIT_SYSTEM = Clinic.UnitSystem.US.value


def unit_system_of(user) -> str:
    """The lab unit system (US or SI) of the user's clinic; US without one. One query, then kept on the user for
    the rest of the request."""
    cached = getattr(user, "_portal_unit_system", None)
    if cached is not None:
        return cached
    clinic_id = getattr(user, "clinic_id", None)
    system = DEFAULT_UNIT_SYSTEM
    if clinic_id is not None:
        system = Clinic.objects.filter(pk=clinic_id).values_list("unit_system", flat=True).first() or system
    if user is not None:
        user._portal_unit_system = system
    return system


class ClinicSettingsError(DomainError):
    pass


@transaction.atomic
def clinic_unit_system_set(*, actor: User, clinic: Clinic, unit_system: str, expected_row_version: int) -> Clinic:
    """Change how the clinic's pages show lab values; refuses a stale form (someone changed it meanwhile)."""
    if unit_system not in Clinic.UnitSystem.values:
        raise ClinicSettingsError("Choose US conventional or SI units.", field="unit_system")
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    if locked.row_version != expected_row_version:
        raise StaleEditError(
            locked.row_version,
            "Someone changed the clinic's settings while you were editing: review them and save again.",
        )
    before = locked.unit_system
    if before == unit_system:
        return locked
    locked.unit_system = unit_system
    locked.row_version += 1
    locked.save(update_fields=["unit_system", "row_version"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=locked,
        summary=f"Lab units shown: {locked.get_unit_system_display()}",
        changes={"unit_system": [before, unit_system]},
    )
    return locked
