"""Fees (mensalidades) and bank-slip copies (segunda_via_boleto) of the verified holder.

GET  /api/fees                                 the last 12 fees, newest first, with a summary line
POST /api/fees/{document_number}/slips         a new slip (protocol, linha digitável, PIX, PDF link)
GET  /documentos/{token}  (kind "boleto")      the slip PDF, through backend.api.downloads
"""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.downloads import File, renderer
from backend.api.errors import ApiError
from backend.api.forms import Form
from backend.api.identity import verified_beneficiary, verified_from_headers
from backend.api.responses import json_response
from backend.billing.charges import OPEN, OVERDUE, PAID, effective_status
from backend.billing.slip_pdf import render_slip
from backend.billing.slips import build_slip, slip_data
from backend.clock import local_today
from backend.models import ACTIVE, Beneficiary, Fee
from backend.operator_profile import OperatorProfile
from backend.protocols import new_protocol
from backend.signed_links import DEFAULT_TTL, sign, url
from common.money import format_brl

routes = web.RouteTableDef()
log = logging.getLogger(__name__)

KIND = "boleto"
PROTOCOL_KIND = "bank_slip_copy"
FEES_SHOWN = 12
STATUS_TEXT = {OPEN: "em aberto", OVERDUE: "vencida", PAID: "paga"}
_DOCUMENT_RE = re.compile(r"[A-Za-z0-9-]{1,20}")


def _day(value: date | None) -> str | None:
    return value.strftime("%d/%m/%Y") if value else None


def _money(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}".replace(".", ",") + "%"


def not_holder() -> ApiError:
    return ApiError(
        403,
        "not_holder",
        "As mensalidades e os boletos ficam com o titular do plano. Só o titular pode ver e "
        "pagar as mensalidades por aqui.",
    )


def fee_not_found() -> ApiError:
    return ApiError(
        404,
        "fee_not_found",
        "Não encontrei esse documento entre as suas mensalidades. Confira o número e tente de novo.",
    )


def _billing_or_503(operator: OperatorProfile):
    if operator.billing is None:
        raise ApiError(
            503,
            "billing_unavailable",
            f"A emissão de boletos não está disponível agora. Ligue {operator.phones['central_24h']}.",
        )
    return operator.billing


def _fee_json(fee: Fee, today: date) -> dict:
    status = effective_status(fee.status, fee.paid_at, fee.due_date, today)
    return {
        "document_number": fee.document_number,
        "reference_month": f"{fee.reference_month:%Y-%m}",
        "reference_month_text": f"{fee.reference_month:%m/%Y}",
        "due_date": fee.due_date.isoformat(),
        "due_date_text": _day(fee.due_date),
        "type": fee.type,
        "amount": _money(fee.amount),
        "amount_text": format_brl(fee.amount),
        "paid_at": fee.paid_at.isoformat() if fee.paid_at else None,
        "paid_at_text": _day(fee.paid_at),
        "status": status,
        "status_text": STATUS_TEXT[status],
    }


def _summary(fees: list[dict], holder: Beneficiary) -> str:
    parts = []
    if holder.status != ACTIVE:
        since = f" desde {_day(holder.cancelled_at)}" if holder.cancelled_at else ""
        parts.append(f"Seu plano está cancelado{since}.")
    if not fees:
        parts.append("Não encontrei mensalidades no seu cadastro.")
        return " ".join(parts)
    overdue = [fee for fee in fees if fee["status"] == OVERDUE]
    open_ = [fee for fee in fees if fee["status"] == OPEN]
    if overdue:
        listed = ", ".join(
            f"{fee['reference_month_text']} ({fee['amount_text']}, venceu em {fee['due_date_text']})" for fee in overdue
        )
        parts.append(
            f"Você tem {len(overdue)} mensalidade{'s' if len(overdue) > 1 else ''} vencida"
            f"{'s' if len(overdue) > 1 else ''}: {listed}."
        )
    if open_:
        listed = ", ".join(
            f"{fee['reference_month_text']} ({fee['amount_text']}, vence em {fee['due_date_text']})" for fee in open_
        )
        parts.append(f"Em aberto: {listed}.")
    if not overdue and not open_:
        parts.append("Todas as suas mensalidades estão pagas.")
    elif len(overdue) + len(open_) < len(fees):
        parts.append("As demais estão pagas.")
    return " ".join(parts)


