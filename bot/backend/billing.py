"""Fees (mensalidades) and bank-slip copies (segunda via do boleto) of the verified holder.

GET  /api/fees                              the last fees, newest first, and a summary line
POST /api/fees/{document_number}/slips      a new slip: linha digitável, PIX, PDF link, protocol
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, answer, from_json, path_segment

PAID, OPEN, OVERDUE = "paid", "open", "overdue"


@dataclass(frozen=True)
class Fee:
    document_number: str
    reference_month_text: str  # 03/2026
    amount_text: str  # R$ 450,00
    status: str  # paid | open | overdue
    status_text: str
    due_date_text: str | None
    paid_at_text: str | None

    @property
    def unpaid(self) -> bool:
        return self.status in (OPEN, OVERDUE)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Fee:
        return from_json(cls, data)


@dataclass(frozen=True)
class Fees:
    summary: str  # the backend's pt-BR summary (what is overdue, open, paid)
    fees: tuple[Fee, ...]  # newest first

    @property
    def unpaid(self) -> tuple[Fee, ...]:
        return tuple(fee for fee in self.fees if fee.unpaid)


@dataclass(frozen=True)
class Slip:
    protocol: str
    document_number: str
    message: str
    linha_digitavel: str
    pix_copia_e_cola: str
    pdf_url: str
    expires_in_minutes: int


async def fees(caller: Caller) -> Fees | Refusal:
    """Refusals: 401, 403 not_holder (a dependent: fees are the holder's)."""
    return await answer(
        backend.get("/api/fees", headers=caller.headers()),
        lambda data: from_json(Fees, data, fees=tuple(Fee.from_api(fee) for fee in data["fees"])),
    )


async def issue_slip(caller: Caller, document_number: str) -> Slip | Refusal:
    """Refusals: 400, 401, 403 not_holder, 404 fee_not_found, 409 already_paid."""
    request = backend.post(f"/api/fees/{path_segment(document_number)}/slips", caller.body())
    return await answer(request, lambda data: from_json(Slip, data))
