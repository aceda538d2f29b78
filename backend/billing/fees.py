"""The holder's fees (mensalidades) and the copy of a fee's bank slip (segunda via de boleto):
who may see them, the list with its summary, the slip with its protocol, and the slip's PDF."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.billing.charges import OPEN, OVERDUE, PAID, Charge, effective_status
from backend.billing.slip_pdf import percent_text, render_slip
from backend.billing.slips import Slip, build_slip, slip_data
from backend.models import ACTIVE, Beneficiary, Fee
from backend.operator_profile import BillingProfile, OperatorProfile
from backend.protocols import new_protocol
from backend.refusals import Refusals
from common.labels import FEE_STATUS_LABELS, date_text, month_text
from common.money import format_brl

log = logging.getLogger(__name__)

PROTOCOL_KIND = "bank_slip_copy"
FEES_SHOWN = 12
_DOCUMENT_RE = re.compile(r"[A-Za-z0-9-]{1,20}")

REFUSALS = Refusals(
    {
        "not_holder": "As mensalidades e os boletos ficam com o titular do plano. Só o titular pode ver e "
        "pagar as mensalidades por aqui.",
        "fee_not_found": "Não encontrei esse documento entre as suas mensalidades. Confira o número e tente de novo.",
        "already_paid": "A mensalidade de {reference_month_text} já está paga: o pagamento foi registrado{paid}. "
        "Não é preciso emitir boleto.",
        "billing_unavailable": "A emissão de boletos não está disponível agora. Ligue {central_24h}.",
    }
)


def money(value: Decimal) -> str:
    """'1289.70': an amount as the API sends it."""
    return f"{Decimal(value):.2f}"


def holder_only(verified: Beneficiary) -> Beneficiary:
    """Fees are the holder's: a verified dependent is refused (not_holder)."""
    if verified.holder_id is not None:
        raise REFUSALS.refuse("not_holder")
    return verified


def billing_of(operator: OperatorProfile) -> BillingProfile:
    """The operator's bank data; refuses billing_unavailable when the profile has none."""
    if operator.billing is None:
        raise REFUSALS.refuse("billing_unavailable")
    return operator.billing


# --- the list --------------------------------------------------------------------------------------


def fee_json(fee: Fee, today: date) -> dict:
    status = effective_status(fee.status, fee.paid_at, fee.due_date, today)
    return {
        "document_number": fee.document_number,
        "reference_month": f"{fee.reference_month:%Y-%m}",
        "reference_month_text": month_text(fee.reference_month),
        "due_date": fee.due_date.isoformat(),
        "due_date_text": date_text(fee.due_date),
        "type": fee.type,
        "amount": money(fee.amount),
        "amount_text": format_brl(fee.amount),
        "paid_at": fee.paid_at.isoformat() if fee.paid_at else None,
        "paid_at_text": date_text(fee.paid_at) if fee.paid_at else None,
        "status": status,
        "status_text": FEE_STATUS_LABELS[status],
    }


def pending_parts(overdue: list[dict], open_: list[dict], noun: str, lead: str = "") -> list[str]:
    """The sentences on what is still to pay (fees or a company's invoices, as their views): "N <noun>s
    vencidas: <month> (<amount>, venceu em <date>), ..." and "Em aberto: ...", as they apply."""
    parts = []
    if overdue:
        listed = ", ".join(
            f"{i['reference_month_text']} ({i['amount_text']}, venceu em {i['due_date_text']})" for i in overdue
        )
        plural = "s" if len(overdue) > 1 else ""
        parts.append(f"{lead}{len(overdue)} {noun}{plural} vencida{plural}: {listed}.")
    if open_:
        listed = ", ".join(
            f"{i['reference_month_text']} ({i['amount_text']}, vence em {i['due_date_text']})" for i in open_
        )
        parts.append(f"Em aberto: {listed}.")
    return parts


def fees_summary(fees: list[dict], holder: Beneficiary) -> str:
    """One pt-BR paragraph: the plan's situation, the overdue and open fees."""
    parts = []
    if holder.status != ACTIVE:
        since = f" desde {date_text(holder.cancelled_at)}" if holder.cancelled_at else ""
        parts.append(f"Seu plano está cancelado{since}.")
    if not fees:
        parts.append("Não encontrei mensalidades no seu cadastro.")
        return " ".join(parts)
    overdue = [fee for fee in fees if fee["status"] == OVERDUE]
    open_ = [fee for fee in fees if fee["status"] == OPEN]
    parts += pending_parts(overdue, open_, "mensalidade", lead="Você tem ")
    if not overdue and not open_:
        parts.append("Todas as suas mensalidades estão pagas.")
    elif len(overdue) + len(open_) < len(fees):
        parts.append("As demais estão pagas.")
    return " ".join(parts)


async def recent_fees(session: AsyncSession, holder: Beneficiary, today: date) -> list[dict]:
    """The holder's last FEES_SHOWN fees, newest first (fee_json)."""
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
    await session.commit()
    return [fee_json(fee, today) for fee in rows]


# --- the slip --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedSlip:
    protocol: str
    fee: Fee
    status: str  # the fee's, on the day of issue: open | overdue
    slip: Slip
    billing: BillingProfile

    @property
    def charge(self) -> Charge:
        return self.slip.charge


