"""POST /api/statements: income-tax statement, annual debt-discharge declaration and statement of
services used, as a PDF behind a short-lived signed link (kind "statement")."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.downloads import File, renderer
from backend.api.errors import ApiError
from backend.api.forms import Form, required
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.clock import local_today
from backend.models import Beneficiary, Protocol
from backend.protocols import new_protocol
from backend.signed_links import DEFAULT_TTL, sign, url
from backend.statements import KINDS, SERVICES, StatementRefused, local_issue_time, prepare
from backend.statements.data import MONTH_NAMES
from common.text import fold
from common.validators import InvalidValue, normalize_card

routes = web.RouteTableDef()
LINK_KIND = "statement"
PROTOCOL_KIND = "statement"
KIND_LABELS = {
    "demonstrativo_ir": "o demonstrativo de imposto de renda",
    "quitacao_debitos": "a declaração de quitação de débitos",
    "extrato_atendimentos": "o extrato de atendimentos",
}


_MONTHS = {fold(name): number for number, name in enumerate(MONTH_NAMES, start=1)}


def _year(value: Any, errors: dict[str, str]) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        errors["year"] = "Informe o ano com 4 dígitos, por exemplo 2025."
        return None
    if not 1900 <= value <= 2999:
        errors["year"] = "Informe o ano com 4 dígitos, por exemplo 2025."
        return None
    return value


def _month(value: Any, errors: dict[str, str]) -> int | None:
    """1-12, '03', or the month's name in Portuguese ('março', 'marco')."""
    if isinstance(value, str):
        text = value.strip()
        value = int(text) if text.isdigit() else _MONTHS.get(fold(text), text)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        errors["month"] = "Informe o mês: de 1 a 12 ou o nome, como março."
        return None
    return value


def _refused(exc: StatementRefused) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, **exc.extra)


@routes.post("/api/statements")
async def create_statement(request: web.Request) -> web.Response:
    """Body {verification, conversation_id, channel, kind, year, month?, beneficiary?}.

    kind: demonstrativo_ir | quitacao_debitos | extrato_atendimentos (month required; beneficiary =
    card number, optional: without it a holder gets the whole family's services).
    201 {protocol, kind, year, month, url, expires_in_minutes, filename, summary, empty: false};
    200 {protocol, kind, year, month, empty: true, message, summary} for a month without services;
    400 invalid_request (fields); 401 verification_invalid; 403 holder_only | not_in_family;
    409 open_fees (with open_fees: [{reference_month, due_date_text, amount_text, ...}]);
    422 year_in_future | year_not_closed | before_plan_start | no_fees | no_fees_in_year | no_payments |
    month_in_future.
    """
    form = await Form.read(request)
    token = form.verification()
    channel = form.channel()
    conversation_id = form.conversation_id(request)
    kind = form.text("kind", "o documento (demonstrativo_ir, quitacao_debitos ou extrato_atendimentos)", max_length=40)
    if kind is not None and kind not in KINDS:
        form.errors["kind"] = "Documento desconhecido: use demonstrativo_ir, quitacao_debitos ou extrato_atendimentos."
    year = _year(form.raw("year"), form.errors)  # year and month may come as numbers
    month = _month(form.raw("month"), form.errors) if kind == SERVICES else None
    card_number = form.optional("beneficiary", max_length=20)
    if card_number:
        try:
            card_number = normalize_card(card_number)
        except InvalidValue as exc:
            form.errors["beneficiary"] = str(exc)
    form.validate()
    kind, year = required(kind), required(year)

    operator, settings = request.app[OPERATOR], request.app[SETTINGS]
    today = local_today()
    async with request.app[SESSIONS]() as session:
        verified = await verified_beneficiary(request, session, token, conversation_id)
        try:
            statement = await prepare(session, verified, kind, year, month, card_number, today)
        except StatementRefused as exc:
            raise _refused(exc) from None
        protocol = await new_protocol(
            session,
            PROTOCOL_KIND,
            ans_registration=operator.ans_registration,
            channel=channel,
            status="completed",
            beneficiary_id=verified.id,
            conversation_id=conversation_id,
            details={
                "statement": kind,
                "year": year,
                "month": month,
                "beneficiary": card_number,
                "empty": statement.empty,
            },
        )
        number = protocol.number
        await session.commit()
    answer = {
        "protocol": number,
        "kind": kind,
        "year": year,
        "month": month,
        "summary": statement.summary,
        "empty": statement.empty,
    }
    if statement.empty:
        return json_response({**answer, "message": f"{statement.summary} Quer ver outro mês?"}, status=200)
    link = sign(settings.link_signing_secret, LINK_KIND, {"protocol": number})
    return json_response(
        {
            **answer,
            "url": url(settings.public_backend_url, link),
            "expires_in_minutes": int(DEFAULT_TTL.total_seconds() // 60),
            "filename": statement.filename,
        },
        status=201,
    )


@renderer(LINK_KIND)
async def render_statement(request: web.Request, session: AsyncSession, params: dict) -> File:
    """Rebuilds the statement of the protocol with the data as of its day of issue."""
    protocol = (
        await session.execute(
            select(Protocol).where(Protocol.number == str(params.get("protocol", "")), Protocol.kind == PROTOCOL_KIND)
        )
    ).scalar_one_or_none()
    verified = await session.get(Beneficiary, protocol.beneficiary_id) if protocol else None
    if protocol is None or verified is None:
        raise ApiError(404, "not_found", "Este documento não está mais disponível. Peça de novo no chat.")
    details = protocol.details
    issued_at = local_issue_time(protocol.created_at)
    try:
        statement = await prepare(
            session,
            verified,
            details["statement"],
            details["year"],
            details.get("month"),
            details.get("beneficiary"),
            issued_at.date(),
        )
    except StatementRefused as exc:
        raise _refused(exc) from None
    content = statement.pdf(request.app[OPERATOR], protocol.number, issued_at)
    return File(content, "application/pdf", statement.filename)
