"""Writing CSV files staff download (pure; no Django): one place for the delimiter and formula-injection rules.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or carriage return)
as a formula: such cells get a leading apostrophe, which spreadsheets show as text (OWASP "CSV injection").
Clinics that show SI units use the comma as the decimal mark, and their spreadsheets expect semicolons between
columns (as ``monitoring.lab_csv`` accepts on import); the others get commas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SI = "SI"  # the clinic unit system code (portal.models.Clinic.UnitSystem.SI, drugs.units.SI)


def delimiter_for(unit_system: str) -> str:
    """Semicolon for SI clinics (comma decimal mark), comma otherwise."""
    return ";" if unit_system == SI else ","


def safe_cell(value: object) -> str:
    """The cell as text, with an apostrophe before anything a spreadsheet would run as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str = ",") -> Iterator[str]:
    """The file line by line (for a streaming response): a header, then each row, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in header])
    yield _take(buffer)
    for row in rows:
        writer.writerow([safe_cell(c) for c in row])
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text
