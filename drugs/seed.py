"""Loading the catalogue seed (drugs/data/catalogue.toml) into the database.

Idempotent: sources are refreshed; lab tests, classes, medicines and drugs are created only when missing, so a
catalogue admin's later edits are never overwritten. Each newly loaded drug gets its first catalogue version.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from drugs import models as m
from drugs.sections import DRUG_FIELDS, SECTIONS
from drugs.snapshot import drug_snapshot

SEED_PATH = Path(__file__).resolve().parent / "data" / "catalogue.toml"
SEED_REASON = "Initial load from the clinical reference (seed file drugs/data/catalogue.toml)."


@dataclass
class SeedReport:
    sources: int = 0
    lab_tests_created: int = 0
    classes_created: int = 0
    medicines_created: int = 0
    drugs_created: list[str] = field(default_factory=list)
    drugs_kept: list[str] = field(default_factory=list)
    codes_created: int = 0


class SeedError(Exception):
    """The seed file has a row the catalogue cannot hold; the message says which."""


def read_seed(path: Path = SEED_PATH) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _clean(obj, where: str, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise SeedError(f"{where}: {exc.message_dict}") from None


def _resolve_fks(row: dict, where: str) -> dict:
    row = dict(row)
    if "lab_test" in row:
        try:
            row["lab_test"] = m.LabTest.objects.get(analyte=row["lab_test"])
        except m.LabTest.DoesNotExist:
            raise SeedError(f"{where}: unknown lab test {row['lab_test']!r}") from None
    if "interacting_class" in row:
        try:
            row["interacting_class"] = m.InteractingClass.objects.get(code=row["interacting_class"])
        except m.InteractingClass.DoesNotExist:
            raise SeedError(f"{where}: unknown interacting class {row['interacting_class']!r}") from None
    return row


@transaction.atomic
def load_seed(data: dict, *, actor=None) -> SeedReport:
    report = SeedReport()
    for row in data.get("sources", []):
        m.Source.objects.update_or_create(tag=row["tag"], defaults={"title": row["title"], "url": row.get("url", "")})
        report.sources += 1
    for row in data.get("interacting_classes", []):
        _, created = m.InteractingClass.objects.get_or_create(
            code=row["code"], defaults={"name": row["name"], "description": row.get("description", "")}
        )
        report.classes_created += created
    for row in data.get("medicines", []):
        row = dict(row)
        class_codes = row.pop("classes", [])
        medicine, created = m.Medicine.objects.get_or_create(name=row.pop("name"), defaults=row)
        if created:
            classes = list(m.InteractingClass.objects.filter(code__in=class_codes))
            if len(classes) != len(set(class_codes)):
                raise SeedError(f"medicine {medicine.name}: unknown class in {class_codes}")
            medicine.classes.set(classes)
            report.medicines_created += 1
    if not m.WarningSign.objects.exists():
        for order, row in enumerate(data.get("warning_signs", [])):
            sign = m.WarningSign(display_order=order, **row)
            _clean(sign, f"warning sign {order}")
            sign.save()
    for row in data.get("lab_tests", []):
        row = dict(row)
        units = row.pop("units", [])
        if m.LabTest.objects.filter(loinc=row["loinc"]).exists():
            continue
        lab_test = m.LabTest(**row)
        _clean(lab_test, f"lab test {row['loinc']}")
        lab_test.save()
        for unit in units:
            lab_unit = m.LabUnit(lab_test=lab_test, **unit)
            _clean(lab_unit, f"lab test {row['loinc']} unit {unit.get('unit')}")
            lab_unit.save()
        report.lab_tests_created += 1
    for drug_row in data.get("drugs", []):
        slug = drug_row["slug"]
        if m.Drug.objects.filter(slug=slug).exists():
            report.drugs_kept.append(slug)
            continue
        drug = m.Drug(slug=slug, **{k: drug_row[k] for k in DRUG_FIELDS if k in drug_row})
        _clean(drug, f"drug {slug}")
        drug.save()
        for section in SECTIONS:
            for index, row in enumerate(drug_row.get(section.key, [])):
                where = f"drug {slug} {section.key}[{index}]"
                unknown = set(row) - set(section.fields)
                if unknown:
                    raise SeedError(f"{where}: unknown keys {sorted(unknown)}")
                obj = section.model(drug=drug, **_resolve_fks(row, where))
                _clean(obj, where)
                obj.save()
        m.CatalogueVersion.objects.create(
            drug=drug, drug_name=drug.generic_name, created_by=actor, reason=SEED_REASON, snapshot=drug_snapshot(drug)
        )
        report.drugs_created.append(slug)
    report.codes_created = load_drug_codes(data)
    return report


def load_drug_codes(data: dict) -> int:
    """The seed's drug codes, each only where its drug has no code of that system yet (an admin's edit stays).
    Also run by migration drugs 0008 for installs whose drugs were loaded before codes existed."""
    created = 0
    for index, row in enumerate(data.get("drug_codes", [])):
        row = dict(row)
        drug = m.Drug.objects.filter(slug=row.pop("drug")).first()
        if drug is None or m.DrugCode.objects.filter(drug=drug, system=row["system"]).exists():
            continue
        if m.DrugCode.objects.filter(system=row["system"], code=row["code"]).exists():
            continue
        code = m.DrugCode(drug=drug, verified=False, **row)
        _clean(code, f"drug code {index}")
        code.save()
        created += 1
    return created
