"""The clinic's settings: which lab unit system its pages show (read once per request), the contact details its
handouts and letters print, and changing them (audited)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from portal.audit import audit_record
from portal.errors import DomainError, StaleEditError
from portal.models import AuditEvent, Clinic, User

DEFAULT_UNIT_SYSTEM = Clinic.UnitSystem.US.value


def unit_system_of(user, *, clinic: Clinic | None = None) -> str:
    """The lab unit system (US or SI) of the user's clinic; US without one. One query, then kept on the user for
    the rest of the request; none when the caller passes the user's clinic loaded already (the patient page's
    patient comes with its clinic, which is the user's)."""
    cached = getattr(user, "_portal_unit_system", None)
    if cached is not None:
        return cached
    clinic_id = getattr(user, "clinic_id", None)
    system = DEFAULT_UNIT_SYSTEM
    if clinic_id is not None and clinic is not None and clinic.pk == clinic_id:
        system = clinic.unit_system or system
    elif clinic_id is not None:
        system = Clinic.objects.filter(pk=clinic_id).values_list("unit_system", flat=True).first() or system
    if user is not None:
        user._portal_unit_system = system
    return system


class ClinicSettingsError(DomainError):
    pass


# The settings the clinic settings page edits, in the order the audit summary names them.
SETTINGS_FIELDS = ("unit_system", "phone", "emergency_number", "address")


@transaction.atomic
def clinic_settings_update(*, actor: User, clinic: Clinic, data: dict[str, str], expected_row_version: int) -> Clinic:
    """Change the clinic's settings (any of ``SETTINGS_FIELDS`` present in ``data``): audited with before and after,
    validated by the model (a refusal names its field), and refused when the form is stale (someone saved since)."""
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Not clinic settings: {sorted(unknown)}")
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    if locked.row_version != expected_row_version:
        raise StaleEditError(
            locked.row_version,
            "Someone changed the clinic's settings while you were editing: review them and save again.",
        )
    changes: dict[str, list[str]] = {}
    for name in SETTINGS_FIELDS:
        if name not in data:
            continue
        value = data[name].strip()
        before = getattr(locked, name)
        if value != before:
            setattr(locked, name, value)
            changes[name] = [before, value]
    if not changes:
        return locked
    try:
        locked.full_clean(exclude=[f.name for f in Clinic._meta.fields if f.name not in changes])
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise ClinicSettingsError(" ".join(messages), field=name) from None
    locked.row_version += 1
    locked.save(update_fields=[*changes, "row_version"])
    labels = ", ".join(str(getattr(Clinic._meta.get_field(name), "verbose_name", name)) for name in changes)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=locked,
        summary=f"Clinic settings changed: {labels}",
        changes=changes,
    )
    return locked
