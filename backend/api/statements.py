"""POST /api/statements: income-tax statement, annual debt-discharge declaration and statement of
services used, as a PDF behind a short-lived signed link (kind "statement"); the use cases are
backend.statements's.

Body {verification, conversation_id, channel, kind, year, month?, beneficiary?}. kind:
demonstrativo_ir | quitacao_debitos | extrato_atendimentos (month required; beneficiary = card
number, optional: without it a holder gets the whole family's services).
201 {protocol, kind, year, month, url, expires_in_minutes, filename, summary, empty: false};
200 {protocol, kind, year, month, empty: true, message, summary} for a month without services;
400 invalid_request (fields); 401 verification_invalid; 403 holder_only | not_in_family;
409 open_fees (with open_fees: [{reference_month, due_date_text, amount_text, ...}]);
422 year_in_future | year_not_closed | before_plan_start | no_fees | no_fees_in_year | no_payments |
month_in_future.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.downloads import File, renderer
from backend.api.forms import Form, required
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.clock import local_today
from backend.settings import Settings
from backend.signed_links import DEFAULT_TTL, sign, url
from backend.statements import KINDS, SERVICES, IssuedStatement, StatementRequest, issue_statement, statement_pdf
from common.labels import MONTH_NAMES
from common.text import fold
from common.validators import InvalidValue, normalize_card

routes = web.RouteTableDef()
LINK_KIND = "statement"
_MONTHS = {fold(name): number for number, name in enumerate(MONTH_NAMES, start=1)}


class StatementForm(Form):
    def request(self) -> StatementRequest | None:
        """What is asked (None when a field is wrong: the error is recorded)."""
        kind = self.text(
            "kind", "o documento (demonstrativo_ir, quitacao_debitos ou extrato_atendimentos)", max_length=40
        )
        if kind is not None and kind not in KINDS:
            self.errors["kind"] = (
                "Documento desconhecido: use demonstrativo_ir, quitacao_debitos ou extrato_atendimentos."
            )
        year = self._year(self.raw("year"))  # year and month may come as numbers
        month = self._month(self.raw("month")) if kind == SERVICES else None
        card_number = self.optional("beneficiary", max_length=20)
        if card_number:
            try:
                card_number = normalize_card(card_number)
            except InvalidValue as exc:
                self.errors["beneficiary"] = str(exc)
        if self.errors:
            return None
        return StatementRequest(required(kind), required(year), month, card_number)

    def _year(self, value: Any) -> int | None:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2999:
            self.errors["year"] = "Informe o ano com 4 dígitos, por exemplo 2025."
            return None
        return value

    def _month(self, value: Any) -> int | None:
        """1-12, '03', or the month's name in Portuguese ('março', 'marco')."""
        if isinstance(value, str):
            text = value.strip()
            value = int(text) if text.isdigit() else _MONTHS.get(fold(text), text)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
            self.errors["month"] = "Informe o mês: de 1 a 12 ou o nome, como março."
            return None
        return value


def _statement_body(issued: IssuedStatement, settings: Settings) -> dict:
    asked, statement = issued.request, issued.statement
    answer = {"protocol": issued.protocol, "kind": asked.kind, "year": asked.year, "month": asked.month}
    answer.update(summary=statement.summary, empty=statement.empty)
    if statement.empty:
        return {**answer, "message": f"{statement.summary} Quer ver outro mês?"}
    link = sign(settings.link_signing_secret, LINK_KIND, {"protocol": issued.protocol})
    return {
        **answer,
        "url": url(settings.public_backend_url, link),
        "expires_in_minutes": int(DEFAULT_TTL.total_seconds() // 60),
        "filename": statement.filename,
    }


@routes.post("/api/statements")
async def create_statement(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await StatementForm.read(request)
    token = form.verification()
    channel, conversation_id = form.channel(), form.conversation_id(request)
    asked = form.request()
    form.validate()
    async with request.app[SESSIONS]() as session:
        verified = await verified_beneficiary(request, session, token, conversation_id)
        issued = await issue_statement(
            session,
            verified,
            required(asked),
            ans_registration=request.app[OPERATOR].ans_registration,
            channel=channel,
            conversation_id=conversation_id,
            today=local_today(),
        )
    return json_response(_statement_body(issued, request.app[SETTINGS]), status=200 if issued.statement.empty else 201)


@renderer(LINK_KIND)
async def render_statement(request: web.Request, session: AsyncSession, params: dict) -> File:
    """Rebuilds the statement of the protocol with the data as of its day of issue."""
    content, filename = await statement_pdf(session, request.app[OPERATOR], str(params.get("protocol", "")))
    return File(content, "application/pdf", filename)
