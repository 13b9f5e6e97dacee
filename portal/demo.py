"""Demo accounts: created only when PORTAL_DEMO is on, and usable only while it is on (see README).

A database set up by `make run` keeps its demo accounts when it is later served with PORTAL_DEMO off. Their
password is published, so the authentication backend (``portal.security.backends``) refuses them then, and
the deploy check ``portal.E001`` fails while active ones exist.
"""

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

DEMO_USERNAMES = frozenset(row[0] for row in DEMO_ACCOUNTS)


def is_demo_username(username: object) -> bool:
    """Whether ``username`` names one of the published demo accounts (case-insensitive)."""
    return isinstance(username, str) and username.strip().lower() in DEMO_USERNAMES


def demo_login_allowed(username: object) -> bool:
    """Demo accounts sign in only while PORTAL_DEMO is on; every other username is not affected here."""
    return bool(settings.PORTAL_DEMO) or not is_demo_username(username)


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
