"""Validate a lab-results CSV row by row (a fixed number of queries), so nothing is imported while any row is bad.

Columns: record_number, loinc, value, unit, collected_on (YYYY-MM-DD), separated by commas or (as EU spreadsheets save
CSV) semicolons. Values take a point or a comma for decimals. Coded tests (screening) take positive, negative or
indeterminate as the value and an empty unit. The unit is the UCUM code, the label shown in the form, or as labs
write it (umol/l, x10^9/L): the one conversion path of the lab form (drugs.units), so both accept the same values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.utils import timezone

from drugs import units
from drugs.models import LabTest
from monitoring.services import ResultRow
from patients.dates import result_date_error
from patients.models import LabResult, Patient

COLUMNS = ("record_number", "loinc", "value", "unit", "collected_on")
MAX_ROWS = 5000
MAX_BYTES = 1024 * 1024
TOO_LARGE = (
    f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Split it into smaller files "
    f"(at most {MAX_ROWS:,} rows each)."
)
CODED = {code for code, _label in units.CODED_VALUES}
NUL = "\x00"
NUL_MESSAGE = "Contains a NUL character (often from a copy or an export error): remove it and upload again."


@dataclass(frozen=True)
class RowError:
    row: int  # 1 = the header line; data rows start at 2, as a spreadsheet numbers them
    column: str
    message: str


@dataclass
class Parsed:
    rows: list[ResultRow]
    errors: list[RowError]
    fatal: str = ""
    # Rows whose result is already recorded (same patient, test, date and value): not an error, not imported again.
    already_recorded: list[int] = field(default_factory=list)


def _decode(raw: bytes) -> str | None:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _delimiter(text: str) -> str:
    """Comma, or semicolon as spreadsheets save CSV where the comma is the decimal mark (EU): read from the header,
    which names the columns and so holds no decimal commas."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def read_upload(upload) -> bytes:
    """The uploaded file's bytes, at most one more than MAX_BYTES: enough for parse_csv to refuse a larger file
    without reading all of it."""
    return upload.read(MAX_BYTES + 1)


def parse_csv(raw: bytes, *, clinic_id: int) -> Parsed:
    """The rows to import, or every problem found; the one place the size limit is checked."""
    if len(raw) > MAX_BYTES:
        return Parsed([], [], TOO_LARGE)
    text = _decode(raw)
    if text is None:
        return Parsed([], [], "The file is not a text (CSV) file. Save it from your spreadsheet as CSV UTF-8.")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    try:
        lines = list(reader)
    except csv.Error:
        return Parsed([], [], "The file could not be read as CSV. Save it from your spreadsheet as CSV UTF-8.")
    if not lines:
        return Parsed([], [], "The file is empty.")
    header = [h.strip().lower() for h in lines[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return Parsed(
            [], [], f"The first line must name the columns {', '.join(COLUMNS)}; missing: {', '.join(missing)}."
        )
    body = [(n, line) for n, line in enumerate(lines[1:], start=2) if any(cell.strip() for cell in line)]
    if not body:
        return Parsed([], [], "The file has a header but no results.")
    if len(body) > MAX_ROWS:
        return Parsed([], [], f"The file has {len(body):,} rows; at most {MAX_ROWS:,} can be imported at once.")
    index = {name: header.index(name) for name in COLUMNS}

    def cell(line, name):
        i = index[name]
        return line[i].strip() if i < len(line) else ""

    def nul_columns(line) -> list[str]:
        return [name for name in COLUMNS if NUL in cell(line, name)]

    # A NUL character cannot be stored or even looked up (PostgreSQL refuses it in text): such rows are reported
    # and left out of the lookups below.
    clean = [line for _n, line in body if not nul_columns(line)]
    records = {cell(line, "record_number") for line in clean}
    patients = {p.record_number: p for p in Patient.objects.filter(clinic_id=clinic_id, record_number__in=records)}
    tests = {t.loinc: t for t in LabTest.objects.with_unit_labels()}
    existing = set(
        LabResult.objects.filter(
            patient__in=list(patients.values()), lab_test__loinc__in={cell(line, "loinc") for line in clean}
        ).values_list("patient_id", "lab_test_id", "collected_on", "value", "coded_value")
    )
    today = timezone.localdate()
    rows: list[ResultRow] = []
    errors: list[RowError] = []
    seen: dict[tuple, int] = {}
    already: list[int] = []
    for number, line in body:
        before = len(errors)

        def bad(column, message, number=number):
            errors.append(RowError(number, column, message))

        if columns := nul_columns(line):
            for column in columns:
                bad(column, NUL_MESSAGE)
            continue

        patient = patients.get(cell(line, "record_number"))
        if not cell(line, "record_number"):
            bad("record_number", "Empty: give the patient's record number.")
        elif patient is None:
            bad("record_number", "No patient with this record number in your clinic.")
        test = tests.get(cell(line, "loinc"))
        if test is None:
            bad("loinc", "Unknown LOINC code (not a lab test in the catalogue).")
        collected = None
        try:
            collected = dt.date.fromisoformat(cell(line, "collected_on"))
        except ValueError:
            bad("collected_on", "Not a date in the form YYYY-MM-DD.")
        if collected is not None and (
            message := result_date_error(collected, patient.date_of_birth if patient else None, today)
        ):
            bad("collected_on", message)
        value, coded, unit_code = None, "", ""
        if test is not None and test.value_type == LabTest.ValueType.CODED:
            coded = cell(line, "value").lower()
            if coded not in CODED:
                bad("value", "Use positive, negative or indeterminate for this test.")
        elif test is not None:
            unit = test.unit_for(cell(line, "unit"))
            if unit is None:
                bad("unit", f"Unit not accepted for {test.short_name} (accepted: {test.accepted_units_text}).")
            else:
                unit_code = unit.unit
                try:
                    value = test.to_canonical(cell(line, "value"), unit)
                except units.EntryError as exc:
                    bad("value", str(exc))
        if len(errors) > before or patient is None or test is None or collected is None:  # each None adds an error
            continue
        key = (patient.pk, test.pk, collected, value, coded)
        if key in seen:
            bad("record_number", f"Duplicate of row {seen[key]} (same patient, test, date and value).")
            continue
        seen[key] = number
        if key in existing:
            already.append(number)
            continue
        rows.append(
            ResultRow(
                patient=patient,
                lab_test=test,
                collected_on=collected,
                value=value,
                coded_value=coded,
                entered_value=cell(line, "value"),
                entered_unit=unit_code,
                source_row=number,
            )
        )
    return Parsed(rows, errors, already_recorded=already)
