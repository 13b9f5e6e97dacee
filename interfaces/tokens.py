"""Interface tokens: creating, revoking and checking the bearer tokens labs and EHRs send.

The token is 32 random bytes, so a plain SHA-256 of it is enough to store: a slow password hash protects guessable
secrets, and nothing about a random 256-bit token is guessable. A lookup by hash is one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from interfaces.models import InterfaceToken
from portal.audit import audit_record
from portal.models import AuditEvent, Clinic, User


class TokenError(Exception):
    """The token cannot be created or revoked; the message says why."""


@dataclass(frozen=True)
class NewToken:
    token: InterfaceToken
    secret: str  # shown once; never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_token(*, name: str, clinic: Clinic, actor: User | None = None) -> NewToken:
    name = name.strip()
    if not name:
        raise TokenError("A token needs a name.")
    if InterfaceToken.objects.filter(name=name).exists():
        raise TokenError(f"A token named {name!r} already exists.")
    secret = "jak_" + secrets.token_urlsafe(32)
    token = InterfaceToken.objects.create(
        name=name, clinic=clinic, token_hash=_digest(secret), prefix=secret[:8], created_by=actor
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=token,
        summary=f"Interface token {name} created for {clinic.name}",
    )
    return NewToken(token=token, secret=secret)


@transaction.atomic
def revoke_token(*, name: str, actor: User | None = None) -> InterfaceToken:
    token = InterfaceToken.objects.select_for_update().filter(name=name).first()
    if token is None:
        raise TokenError(f"No token is named {name!r}.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action=AuditEvent.Action.CHANGE, obj=token, summary=f"Interface token {name} revoked")
    return token


def bearer_secret(request) -> str | None:
    """The token in ``Authorization: Bearer …``, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(request) -> InterfaceToken | None:
    """The active token the request carries, or None. Marks it used (at most once a minute, to spare writes)."""
    secret = bearer_secret(request)
    if secret is None or len(secret) > 200:
        return None
    token = InterfaceToken.objects.select_related("clinic").filter(token_hash=_digest(secret)).first()
    if token is None or token.revoked_at is not None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        InterfaceToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
