"""The company's invoices (faturas) by year with their situation, and the copy of an invoice's bank
slip (seed 003, "Financeiro": 2ª via de boleto, atualização de faturas vencidas). The slip is
backend.billing's — the same linha digitável, PIX copia e cola, fine and interest as a
beneficiary's fee, and PDF through a signed link —, computed for a transient Fee that carries the
invoice's values (never stored) and a "nosso número" in a range of its own (INVOICE_SEQUENCE_BASE)."""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import date

from sqlalchemy import extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.billing.charges import OPEN, OVERDUE, PAID, effective_status
from backend.billing.fees import PROTOCOL_KIND, IssuedSlip, billing_of, money, pending_parts, slip_json
from backend.billing.slip_pdf import percent_text, render_slip
from backend.billing.slips import build_slip, slip_data
from backend.company.auth import CompanyCaller
from backend.models import Beneficiary, Company, CompanyInvoice, Fee
from backend.operator_profile import OperatorProfile
from backend.protocols import new_protocol
from backend.refusals import Refusals
from common.company_documents import format_cnpj
from common.labels import FEE_STATUS_LABELS, date_text, month_text
from common.money import format_brl

log = logging.getLogger(__name__)

INVOICE_SEQUENCE_BASE = 9_000_000_000  # nosso número of invoices: base + id (fees use their id, far below)
_DOCUMENT_RE = re.compile(r"[A-Za-z0-9-]{1,20}")
REFUSALS = Refusals(
    {
        "invoice_not_found": "Não encontrei essa fatura entre as da sua empresa. Confira o número e tente de novo.",
        "invoice_already_paid": "A fatura de {reference_month_text} já está paga{paid}. Não é preciso emitir boleto.",
        "no_invoices_in_year": "Não encontrei faturas da empresa em {year}.",
    }
)


def invoice_json(invoice: CompanyInvoice, today: date) -> dict:
    status = effective_status(invoice.status, invoice.paid_at, invoice.due_date, today)
    return {
        "document_number": invoice.document_number,
        "reference_month": f"{invoice.reference_month:%Y-%m}",
        "reference_month_text": month_text(invoice.reference_month),
        "due_date": invoice.due_date.isoformat(),
        "due_date_text": date_text(invoice.due_date),
        "amount": money(invoice.amount),
        "amount_text": format_brl(invoice.amount),
        "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
        "paid_at_text": date_text(invoice.paid_at) if invoice.paid_at else None,
        "status": status,
        "status_text": FEE_STATUS_LABELS[status],
    }


def invoices_summary(invoices: list[dict], year: int) -> str:
    overdue = [i for i in invoices if i["status"] == OVERDUE]
    open_ = [i for i in invoices if i["status"] == OPEN]
    parts = pending_parts(overdue, open_, "fatura")
    if not parts:
        return f"Todas as faturas de {year} estão pagas."
    if len(overdue) + len(open_) < len(invoices):
        parts.append("As demais estão pagas.")
    return " ".join(parts)


async def invoices_of_year(session: AsyncSession, caller: CompanyCaller, year: int, today: date) -> dict:
    """{year, years (with invoices, newest first), invoices (of `year`, newest first), summary}.
    Refuses no_invoices_in_year."""
    company_id = caller.company.id
    years = sorted(
        (
            await session.execute(
                select(func.distinct(extract("year", CompanyInvoice.reference_month))).where(
                    CompanyInvoice.company_id == company_id
                )
            )
        )
        .scalars()
        .all(),
        reverse=True,
    )
    rows = (
        (
            await session.execute(
                select(CompanyInvoice)
                .where(
                    CompanyInvoice.company_id == company_id,
                    CompanyInvoice.reference_month >= date(year, 1, 1),
                    CompanyInvoice.reference_month <= date(year, 12, 31),
                )
                .order_by(CompanyInvoice.reference_month.desc())
            )
        )
        .scalars()
        .all()
    )
    await session.commit()
    if not rows:
        raise REFUSALS.refuse("no_invoices_in_year", year=year, years=[int(y) for y in years])
    invoices = [invoice_json(row, today) for row in rows]
    return {
        "year": year,
        "years": [int(y) for y in years],
        "invoices": invoices,
        "summary": invoices_summary(invoices, year),
    }


def _as_fee(invoice: CompanyInvoice) -> Fee:
    """A transient Fee with the invoice's values, for backend.billing (never added to a session)."""
    return Fee(
        id=INVOICE_SEQUENCE_BASE + invoice.id,
        document_number=invoice.document_number,
        reference_month=invoice.reference_month,
        due_date=invoice.due_date,
        type="Fatura",
        amount=invoice.amount,
        paid_at=invoice.paid_at,
        status=invoice.status,
    )


