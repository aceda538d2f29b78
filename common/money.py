"""Money shown to users: Decimal -> 'R$ 1.234,56' (Brazilian grouping and decimal comma)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def format_brl(value: Decimal | int | str) -> str:
    """Decimal('1289.7') -> 'R$ 1.289,70'; negative amounts as '-R$ 10,00'."""
    amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):,.2f}".split(".")
    return f"{sign}R$ {whole.replace(',', '.')},{cents}"
