"""How numbers are shown to clinicians (pure; the template filter ``|decimal`` wraps it)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def decimal_text(value: Decimal | int | float) -> str:
    """A number as a clinician writes it: 1.2, 50, 0.5 (no trailing zeros, no exponent)."""
    return f"{Decimal(str(value)).normalize():f}"


DATE_FORMAT = "%d/%m/%Y"  # the portal's date format: the templates' "d/m/Y"


def date_text(value: dt.date | str) -> str:
    """A date as the portal shows it (03/12/2026); accepts a date or an ISO "2026-12-03" string."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value.strftime(DATE_FORMAT)
