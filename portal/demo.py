"""Demo accounts: exist only when PORTAL_DEMO is on (see README)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from portal import roles
from portal.audit import audit_record
from portal.models import AuditEvent, Clinic, User

DEMO_PASSWORD = "jak-demo-2026"  # noqa: S105  (published demo password; demo mode only)
DEMO_CLINIC_NAME = "Demo Dermatology Clinic"
DEMO_ACCOUNTS = (
    ("demo-derm", "Dana", "Demo-Derm", roles.DERMATOLOGIST),
    ("demo-nurse", "Nico", "Demo-Nurse", roles.NURSE),
    ("demo-admin", "Alex", "Demo-Admin", roles.CATALOGUE_ADMIN),
)


@transaction.atomic
def demo_accounts_ensure() -> list[User]:
    if not settings.PORTAL_DEMO:
        raise ImproperlyConfigured("Demo accounts can only be created with PORTAL_DEMO on.")
    clinic = demo_clinic_ensure()
    users = []
    for username, first, last, role in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            audit_record(actor=None, action=AuditEvent.Action.CREATE, obj=user, summary="Demo account created")
        user.groups.set([Group.objects.get(name=role)])
        if user.clinic_id != clinic.pk:
            user.clinic = clinic
            user.save(update_fields=["clinic"])
        users.append(user)
    return users


def demo_clinic_ensure() -> Clinic:
    """The synthetic demo clinic the demo accounts (and demo patients) belong to."""
    if not settings.PORTAL_DEMO:
        raise ImproperlyConfigured("The demo clinic can only be created with PORTAL_DEMO on.")
    # Fictional contact details (555-01xx is reserved for fiction); the emergency number of the demo's label rules.
    clinic, _created = Clinic.objects.get_or_create(
        name=DEMO_CLINIC_NAME,
        defaults={
            "phone": "+1 555 0100",
            "emergency_number": "112" if settings.PORTAL_JURISDICTION == "EU" else "911",
            "address": "Demo Dermatology Clinic\n1 Example Street\nSpringfield",
        },
    )
    return clinic
