"""POST /api/statements: the income-tax statement, the annual debt-discharge declaration and the
statement of services used, as a PDF behind a short-lived link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, answer, from_json

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
    return await answer(backend.post("/api/statements", body), _statement)


def _statement(data: Mapping[str, Any]) -> Statement | EmptyStatement:
    return from_json(EmptyStatement, data) if data.get("empty") else from_json(Statement, data)
