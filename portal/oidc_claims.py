"""What an identity provider's claims mean to the portal: roles, clinic, and whether the log-in used MFA.

Plain Python (no Django) so the rules are tested table by table; portal/security/oidc.py applies them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Roles that see patients: they need a clinic (staff see only their own clinic's patients).
CLINICAL_ROLE_KEYS = frozenset({"dermatologist", "nurse"})


class Refusal(enum.Enum):
    """Why a single sign-on was refused; the value is what the refusal page and the audit trail say."""

    NO_ROLE = "none of your groups at the identity provider gives a JAK Portal role"
    NO_CLINIC = "none of your groups at the identity provider names a JAK Portal clinic"
    TWO_CLINICS = "your groups at the identity provider name more than one JAK Portal clinic"


@dataclass(frozen=True)
class Decision:
    roles: tuple[str, ...]  # role keys of portal.env.OIDC_ROLE_KEYS, in map order
    clinic: str | None  # a clinic name from the clinic map, or None (left as it is)
    mfa: bool
    refusal: Refusal | None


def claim_values(claims: Mapping[str, Any], name: str) -> list[str]:
    """A claim as a list of strings: a list claim as it is, a single string as one value, anything else empty."""
    value = claims.get(name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def mfa_asserted(claims: Mapping[str, Any], *, amr_values: Sequence[str], acr_values: Sequence[str]) -> bool:
    """True when the ID token says the identity provider checked more than a password.

    ``amr`` (RFC 8176 method references) counts when it lists one of ``amr_values``; ``acr`` (the assurance
    class) when it equals one of ``acr_values``. An empty list of either never counts.
    """
    amr = set(claim_values(claims, "amr"))
    acr = claims.get("acr")
    return bool(amr.intersection(amr_values)) or (isinstance(acr, str) and acr in acr_values)


def decide(
    claims: Mapping[str, Any],
    *,
    groups_claim: str,
    role_map: Mapping[str, str],
    clinic_claim: str,
    clinic_map: Mapping[str, str],
    amr_values: Sequence[str],
    acr_values: Sequence[str],
) -> Decision:
    """Roles from the groups claim through the role map, the clinic through the clinic map, MFA from amr/acr.

    With a clinic map, a dermatologist or nurse must map to exactly one clinic. Without one, the clinic is left
    to an administrator (``clinic`` None).
    """
    groups = claim_values(claims, groups_claim)
    roles = tuple(dict.fromkeys(role_map[group] for group in groups if group in role_map))
    mfa = mfa_asserted(claims, amr_values=amr_values, acr_values=acr_values)
    if not roles:
        return Decision(roles=(), clinic=None, mfa=mfa, refusal=Refusal.NO_ROLE)
    clinic = None
    if clinic_map:
        clinics = {clinic_map[value] for value in claim_values(claims, clinic_claim) if value in clinic_map}
        if len(clinics) > 1:
            return Decision(roles=roles, clinic=None, mfa=mfa, refusal=Refusal.TWO_CLINICS)
        clinic = clinics.pop() if clinics else None
        if clinic is None and CLINICAL_ROLE_KEYS.intersection(roles):
            return Decision(roles=roles, clinic=None, mfa=mfa, refusal=Refusal.NO_CLINIC)
    return Decision(roles=roles, clinic=clinic, mfa=mfa, refusal=None)