def _holder(verified: Beneficiary) -> Beneficiary:
    """Fees are the holder's: a verified dependent is refused."""
    if verified.holder_id is not None:
        raise not_holder()
    return verified


@routes.get("/api/fees")
async def list_fees(request: web.Request) -> web.Response:
    """Headers X-Verification, X-Conversation-Id.

    200 {holder: {name, first_name, card_number}, plan_active, fees: [...], summary};
    401 verification_invalid; 403 not_holder (a dependent: fees are the holder's).
    """
    today = local_today()
    async with request.app[SESSIONS]() as session:
        holder = _holder(await verified_from_headers(request, session))
        rows = (
            (
                await session.execute(
                    select(Fee)
                    .where(Fee.beneficiary_id == holder.id)
                    .order_by(Fee.reference_month.desc(), Fee.due_date.desc(), Fee.id.desc())
                    .limit(FEES_SHOWN)
                )
            )
            .scalars()
            .all()
        )
        fees = [_fee_json(fee, today) for fee in rows]
        await session.commit()
    return json_response(
        {
            "holder": {"name": holder.name, "first_name": holder.name.split()[0], "card_number": holder.card_number},
            "plan_active": holder.status == ACTIVE,
            "fees": fees,
            "summary": _summary(fees, holder),
        }
    )


def _slip_message(fee: Fee, charge, billing) -> str:
    reference = f"{fee.reference_month:%m/%Y}"
    if charge.days_late:
        return (
            f"Segunda via da mensalidade de {reference}, atualizada para pagamento hoje, "
            f"{_day(charge.due_date)}: {format_brl(charge.amount)}. O valor original era "
            f"{format_brl(charge.original_amount)} (vencimento em {_day(charge.original_due_date)}) e inclui "
            f"multa de {_percent(billing.fine_percent)} ({format_brl(charge.fine)}) e juros de "
            f"{_percent(billing.monthly_interest_percent)} ao mês ({format_brl(charge.interest)}) por "
            f"{charge.days_late} dia{'s' if charge.days_late > 1 else ''} de atraso."
        )
    return (
        f"Segunda via da mensalidade de {reference}: {format_brl(charge.amount)}, "
        f"com vencimento em {_day(charge.due_date)}."
    )


