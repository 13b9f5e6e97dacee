"""Versioned catalogue updates (drugs/data/updates/*.toml): label changes shipped after the first load.

The seed loader only creates what is missing, so it can never correct a fact an installed catalogue already holds.
An update file can: add rows to a drug's sections, change rows it finds by their current values, add medicines or
classes of medicines, and name lab tests in words. Each drug an update touches gets one catalogue version, made
through ``drugs.services.catalogue_change`` like an admin's edit, whose reason starts with "[<update id>]": the
change shows in the drug's history with its diff, and the same update is never applied twice. A row an admin has
already edited no longer matches and is left alone; the report says so.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from drugs import models as m
from drugs.sections import SECTIONS_BY_KEY
from drugs.seed import read_seed
from drugs.services import NothingChangedError, catalogue_change

UPDATES_DIR = Path(__file__).resolve().parent / "data" / "updates"


class UpdateError(Exception):
    """An update file has a row the catalogue cannot hold; the message says which."""


@dataclass
class UpdateReport:
    applied: list[str] = field(default_factory=list)  # "update-id: drug"
    skipped: list[str] = field(default_factory=list)  # rows that no longer match (edited locally)
    medicines: int = 0


def update_files(directory: Path = UPDATES_DIR) -> list[Path]:
    return sorted(directory.glob("*.toml")) if directory.exists() else []


def _marker(update_id: str) -> str:
    return f"[{update_id}]"


def _value(model, name: str, raw):
    """A TOML value as the model field holds it (decimals, foreign keys by natural key)."""
    model_field = model._meta.get_field(name)
    if name == "lab_test":
        return m.LabTest.objects.get(analyte=raw)
    if name == "interacting_class":
        return m.InteractingClass.objects.get(code=raw)
    return model_field.to_python(raw)


def _matches(row, model, match: dict) -> bool:
    for name, raw in match.items():
        current = getattr(row, name)
        if name in ("lab_test", "interacting_class"):
            current = current.analyte if name == "lab_test" else current.code
            if current != raw:
                return False
        elif current != _value(model, name, raw):
            return False
    return True


def _seed_rows(seed: dict, slug: str, key: str) -> list[dict]:
    return next((d.get(key, []) for d in seed.get("drugs", []) if d["slug"] == slug), [])


def _edited_since_seed(row, model, seed_rows: list[dict], match: dict) -> bool:
    """Whether an admin changed the row after the seed loaded it: some field differs from the seed's row. A row the
    seed does not have (added later) counts as unedited."""
    seeded = [
        s for s in seed_rows if all(s.get(k, "ANY" if k == "jurisdiction" else None) == v for k, v in match.items())
    ]
    if len(seeded) != 1:
        return False
    return not _matches(row, model, {k: v for k, v in seeded[0].items() if k != "jurisdiction" or v != "ANY"})


def _apply_drug(drug: m.Drug, entry: dict, where: str, report: UpdateReport, seed: dict):
    def apply(locked: m.Drug) -> None:
        for key, rows in entry.get("add", {}).items():
            section = SECTIONS_BY_KEY.get(key)
            if section is None:
                raise UpdateError(f"{where}: unknown section {key!r}")
            for index, row in enumerate(rows):
                unknown = set(row) - set(section.fields)
                if unknown:
                    raise UpdateError(f"{where} add.{key}[{index}]: unknown keys {sorted(unknown)}")
                values = {name: _value(section.model, name, raw) for name, raw in row.items()}
                obj = section.model(drug=locked, **values)
                try:
                    obj.full_clean()
                except ValidationError as exc:
                    raise UpdateError(f"{where} add.{key}[{index}]: {exc.message_dict}") from None
                obj.save()
        for key, changes in entry.get("change", {}).items():
            section = SECTIONS_BY_KEY.get(key)
            if section is None:
                raise UpdateError(f"{where}: unknown section {key!r}")
            for index, change in enumerate(changes):
                found = [r for r in section.rows(locked) if _matches(r, section.model, change["match"])]
                if len(found) != 1:
                    report.skipped.append(
                        f"{locked.slug} {key}: {change['match']} matched {len(found)} rows (edited here?); left as is"
                    )
                    continue
                row = found[0]
                if _edited_since_seed(row, section.model, _seed_rows(seed, locked.slug, key), change["match"]):
                    report.skipped.append(f"{locked.slug} {key}: {change['match']} was edited here; left as is")
                    continue
                for name, raw in change["set"].items():
                    if name not in section.fields:
                        raise UpdateError(f"{where} change.{key}[{index}]: {name!r} is not an editable field")
                    setattr(row, name, _value(section.model, name, raw))
                try:
                    row.full_clean()
                except ValidationError as exc:
                    raise UpdateError(f"{where} change.{key}[{index}]: {exc.message_dict}") from None
                row.save()

    return apply


def _apply_medicines(rows: list[dict], report: UpdateReport) -> None:
    for row in rows:
        row = dict(row)
        name = row.pop("name")
        classes = row.pop("classes", []) + row.pop("add_classes", [])
        dose_class = row.pop("dose_class", None)
        medicine, created = m.Medicine.objects.get_or_create(name=name, defaults=row)
        if not created:
            for key, value in row.items():  # fill what is blank; never overwrite an admin's entry
                if key in ("note", "synonyms") and getattr(medicine, key):
                    continue
                setattr(medicine, key, _value(m.Medicine, key, value))
        if dose_class and medicine.dose_class_id is None:
            medicine.dose_class = m.InteractingClass.objects.get(code=dose_class)
        medicine.full_clean()
        medicine.save()
        wanted = list(m.InteractingClass.objects.filter(code__in=classes))
        if len(wanted) != len(set(classes)):
            raise UpdateError(f"medicine {name}: unknown class in {classes}")
        medicine.classes.add(*wanted)
        report.medicines += 1


@transaction.atomic
def apply_update(
    data: dict, *, actor=None, report: UpdateReport | None = None, seed: dict | None = None
) -> UpdateReport:
    """Apply one update (parsed TOML) once: drugs already carrying its version are skipped. ``seed`` (the bundled
    seed file by default) tells which rows an admin has edited since they were loaded."""
    report = report or UpdateReport()
    seed = read_seed() if seed is None else seed
    update_id, reason = data["id"], data["reason"]
    marker = _marker(update_id)
    pending = [
        (drug, entry)
        for entry in data.get("drugs", [])
        if (drug := m.Drug.objects.filter(slug=entry["slug"]).first()) is not None
        and not drug.versions.filter(reason__startswith=marker).exists()
    ]
    done_before = m.CatalogueVersion.objects.filter(reason__startswith=marker).exists()
    named = []
    if not done_before or pending:
        _apply_medicines(data.get("medicines", []), report)
        for row in data.get("lab_tests", []):
            if m.LabTest.objects.filter(analyte=row["analyte"], common_name="").update(common_name=row["common_name"]):
                named.append(row)
    if named and not pending:
        # How findings name a lab test is part of the drug labels, which are cached per catalogue version: with no
        # drug version to follow, the new names get their own, or the labels of the last version would stay in use.
        m.CatalogueVersion.objects.create(
            drug=None,
            drug_name="Lab test names",
            created_by=actor,
            reason=f"{marker} {reason}",
            changes=[
                {
                    "section": "lab test",
                    "row": row["analyte"],
                    "change": "changed",
                    "field": "common_name",
                    "old": "",
                    "new": row["common_name"],
                }
                for row in named
            ],
        )
    for drug, entry in pending:
        try:
            catalogue_change(
                drug=drug,
                actor=actor,
                reason=f"{marker} {reason}",
                apply=_apply_drug(drug, entry, f"update {update_id} drug {drug.slug}", report, seed),
            )
        except NothingChangedError:
            m.CatalogueVersion.objects.create(
                drug=drug,
                drug_name=drug.generic_name,
                created_by=actor,
                reason=f"{marker} {reason} (nothing to change)",
            )
        report.applied.append(f"{update_id}: {drug.slug}")
    return report


def apply_updates(directory: Path = UPDATES_DIR, *, actor=None) -> UpdateReport:
    """Apply every update file in order of its name (idempotent)."""
    report = UpdateReport()
    seed = read_seed()
    for path in update_files(directory):
        with path.open("rb") as fh:
            apply_update(tomllib.load(fh), actor=actor, report=report, seed=seed)
    return report