async def _holders_fee(session: AsyncSession, holder_id: int, document_number: str) -> Fee | None:
    return (
        await session.execute(
            select(Fee).where(Fee.document_number == document_number, Fee.beneficiary_id == holder_id)
        )
    ).scalar_one_or_none()


async def issue_slip(
    session: AsyncSession,
    verified: Beneficiary,
    document_number: str,
    *,
    operator: OperatorProfile,
    channel: str,
    conversation_id: str,
    today: date,
) -> IssuedSlip:
    """A new slip of the holder's fee, updated to `today`, with its protocol (committed). Refuses
    billing_unavailable, not_holder, fee_not_found or already_paid (with paid_at)."""
    billing = billing_of(operator)
    holder = holder_only(verified)
    fee = None
    if _DOCUMENT_RE.fullmatch(document_number):
        fee = await _holders_fee(session, holder.id, document_number)
    if fee is None:
        raise REFUSALS.refuse("fee_not_found")
    status = effective_status(fee.status, fee.paid_at, fee.due_date, today)
    if status == PAID:
        raise REFUSALS.refuse(
            "already_paid",
            words={
                "reference_month_text": month_text(fee.reference_month),
                "paid": f" em {date_text(fee.paid_at)}" if fee.paid_at else "",
            },
            paid_at=fee.paid_at.isoformat() if fee.paid_at else None,
            paid_at_text=date_text(fee.paid_at) if fee.paid_at else None,
        )
    slip = build_slip(operator, fee, today)
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
            "due_date": slip.charge.due_date.isoformat(),
            "amount": money(slip.charge.amount),
            "fine": money(slip.charge.fine),
            "interest": money(slip.charge.interest),
        },
    )
    await session.commit()
    log.info(
        "bank slip issued", extra={"protocol": protocol.number, "fee_id": fee.id, "days_late": slip.charge.days_late}
    )
    return IssuedSlip(protocol.number, fee, status, slip, billing)


def slip_message(issued: IssuedSlip) -> str:
    fee, charge, billing = issued.fee, issued.charge, issued.billing
    reference = month_text(fee.reference_month)
    if charge.days_late:
        return (
            f"Segunda via da mensalidade de {reference}, atualizada para pagamento hoje, "
            f"{date_text(charge.due_date)}: {format_brl(charge.amount)}. O valor original era "
            f"{format_brl(charge.original_amount)} (vencimento em {date_text(charge.original_due_date)}) e inclui "
            f"multa de {percent_text(billing.fine_percent)} ({format_brl(charge.fine)}) e juros de "
            f"{percent_text(billing.monthly_interest_percent)} ao mês ({format_brl(charge.interest)}) por "
            f"{charge.days_late} dia{'s' if charge.days_late > 1 else ''} de atraso."
        )
    return (
        f"Segunda via da mensalidade de {reference}: {format_brl(charge.amount)}, "
        f"com vencimento em {date_text(charge.due_date)}."
    )


def slip_json(issued: IssuedSlip) -> dict:
    """The slip as the API sends it (without its PDF link)."""
    fee, slip, charge, billing = issued.fee, issued.slip, issued.charge, issued.billing
    return {
        "protocol": issued.protocol,
        "document_number": fee.document_number,
        "reference_month": f"{fee.reference_month:%Y-%m}",
        "reference_month_text": month_text(fee.reference_month),
        "status": issued.status,
        "original_due_date": charge.original_due_date.isoformat(),
        "original_due_date_text": date_text(charge.original_due_date),
        "due_date": charge.due_date.isoformat(),
        "due_date_text": date_text(charge.due_date),
        "days_late": charge.days_late,
        "original_amount": money(charge.original_amount),
        "original_amount_text": format_brl(charge.original_amount),
        "fine": money(charge.fine),
        "fine_text": format_brl(charge.fine),
        "interest": money(charge.interest),
        "interest_text": format_brl(charge.interest),
        "amount": money(charge.amount),
        "amount_text": format_brl(charge.amount),
        "fine_percent": percent_text(billing.fine_percent),
        "monthly_interest_percent": percent_text(billing.monthly_interest_percent),
        "linha_digitavel": slip.linha_digitavel,
        "linha_digitavel_digits": slip.linha_digitavel_digits,
        "barcode": slip.barcode,
        "pix_copia_e_cola": slip.pix_copia_e_cola,
        "message": slip_message(issued),
    }


def slip_link_params(issued: IssuedSlip, holder_id: int, today: date) -> dict:
    """What the slip's signed link carries: enough to compute the same slip again (slip_pdf)."""
    return {
        "fee": issued.fee.document_number,
        "holder": holder_id,
        "issued_on": today.isoformat(),
        "protocol": issued.protocol,
    }


async def slip_pdf(session: AsyncSession, operator: OperatorProfile, params: dict) -> tuple[bytes, str]:
    """(PDF, filename) of the slip a signed link points to, as of its day of issue."""
    billing_of(operator)
    fee = await _holders_fee(session, params["holder"], params["fee"])
    holder = await session.get(Beneficiary, params["holder"])
    if fee is None or holder is None:
        raise REFUSALS.refuse("fee_not_found")
    issued_on = date.fromisoformat(params["issued_on"])
    slip = build_slip(operator, fee, issued_on)
    # Uncompressed: a one-page slip stays small, and its text can be checked (and indexed) as is.
    content = render_slip(slip_data(operator, holder, fee, slip, issued_on, params["protocol"]), compress=False)
    return content, f"boleto-{fee.document_number}.pdf"
