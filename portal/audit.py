"""Writing the audit trail. Every service that changes a record calls ``audit_record`` in its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from portal.models import AuditEvent, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    real_actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=real_actor,
        actor_username=real_actor.get_username() if real_actor else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary[:300],
        changes=changes or {},
    )


def describe_changes(changes: dict[str, Any]) -> list[str]:
    """Readable lines for an audit event's changes: "dose: 100 → 200" for a [before, after] pair (what edits store)
    and "alerts: 1" for a single value (what creations note)."""

    def show(value: Any) -> str:
        return "—" if value is None or value == "" else str(value)

    lines = []
    for field, value in (changes or {}).items():
        label = str(field).replace("_", " ")
        if isinstance(value, list | tuple) and len(value) == 2:
            lines.append(f"{label}: {show(value[0])} → {show(value[1])}")
        elif isinstance(value, list | tuple):
            lines.append(f"{label}: {', '.join(show(v) for v in value) or '—'}")
        else:
            lines.append(f"{label}: {show(value)}")
    return lines
