"""Writes to the catalogue. Every change runs in one transaction, needs a reason, and makes a catalogue version."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from drugs.models import CatalogueVersion, Drug, DrugCode, LabTest
from drugs.snapshot import diff_snapshots, drug_snapshot
from portal import errors
from portal.audit import audit_record
from portal.models import AuditEvent, User


class CatalogueError(errors.DomainError):
    """A catalogue change that cannot be made; the message is shown to the admin."""


class StaleEditError(errors.StaleEditError, CatalogueError):
    """Someone else saved the drug or lab test after this page was opened; nothing was written."""


class NothingChangedError(CatalogueError):
    pass


class DrugInUseError(CatalogueError):
    pass


def _lock(drug: Drug, expected_row_version: int | None) -> Drug:
    locked = Drug.objects.select_for_update().get(pk=drug.pk)
    if expected_row_version is not None and locked.row_version != expected_row_version:
        who = f" by {locked.updated_by}" if locked.updated_by else ""
        message = (
            f"Someone else saved {locked} at {timezone.localtime(locked.updated_at):%H:%M}{who} after you opened "
            "this page. Your changes are still in the form: open the drug in a new tab to see theirs, then save again."
        )
        raise StaleEditError(locked.row_version, message)
    return locked


@transaction.atomic
def catalogue_change(
    *,
    drug: Drug,
    actor: User,
    reason: str,
    apply: Callable[[Drug], None],
    expected_row_version: int | None = None,
) -> CatalogueVersion:
    """Apply ``apply(drug)`` and record the new catalogue version with what changed and why."""
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError("Give a reason for the change.")
    locked = _lock(drug, expected_row_version)
    before = drug_snapshot(locked)
    apply(locked)
    locked.refresh_from_db()
    after = drug_snapshot(locked)
    changes = diff_snapshots(before, after)
    if not changes:
        raise NothingChangedError("Nothing was changed, so no new catalogue version was made.")
    return _new_version(
        locked,
        actor=actor,
        reason=reason,
        changes=changes,
        snapshot=lambda: after,
        summary=f"{len(changes)} change(s) to {locked}",
    )


def _new_version(locked: Drug, *, actor, reason: str, changes, snapshot, summary: str, now=None) -> CatalogueVersion:
    """The end of every catalogue edit: the drug's row version moves on, a catalogue version holds the new snapshot
    (``snapshot()`` is read after the row is saved) and the audit trail says what happened."""
    locked.row_version += 1
    locked.updated_at = now or timezone.now()
    locked.updated_by = actor
    locked.save(update_fields=["row_version", "updated_at", "updated_by"])
    version = CatalogueVersion.objects.create(
        drug=locked,
        drug_name=locked.generic_name,
        created_by=actor,
        reason=reason,
        changes=changes,
        snapshot=snapshot(),
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=locked,
        summary=f"Catalogue version {version.number}: {summary}",
        changes={"catalogue_version": version.number, "reason": reason, "count": len(changes)},
    )
    return version


@transaction.atomic
def drug_delete(*, drug: Drug, actor: User, reason: str) -> None:
    """Delete a drug that no treatment course uses; a drug in use is refused."""
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError("Give a reason for deleting the drug.")
    locked = _lock(drug, None)
    name = str(locked)
    snapshot = drug_snapshot(locked)
    try:
        with transaction.atomic():
            locked.delete()
    except ProtectedError:
        raise DrugInUseError(
            f"{name} cannot be deleted because treatment courses use it. Its history must stay readable; "
            "mark its status instead."
        ) from None
    version = CatalogueVersion.objects.create(
        drug=None,
        drug_name=snapshot["drug"]["generic_name"],
        created_by=actor,
        reason=reason,
        changes=[{"section": "drug", "row": "", "change": "removed", "values": snapshot["drug"]}],
        snapshot=snapshot,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.DELETE,
        object_type="drugs.drug",
        object_id=str(drug.pk),
        summary=f"Deleted {name} (catalogue version {version.number})",
        changes={"reason": reason},
    )


def current_catalogue_version() -> int:
    """The newest catalogue version number (0 before anything is loaded)."""
    latest = CatalogueVersion.objects.order_by("-id").values_list("id", flat=True).first()
    return latest or 0


def lab_test_snapshot(lab_test) -> dict:
    fields = (
        "name",
        "short_name",
        "canonical_unit",
        "reference_low",
        "reference_high",
        "plausible_min",
        "plausible_max",
        "si_unit",
        "source",
        "unconfirmed",
    )
    plain = {f: (f"{v.normalize():f}" if hasattr((v := getattr(lab_test, f)), "normalize") else v) for f in fields}
    units = {
        str(u.pk): {
            "unit": u.unit,
            "label": u.label,
            "factor": f"{u.factor.normalize():f}",
            "divisor": f"{u.divisor.normalize():f}",
            "display_places": u.display_places,
        }
        for u in lab_test.units.all()
    }
    return {"fields": plain, "units": units}


@transaction.atomic
def lab_test_change(
    *,
    lab_test: LabTest,
    actor: User,
    reason: str,
    apply: Callable[[LabTest], None],
    expected_row_version: int | None = None,
) -> CatalogueVersion:
    """Change a lab test definition (ranges, limits, units) with a reason; recorded as a catalogue version."""
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError("Give a reason for the change.")
    locked = LabTest.objects.select_for_update().get(pk=lab_test.pk)
    if expected_row_version is not None and locked.row_version != expected_row_version:
        raise StaleEditError(
            locked.row_version,
            f"Someone else saved the lab test {locked.short_name} after you opened this page. Your changes are "
            "still in the form: open the lab test in a new tab to see theirs, then save again.",
        )
    before = lab_test_snapshot(locked)
    apply(locked)
    locked.refresh_from_db()
    after = lab_test_snapshot(locked)
    changes = [
        {
            "section": "lab test",
            "row": str(locked),
            "change": "changed",
            "field": f,
            "old": before["fields"][f],
            "new": after["fields"][f],
        }
        for f in before["fields"]
        if before["fields"][f] != after["fields"][f]
    ]
    for key in sorted(set(before["units"]) | set(after["units"])):
        old, new = before["units"].get(key), after["units"].get(key)
        if old != new:
            kind = "added" if old is None else "removed" if new is None else "changed"
            changes.append(
                {
                    "section": "lab test units",
                    "row": str(locked),
                    "change": kind,
                    "old": old,
                    "new": new,
                    "values": new or old,
                }
            )
    if not changes:
        raise NothingChangedError("Nothing was changed, so no new catalogue version was made.")
    locked.row_version += 1
    locked.save(update_fields=["row_version"])
    version = CatalogueVersion.objects.create(
        drug=None,
        drug_name=f"Lab test: {locked.short_name}",
        created_by=actor,
        reason=reason,
        changes=changes,
        snapshot=after,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=locked,
        summary=f"Catalogue version {version.number}: lab test {locked.short_name}",
        changes={"catalogue_version": version.number, "reason": reason, "count": len(changes)},
    )
    return version


# --- Drug codes (RxNorm, ATC): catalogue data the FHIR export sends and CDS Hooks orders are matched by ------------


@dataclass(frozen=True)
class CodeEntry:
    """What the admin entered for one code system of a drug; an empty ``code`` removes the drug's code."""

    code: str
    display: str = ""
    verified: bool = False
    note: str = ""


