"""What a fee costs on a given day: 2% fine once, plus 1% a month simple interest pro rata die.

Rule (per operator profile, `billing.fine_percent` and `billing.monthly_interest_percent`):
- paid on or before the due date: the original amount;
- later: fine = amount x 2%; interest = amount x 1% / 30 x days late, counting from the day after
  the due date up to the payment day (today) included, i.e. `(today - due_date).days`;
- fine and interest are each rounded to cents, half up (R$ 0,005 -> R$ 0,01), then added.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DAYS_PER_MONTH = Decimal(30)

OPEN, OVERDUE, PAID = "open", "overdue", "paid"


@dataclass(frozen=True)
class Charge:
    original_amount: Decimal
    original_due_date: date
    due_date: date  # of the new slip: today when overdue, else the original one
    days_late: int
    fine: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        return self.original_amount + self.fine + self.interest


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def charge_on(
    amount: Decimal,
    due_date: date,
    today: date,
    *,
    fine_percent: Decimal = Decimal(2),
    monthly_interest_percent: Decimal = Decimal(1),
) -> Charge:
    amount = Decimal(amount)
    days_late = max(0, (today - due_date).days)
    if days_late == 0:
        return Charge(amount, due_date, due_date, 0, Decimal("0.00"), Decimal("0.00"))
    fine = cents(amount * Decimal(fine_percent) / 100)
    interest = cents(amount * Decimal(monthly_interest_percent) / 100 / DAYS_PER_MONTH * days_late)
    return Charge(amount, due_date, today, days_late, fine, interest)


def effective_status(stored_status: str, paid_at: date | None, due_date: date, today: date) -> str:
    """paid | overdue | open: an unpaid fee past its due date is overdue whatever is stored."""
    if paid_at is not None or stored_status == PAID:
        return PAID
    return OVERDUE if today > due_date else OPEN
