"""Protocol numbers: operator ANS registration (6) + AAAAMMDD + daily sequence (6) = 20 digits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import local_today
from backend.models import Protocol
from backend.rate_limits import release
from backend.refusals import Refusals

PROTOCOL_DIGITS = 20
MAX_DAILY_SEQUENCE = 999_999

# Protocol.kind -> what the user and the agents read
KIND_LABELS = {
    "password_reset": "recuperação de senha",
    "registration": "cadastro no aplicativo",
    "password_change": "troca de senha",
    "email_change": "troca de e-mail",
    "card_reissue": "segunda via da carteirinha",
    "reimbursement": "reembolso",
    "bank_slip_copy": "segunda via de boleto",
    "statement": "declaração ou extrato",
    "handoff": "atendimento com atendente",
    "complaint": "reclamação",
    "company_contact_change": "alteração de dados da empresa",
    "company_inclusion": "inclusão de beneficiário",
    "company_exclusion": "exclusão de beneficiário",
    "company_data_change": "alteração de dados de beneficiário",
    "company_plan_change": "alteração de plano de beneficiário",
    "company_reactivation": "reativação de beneficiário",
    "company_transfer": "transferência de beneficiário",
    "company_movement_batch": "movimentação cadastral em lote",
}
DEFAULT_KIND_LABEL = "atendimento"
STATUS_LABELS = {"open": "aberto", "in_progress": "em andamento", "completed": "concluído", "cancelled": "cancelado"}

REFUSALS = Refusals(
    {
        "protocol_not_found": "Não encontrei esse protocolo. Confira os 20 números e tente de novo.",
    }
)

# One statement, atomic on both SQLite (>= 3.35) and PostgreSQL: concurrent callers queue on the
# row (or database) lock and each gets the next value.
_NEXT_VALUE = text(
    "INSERT INTO protocol_sequences (day, last_value) VALUES (:day, 1) "
    "ON CONFLICT (day) DO UPDATE SET last_value = protocol_sequences.last_value + 1 "
    "RETURNING last_value"
).bindparams(bindparam("day", type_=Date))


class ProtocolSequenceExhausted(RuntimeError):
    pass


async def next_sequence(session: AsyncSession, day: date) -> int:
    value = (await session.execute(_NEXT_VALUE, {"day": day})).scalar_one()
    if value > MAX_DAILY_SEQUENCE:
        raise ProtocolSequenceExhausted(f"more than {MAX_DAILY_SEQUENCE} protocols on {day}")
    return value


async def new_protocol(
    session: AsyncSession,
    kind: str,
    *,
    ans_registration: str,
    channel: str,
    status: str = "open",
    beneficiary_id: int | None = None,
    conversation_id: str | None = None,
    details: dict | None = None,
    day: date | None = None,
) -> Protocol:
    """Creates and adds a Protocol in the caller's transaction (commit is the caller's)."""
    day = day or local_today()
    sequence = await next_sequence(session, day)
    protocol = Protocol(
        number=f"{ans_registration}{day:%Y%m%d}{sequence:06d}",
        kind=kind,
        status=status,
        beneficiary_id=beneficiary_id,
        channel=channel,
        conversation_id=conversation_id,
        details=details or {},
    )
    session.add(protocol)
    await session.flush()
    return protocol


async def find_protocol(session: AsyncSession, number: str) -> Protocol | None:
    return (await session.execute(select(Protocol).where(Protocol.number == number))).scalar_one_or_none()


async def protocol_of(session: AsyncSession, number: str) -> Protocol:
    """The protocol with this number (20 digits); refuses protocol_not_found."""
    protocol = None
    if number.isdigit() and len(number) == PROTOCOL_DIGITS:
        protocol = await find_protocol(session, number)
    if protocol is None:
        raise REFUSALS.refuse("protocol_not_found")
    return protocol


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, DEFAULT_KIND_LABEL)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


async def set_protocol_status(session: AsyncSession, number: str, status: str) -> None:
    """In the caller's transaction."""
    await session.execute(update(Protocol).where(Protocol.number == number).values(status=status))


async def fail_request(session: AsyncSession, number: str, claim: str) -> None:
    """What the request of protocol `number` did cannot be completed (its e-mail did not leave):
    the protocol ends as 'failed' and the request's claim_once is released, so that asking again is
    a new request. Commits."""
    await set_protocol_status(session, number, "failed")
    await release(session, claim)
    await session.commit()