@routes.post("/api/fees/{document_number}/slips")
async def create_slip(request: web.Request) -> web.Response:
    """Body {verification, conversation_id, channel}.

    201 {protocol, document_number, reference_month, status, original_due_date, due_date, days_late,
         original_amount, fine, interest, amount (+ *_text), fine_percent, monthly_interest_percent,
         linha_digitavel, linha_digitavel_digits, barcode, pix_copia_e_cola, pdf_url,
         expires_in_minutes, message};
    400 invalid_request; 401 verification_invalid; 403 not_holder; 404 fee_not_found;
    409 already_paid (with paid_at).
    """
    form = await Form.read(request)
    token = form.verification()
    channel = form.channel()
    conversation_id = form.conversation_id(request)
    form.validate()
    document_number = request.match_info["document_number"].strip()
    operator = request.app[OPERATOR]
    settings = request.app[SETTINGS]
    billing = _billing_or_503(operator)
    today = local_today()

    async with request.app[SESSIONS]() as session:
        holder = _holder(await verified_beneficiary(request, session, token, conversation_id))
        fee = None
        if _DOCUMENT_RE.fullmatch(document_number):
            fee = (
                await session.execute(
                    select(Fee).where(Fee.document_number == document_number, Fee.beneficiary_id == holder.id)
                )
            ).scalar_one_or_none()
        if fee is None:
            raise fee_not_found()
        status = effective_status(fee.status, fee.paid_at, fee.due_date, today)
        if status == PAID:
            paid = f" em {_day(fee.paid_at)}" if fee.paid_at else ""
            raise ApiError(
                409,
                "already_paid",
                f"A mensalidade de {fee.reference_month:%m/%Y} já está paga: o pagamento foi "
                f"registrado{paid}. Não é preciso emitir boleto.",
                paid_at=fee.paid_at.isoformat() if fee.paid_at else None,
                paid_at_text=_day(fee.paid_at),
            )
        slip = build_slip(operator, fee, today)
        charge = slip.charge
        protocol = await new_protocol(
            session,
            PROTOCOL_KIND,
            ans_registration=operator.ans_registration,
            channel=channel,
            status="completed",
            beneficiary_id=holder.id,
            conversation_id=conversation_id,
            details={
                "document_number": fee.document_number,
                "due_date": charge.due_date.isoformat(),
                "amount": _money(charge.amount),
                "fine": _money(charge.fine),
                "interest": _money(charge.interest),
            },
        )
        await session.commit()
        log.info(
            "bank slip issued", extra={"protocol": protocol.number, "fee_id": fee.id, "days_late": charge.days_late}
        )
        body = {
            "protocol": protocol.number,
            "document_number": fee.document_number,
            "reference_month": f"{fee.reference_month:%Y-%m}",
            "reference_month_text": f"{fee.reference_month:%m/%Y}",
            "status": status,
            "original_due_date": charge.original_due_date.isoformat(),
            "original_due_date_text": _day(charge.original_due_date),
            "due_date": charge.due_date.isoformat(),
            "due_date_text": _day(charge.due_date),
            "days_late": charge.days_late,
            "original_amount": _money(charge.original_amount),
            "original_amount_text": format_brl(charge.original_amount),
            "fine": _money(charge.fine),
            "fine_text": format_brl(charge.fine),
            "interest": _money(charge.interest),
            "interest_text": format_brl(charge.interest),
            "amount": _money(charge.amount),
            "amount_text": format_brl(charge.amount),
            "fine_percent": _percent(billing.fine_percent),
            "monthly_interest_percent": _percent(billing.monthly_interest_percent),
            "linha_digitavel": slip.linha_digitavel,
            "linha_digitavel_digits": slip.linha_digitavel_digits,
            "barcode": slip.barcode,
            "pix_copia_e_cola": slip.pix_copia_e_cola,
            "message": _slip_message(fee, charge, billing),
        }
    link = sign(
        settings.link_signing_secret,
        KIND,
        {"fee": fee.document_number, "holder": holder.id, "issued_on": today.isoformat(), "protocol": protocol.number},
    )
    body["pdf_url"] = url(settings.public_backend_url, link)
    body["expires_in_minutes"] = int(DEFAULT_TTL.total_seconds() // 60)
    return json_response(body, status=201)


@renderer(KIND)
async def render_boleto(request: web.Request, session: AsyncSession, params: dict) -> File:
    operator = request.app[OPERATOR]
    _billing_or_503(operator)
    fee = (
        await session.execute(
            select(Fee).where(Fee.document_number == params["fee"], Fee.beneficiary_id == params["holder"])
        )
    ).scalar_one_or_none()
    holder = await session.get(Beneficiary, params["holder"])
    if fee is None or holder is None:
        raise fee_not_found()
    issued_on = date.fromisoformat(params["issued_on"])
    slip = build_slip(operator, fee, issued_on)
    # Uncompressed: a one-page slip stays small, and its text can be checked (and indexed) as is.
    content = render_slip(slip_data(operator, holder, fee, slip, issued_on, params["protocol"]), compress=False)
    return File(content=content, content_type="application/pdf", filename=f"boleto-{fee.document_number}.pdf")
