"""How numbers are shown to clinicians (pure; the template filter ``|decimal`` wraps it)."""

from __future__ import annotations

from decimal import Decimal


def decimal_text(value: Decimal | int | float) -> str:
    """A number as a clinician writes it: 1.2, 50, 0.5 (no trailing zeros, no exponent)."""
    return f"{Decimal(str(value)).normalize():f}"
