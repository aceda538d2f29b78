"""POST /api/statements: the income-tax statement, the annual debt-discharge declaration and the
statement of services used, as a PDF behind a short-lived link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal

StatementKind = Literal["demonstrativo_ir", "quitacao_debitos", "extrato_atendimentos"]


@dataclass(frozen=True)
class Statement:
    protocol: str
    summary: str
    url: str
    filename: str
    expires_in_minutes: int


@dataclass(frozen=True)
class EmptyStatement:
    """A month without services: no document, the backend's message says so."""

    protocol: str
    message: str


async def request_statement(
    caller: Caller, kind: StatementKind, year: int, month: int | None = None
) -> Statement | EmptyStatement | Refusal:
    """`month` for extrato_atendimentos. Refusals: 400, 401, 403 holder_only | not_in_family,
    409 open_fees (the message lists them), 422 year_in_future | year_not_closed |
    before_plan_start | no_fees_in_year | no_payments | month_in_future."""
    body: dict[str, Any] = {**caller.body(), "kind": kind, "year": year}
    if month is not None:
        body["month"] = month
    response = await backend.post("/api/statements", body)
    if not response.ok:
        return Refusal.of(response)
    data = response.data
    if data.get("empty"):
        return EmptyStatement(protocol=str(data["protocol"]), message=str(data["message"]))
    return Statement(
        protocol=str(data["protocol"]),
        summary=str(data["summary"]),
        url=str(data["url"]),
        filename=str(data["filename"]),
        expires_in_minutes=int(data["expires_in_minutes"]),
    )