CODE_FIELDS = ("code", "display", "verified", "note")


def _code_values(row: DrugCode) -> dict:
    return {"system": row.system, **{f: getattr(row, f) for f in CODE_FIELDS}}


@transaction.atomic
def drug_codes_change(
    *,
    drug: Drug,
    actor: User,
    reason: str,
    codes: Mapping[str, CodeEntry],
    expected_row_version: int | None = None,
) -> CatalogueVersion:
    """Set, change or remove a drug's RxNorm and ATC codes (keys of ``codes``: DrugCode.System values). Like every
    catalogue change: a reason, refused when someone saved the drug after the page was opened, one new catalogue
    version with what changed, and the audit row."""
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError("Give a reason for the change.")
    locked = _lock(drug, expected_row_version)
    current = {row.system: row for row in DrugCode.objects.select_for_update().filter(drug=locked)}
    changes: list[dict] = []
    now = timezone.now()
    for system, entry in codes.items():
        label = DrugCode.System(system).label
        row = current.get(system)
        if not entry.code:
            if row is not None:
                changes.append({"section": "codes", "row": label, "change": "removed", "values": _code_values(row)})
                row.delete()
            continue
        taken = DrugCode.objects.filter(system=system, code=entry.code).exclude(drug=locked).select_related("drug")
        other = taken.first()
        if other is not None:
            raise CatalogueError(f"{label} code {entry.code} is already the code of {other.drug}.", field=system)
        if row is None:
            row = DrugCode(drug=locked, system=system)
            before = None
        else:
            before = _code_values(row)
        for name in CODE_FIELDS:
            setattr(row, name, getattr(entry, name))
        after = _code_values(row)
        if before == after:
            continue
        row.updated_at, row.updated_by = now, actor
        row.full_clean()
        row.save()
        if before is None:
            changes.append({"section": "codes", "row": label, "change": "added", "values": after})
        else:
            changes += [
                {"section": "codes", "row": label, "change": "changed", "field": f, "old": before[f], "new": after[f]}
                for f in CODE_FIELDS
                if before[f] != after[f]
            ]
    if not changes:
        raise NothingChangedError("Nothing was changed, so no new catalogue version was made.")
    return _new_version(
        locked,
        actor=actor,
        reason=reason,
        changes=changes,
        snapshot=lambda: {**drug_snapshot(locked), "codes": [_code_values(r) for r in locked.codes.order_by("system")]},
        summary=f"drug codes of {locked}",
        now=now,
    )
