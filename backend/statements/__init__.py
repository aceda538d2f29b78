"""Statements (demonstrativo_ir, quitacao_debitos, extrato_atendimentos): who may ask, loading the
rows, and the PDF. The rules of each statement are in backend.statements.data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import OPERATOR_TZ
from backend.family import NotInFamily, family_of_holder, member, visible_members
from backend.models import Beneficiary, Fee, Protocol, ServiceUsage
from backend.operator_profile import OperatorProfile
from backend.protocols import new_protocol
from backend.statements import pdf
from backend.statements.data import (
    REFUSALS,
    DebtDischargeStatement,
    FeeRow,
    IncomeTaxStatement,
    Person,
    ServiceRow,
    ServicesStatement,
    debt_discharge,
    income_tax,
    services_statement,
)
from common.labels import date_text
from common.money import format_brl

INCOME_TAX, DEBT_DISCHARGE, SERVICES = "demonstrativo_ir", "quitacao_debitos", "extrato_atendimentos"
KINDS = (INCOME_TAX, DEBT_DISCHARGE, SERVICES)
PROTOCOL_KIND = "statement"

__all__ = [
    "DEBT_DISCHARGE",
    "INCOME_TAX",
    "KINDS",
    "REFUSALS",
    "SERVICES",
    "IssuedStatement",
    "Statement",
    "StatementRequest",
    "issue_statement",
    "local_issue_time",
    "prepare",
    "statement_pdf",
]


@dataclass
class Statement:
    kind: str
    holder: Person  # whose name and CPF head the document: the holder, or the verified dependent
    data: IncomeTaxStatement | DebtDischargeStatement | ServicesStatement

    @property
    def empty(self) -> bool:
        return isinstance(self.data, ServicesStatement) and not self.data.rows

    @property
    def filename(self) -> str:
        if isinstance(self.data, ServicesStatement):
            return f"extrato-atendimentos-{self.data.year}-{self.data.month:02d}.pdf"
        if isinstance(self.data, IncomeTaxStatement):
            return f"demonstrativo-ir-{self.data.year}{'-parcial' if self.data.partial else ''}.pdf"
        return f"quitacao-debitos-{self.data.year}.pdf"

    @property
    def summary(self) -> str:
        data = self.data
        if isinstance(data, IncomeTaxStatement):
            names = _names([m.person.first_name for m in data.members if m.total])
            head = (
                f"Demonstrativo parcial de {data.year} (pagamentos até {date_text(data.until)})"
                if data.partial
                else f"Demonstrativo de imposto de renda de {data.year}"
            )
            return f"{head}: total pago {format_brl(data.total)}, dividido entre {names}."
        if isinstance(data, DebtDischargeStatement):
            count = len(data.fees)
            fees = "a mensalidade do ano está paga" if count == 1 else f"as {count} mensalidades do ano estão pagas"
            return f"Declaração de quitação de {data.year}: {fees} ({format_brl(data.total)})."
        if not data.rows:
            return f"Não encontrei atendimentos em {data.month_name}."
        count = len(data.rows)
        text = f"Extrato de {data.month_name}: {count} atendimento{'s' if count > 1 else ''}, {format_brl(data.total)}"
        if data.coparticipation:
            text += f", dos quais {format_brl(data.coparticipation)} de coparticipação"
        return text + "."

    def pdf(self, operator: OperatorProfile, protocol: str, issued_at: datetime) -> bytes:
        data = self.data
        if isinstance(data, IncomeTaxStatement):
            return pdf.income_tax_pdf(data, self.holder, operator, protocol, issued_at)
        if isinstance(data, DebtDischargeStatement):
            return pdf.debt_discharge_pdf(data, self.holder, operator, protocol, issued_at)
        return pdf.services_pdf(data, self.holder, operator, protocol, issued_at)


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} e {names[-1]}"


def person(beneficiary: Beneficiary) -> Person:
    return Person(
        id=beneficiary.id,
        name=beneficiary.name,
        card_number=beneficiary.card_number,
        relationship=beneficiary.relationship,
        cpf=beneficiary.cpf,
        birth_date=beneficiary.birth_date,
        holder=beneficiary.holder_id is None,
    )


def local_issue_time(created_at: datetime) -> datetime:
    """A stored naive-UTC instant as Brazilian local time."""
    return created_at.replace(tzinfo=timezone.utc).astimezone(OPERATOR_TZ)


async def _fees(session: AsyncSession, holder_id: int) -> list[FeeRow]:
    rows = (await session.execute(select(Fee).where(Fee.beneficiary_id == holder_id))).scalars().all()
    return [
        FeeRow(
            document_number=f.document_number,
            reference_month=f.reference_month,
            due_date=f.due_date,
            type=f.type,
            amount=f.amount,
            status=f.status,
            paid_at=f.paid_at,
        )
        for f in rows
    ]


async def _services(session: AsyncSession, people: list[Person]) -> list[ServiceRow]:
    rows = (
        (await session.execute(select(ServiceUsage).where(ServiceUsage.beneficiary_id.in_([p.id for p in people]))))
        .scalars()
        .all()
    )
    return [
        ServiceRow(
            beneficiary_id=s.beneficiary_id,
            service_date=s.service_date,
            provider=s.provider_name,
            procedure=s.procedure,
            amount=s.amount,
            coparticipation=s.coparticipation,
        )
        for s in rows
    ]


async def prepare(
    session: AsyncSession,
    verified: Beneficiary,
    kind: str,
    year: int,
    month: int | None,
    card_number: str | None,
    today: date,
) -> Statement:
    """The statement `verified` asked for; refuses holder_only or not_in_family (a dependent asking
    for the family's payment statements or for someone else's services) and the rules' refusals
    (backend.statements.data)."""
    if kind in (INCOME_TAX, DEBT_DISCHARGE):
        if verified.holder_id is not None:
            raise REFUSALS.refuse("holder_only")
        family = [person(b) for b in await family_of_holder(session, verified)]
        fees = await _fees(session, verified.id)
        data: IncomeTaxStatement | DebtDischargeStatement
        if kind == INCOME_TAX:
            data = income_tax(year, today, family, fees, await _services(session, family))
        else:
            data = debt_discharge(year, today, fees)
        return Statement(kind, family[0], data)
    if kind != SERVICES:
        raise ValueError(kind)
    if month is None:
        raise ValueError("the services statement is for a month")
    try:
        chosen = (
            [await member(session, verified, card_number)] if card_number else await visible_members(session, verified)
        )
    except NotInFamily:
        raise REFUSALS.refuse("not_in_family") from None
    people = [person(b) for b in chosen]
    services = services_statement(year, month, today, people, await _services(session, people))
    return Statement(kind, person(verified), services)


@dataclass(frozen=True)
class StatementRequest:
    kind: str  # KINDS
    year: int
    month: int | None  # the services statement's
    card_number: str | None  # the services statement's beneficiary (None: everyone the verified one sees)


@dataclass(frozen=True)
class IssuedStatement:
    protocol: str
    request: StatementRequest
    statement: Statement


async def issue_statement(
    session: AsyncSession,
    verified: Beneficiary,
    asked: StatementRequest,
    *,
    ans_registration: str,
    channel: str,
    conversation_id: str,
    today: date,
) -> IssuedStatement:
    """The statement with its protocol (committed), which its PDF link is rebuilt from; refuses
    like prepare."""
    statement = await prepare(session, verified, asked.kind, asked.year, asked.month, asked.card_number, today)
    protocol = await new_protocol(
        session,
        PROTOCOL_KIND,
        ans_registration=ans_registration,
        channel=channel,
        status="completed",
        beneficiary_id=verified.id,
        conversation_id=conversation_id,
        details={
            "statement": asked.kind,
            "year": asked.year,
            "month": asked.month,
            "beneficiary": asked.card_number,
            "empty": statement.empty,
        },
    )
    await session.commit()
    return IssuedStatement(protocol.number, asked, statement)


async def statement_pdf(session: AsyncSession, operator: OperatorProfile, number: str) -> tuple[bytes, str]:
    """(PDF, filename) of the statement of protocol `number`, with the data as of its day of issue;
    refuses not_found."""
    protocol = (
        await session.execute(select(Protocol).where(Protocol.number == number, Protocol.kind == PROTOCOL_KIND))
    ).scalar_one_or_none()
    verified = await session.get(Beneficiary, protocol.beneficiary_id) if protocol else None
    if protocol is None or verified is None:
        raise REFUSALS.refuse("not_found")
    details = protocol.details
    issued_at = local_issue_time(protocol.created_at)
    statement = await prepare(
        session,
        verified,
        details["statement"],
        details["year"],
        details.get("month"),
        details.get("beneficiary"),
        issued_at.date(),
    )
    return statement.pdf(operator, protocol.number, issued_at), statement.filename