def _payer(company: Company) -> Beneficiary:
    """The slip's payer: the company (backend.billing prints it as a beneficiary: name and code)."""
    return Beneficiary(name=f"{company.name} (CNPJ {format_cnpj(company.cnpj)})", card_number=company.code)


async def _company_invoice(session: AsyncSession, company_id: int, document_number: str) -> CompanyInvoice | None:
    if not _DOCUMENT_RE.fullmatch(document_number):
        return None
    return (
        await session.execute(
            select(CompanyInvoice).where(
                CompanyInvoice.document_number == document_number, CompanyInvoice.company_id == company_id
            )
        )
    ).scalar_one_or_none()


def _slip_message(issued: IssuedSlip) -> str:
    charge, billing, reference = issued.charge, issued.billing, month_text(issued.fee.reference_month)
    if charge.days_late:
        return (
            f"Segunda via da fatura de {reference}, atualizada para pagamento hoje, {date_text(charge.due_date)}: "
            f"{format_brl(charge.amount)}. O valor original era {format_brl(charge.original_amount)} (vencimento em "
            f"{date_text(charge.original_due_date)}) e inclui multa de {percent_text(billing.fine_percent)} "
            f"({format_brl(charge.fine)}) e juros de {percent_text(billing.monthly_interest_percent)} ao mês "
            f"({format_brl(charge.interest)}) por {charge.days_late} dia{'s' if charge.days_late > 1 else ''} "
            "de atraso."
        )
    due = date_text(charge.due_date)
    return f"Segunda via da fatura de {reference}: {format_brl(charge.amount)}, com vencimento em {due}."


async def issue_invoice_slip(
    session: AsyncSession,
    caller: CompanyCaller,
    document_number: str,
    *,
    operator: OperatorProfile,
    channel: str,
    conversation_id: str | None,
    today: date,
) -> tuple[dict, dict]:
    """(the slip as the API sends it, what its signed PDF link carries): a new slip of the company's
    invoice updated to `today`, with its protocol (committed). Refuses billing_unavailable,
    invoice_not_found or invoice_already_paid."""
    billing = billing_of(operator)
    invoice = await _company_invoice(session, caller.company.id, document_number)
    if invoice is None:
        raise REFUSALS.refuse("invoice_not_found")
    status = effective_status(invoice.status, invoice.paid_at, invoice.due_date, today)
    if status == PAID:
        raise REFUSALS.refuse(
            "invoice_already_paid",
            words={
                "reference_month_text": month_text(invoice.reference_month),
                "paid": f": o pagamento foi registrado em {date_text(invoice.paid_at)}" if invoice.paid_at else "",
            },
            paid_at=invoice.paid_at.isoformat() if invoice.paid_at else None,
        )
    fee = _as_fee(invoice)
    slip = build_slip(operator, fee, today)
    protocol = await new_protocol(
        session,
        PROTOCOL_KIND,
        ans_registration=operator.ans_registration,
        channel=channel,
        status="completed",
        conversation_id=conversation_id,
        details={
            "invoice": invoice.document_number,
            "requested_by": caller.user.user_code,
            "due_date": slip.charge.due_date.isoformat(),
            "amount": money(slip.charge.amount),
            "fine": money(slip.charge.fine),
            "interest": money(slip.charge.interest),
        },
    )
    protocol.company_id = caller.company.id
    await session.commit()
    log.info("invoice slip issued", extra={"protocol": protocol.number, "invoice_id": invoice.id})
    issued = IssuedSlip(protocol.number, fee, status, slip, billing)
    body = {**slip_json(issued), "message": _slip_message(issued)}
    params = {
        "invoice": invoice.document_number,
        "company": caller.company.id,
        "issued_on": today.isoformat(),
        "protocol": protocol.number,
    }
    return body, params


async def invoice_slip_pdf(session: AsyncSession, operator: OperatorProfile, params: dict) -> tuple[bytes, str]:
    """(PDF, filename) of the slip a signed link points to, as of its day of issue."""
    billing_of(operator)
    invoice = await _company_invoice(session, params["company"], params["invoice"])
    company = await session.get(Company, params["company"])
    if invoice is None or company is None:
        raise REFUSALS.refuse("invoice_not_found")
    issued_on = date.fromisoformat(params["issued_on"])
    fee = _as_fee(invoice)
    slip = build_slip(operator, fee, issued_on)
    data = slip_data(operator, _payer(company), fee, slip, issued_on, params["protocol"])
    content = render_slip(dataclasses.replace(data, payer_name=_payer(company).name), compress=False)
    return content, f"fatura-{invoice.document_number}.pdf"
