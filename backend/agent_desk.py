"""What the call-centre console (/atendente) sees and does (docs/handoff.md): the agents' login and
tokens, the queue as the console shows it, a ticket with its conversation and the verified
customer's context, and the agents' actions on tickets (backend.handoff does them)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth import AccountLocked, InvalidCredentials, hash_token, locked, login_agent
from backend.billing.charges import OPEN as FEE_OPEN
from backend.billing.charges import OVERDUE, effective_status
from backend.clock import iso_utc, local_date, local_today, utcnow
from backend.family import holder_id_of
from backend.handoff import (
    CLOSED,
    IN_PROGRESS,
    OPEN,
    agents_online,
    claim,
    close,
    get_ticket,
    list_tickets,
    messages_of,
    pull_user_messages,
    send_agent_message,
    set_agent_offline,
    touch_agent,
)
from backend.models import Agent, ApiSession, Beneficiary, Fee, HandoffMessage, HandoffTicket, Protocol
from backend.protocols import kind_label, status_label
from backend.rasa_client import RasaClient, RasaUnavailable
from backend.refusals import Refusals
from common.labels import (
    FEE_STATUS_LABELS,
    PLAN_STATUS_LABELS,
    date_text,
    month_text,
    relationship_label,
    segments,
)
from common.money import format_brl
from common.pii import mask_cpf, mask_email, mask_phone

log = logging.getLogger(__name__)

QUEUES = ("open", "waiting", "closed")  # open: waiting or in progress
CHANNEL_LABELS = {"whatsapp": "WhatsApp", "telegram": "Telegram", "socketio": "Chat do site", "rest": "API (rest)"}
TICKET_STATUS_LABELS = {OPEN: "aguardando", IN_PROGRESS: "em atendimento", CLOSED: "encerrado"}
RECENT_PROTOCOLS = 5

REFUSALS = Refusals(
    {
        "unauthorized": "Entre com seu usuário e senha de atendente.",
        "invalid_credentials": "Usuário ou senha incorretos.",
        "account_locked": "Acesso bloqueado por algumas tentativas erradas. {try_again}",
        "invalid_request": "Use status=open (aguardando ou em atendimento), waiting ou closed.",
        "message_not_delivered": "A mensagem não chegou ao cliente: o assistente não respondeu. Tente de novo.",
        "rasa_unavailable": "Não consegui devolver a conversa ao assistente agora; o atendimento continua aberto. "
        "Tente encerrar de novo.",
    }
)


# --- who is at the desk --------------------------------------------------------------------------


async def log_in(session: AsyncSession, username: str, password: str, bcrypt_rounds: int) -> str:
    """The agent's bearer token; refuses invalid_credentials or account_locked."""
    try:
        return await login_agent(session, username, password, bcrypt_rounds)
    except InvalidCredentials:
        raise REFUSALS.refuse("invalid_credentials") from None
    except AccountLocked as exc:
        raise locked(exc, REFUSALS) from None


async def agent_of(session: AsyncSession, token: str) -> Agent | None:
    """The agent of an unexpired bearer token."""
    if not token:
        return None
    return (
        await session.execute(
            select(Agent)
            .join(ApiSession, ApiSession.agent_id == Agent.id)
            .where(ApiSession.token_hash == hash_token(token), ApiSession.expires_at > utcnow())
        )
    ).scalar_one_or_none()


async def present_agent(session: AsyncSession, token: str) -> Agent:
    """The agent of the token, marked online; refuses unauthorized."""
    agent = await agent_of(session, token)
    if agent is None:
        raise REFUSALS.refuse("unauthorized")
    await touch_agent(session, agent.id)
    await session.commit()
    return agent


async def log_out(session: AsyncSession, agent: Agent, token: str) -> None:
    """The token ends and the agent goes offline."""
    await session.execute(delete(ApiSession).where(ApiSession.token_hash == hash_token(token)))
    await set_agent_offline(session, agent.id)
    await session.commit()


# --- what the console shows ------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value else None


def ticket_json(
    ticket: HandoffTicket,
    *,
    position: int = 0,
    agent_name: str | None = None,
    beneficiary_name: str | None = None,
    messages: int = 0,
    last_user_message_at: datetime | None = None,
    now: datetime | None = None,
) -> dict:
    now = now or utcnow()
    waited_until = ticket.claimed_at or ticket.closed_at or now
    return {
        "id": ticket.id,
        "protocol": ticket.protocol_number,
        "channel": ticket.channel,
        "channel_label": CHANNEL_LABELS.get(ticket.channel, ticket.channel),
        "reason": ticket.reason,
        "status": ticket.status,
        "status_label": TICKET_STATUS_LABELS.get(ticket.status, ticket.status),
        "created_at": iso_utc(ticket.created_at),
        "claimed_at": _iso(ticket.claimed_at),
        "closed_at": _iso(ticket.closed_at),
        "wait_seconds": max(0, int((waited_until - ticket.created_at).total_seconds())),
        "position": position,
        "callback": bool(ticket.callback),
        "agent_id": ticket.agent_id,
        "agent_name": agent_name,
        "beneficiary_name": beneficiary_name,
        "resolution": ticket.resolution,
        "messages": messages,
        "last_user_message_at": _iso(last_user_message_at),
    }


async def tickets_json(session: AsyncSession, tickets: list[HandoffTicket]) -> list[dict]:
    """The tickets with their agents, beneficiaries, queue positions and message counts (4 queries)."""
    if not tickets:
        return []
    ids = [ticket.id for ticket in tickets]
    agents = dict(
        (
            await session.execute(
                select(Agent.id, Agent.name).where(Agent.id.in_({t.agent_id for t in tickets if t.agent_id}))
            )
        ).all()
    )
    names = dict(
        (
            await session.execute(
                select(Beneficiary.id, Beneficiary.name).where(
                    Beneficiary.id.in_({t.beneficiary_id for t in tickets if t.beneficiary_id})
                )
            )
        ).all()
    )
    counts = {
        row[0]: (row[1], row[2])
        for row in (
            await session.execute(
                select(
                    HandoffMessage.ticket_id,
                    func.count(HandoffMessage.id),
                    func.max(HandoffMessage.created_at).filter(HandoffMessage.sender == "user"),
                )
                .where(HandoffMessage.ticket_id.in_(ids))
                .group_by(HandoffMessage.ticket_id)
            )
        ).all()
    }
    waiting = (
        (
            await session.execute(
                select(HandoffTicket.id)
                .where(HandoffTicket.status == OPEN)
                .order_by(HandoffTicket.created_at, HandoffTicket.id)
            )
        )
        .scalars()
        .all()
    )
    positions = {ticket_id: index + 1 for index, ticket_id in enumerate(waiting)}
    now = utcnow()
    return [
        ticket_json(
            ticket,
            position=positions.get(ticket.id, 0),
            agent_name=agents.get(ticket.agent_id),
            beneficiary_name=names.get(ticket.beneficiary_id),
            messages=counts.get(ticket.id, (0, None))[0],
            last_user_message_at=counts.get(ticket.id, (0, None))[1],
            now=now,
        )
        for ticket in tickets
    ]


async def queue(session: AsyncSession, status: str = "open") -> dict:
    """{tickets, agents_online} of the queue `status` (QUEUES); refuses invalid_request."""
    if status not in QUEUES:
        raise REFUSALS.refuse("invalid_request")
    found = await list_tickets(session, status)
    return {"tickets": await tickets_json(session, found), "agents_online": await agents_online(session)}


async def live_queue(session: AsyncSession, rasa: RasaClient, token: str) -> dict | None:
    """What the event stream pushes: the open queue after the users' messages of the tickets in
    progress were pulled from Rasa; the agent of `token` counts as online. None once the token ended."""
    agent = await agent_of(session, token)
    if agent is None:
        return None
    await touch_agent(session, agent.id)
    await session.commit()
    for found in await list_tickets(session, "open"):
        if found.status == IN_PROGRESS:
            await pull_user_messages(session, rasa, found)
    snapshot = await queue(session)
    await session.commit()
    return snapshot


def _open_fee(fee: Fee, today) -> dict | None:
    status = effective_status(fee.status, fee.paid_at, fee.due_date, today)
    if status not in (FEE_OPEN, OVERDUE):
        return None
    return {
        "reference_month": month_text(fee.reference_month),
        "amount": format_brl(fee.amount),
        "due_date": date_text(fee.due_date),
        "status": status,
        "status_label": FEE_STATUS_LABELS[status],
    }


async def customer_context(session: AsyncSession, beneficiary_id: int | None) -> dict | None:
    """Who the verified user is, their plan, open fees and recent protocols; never the full CPF."""
    if beneficiary_id is None:
        return None
    beneficiary = await session.get(Beneficiary, beneficiary_id)
    if beneficiary is None:
        return None
    plan = beneficiary.plan
    today = local_today()
    holder_id = holder_id_of(beneficiary)
    holder = beneficiary if holder_id == beneficiary.id else await session.get(Beneficiary, holder_id)
    fees = (
        (
            await session.execute(
                select(Fee).where(Fee.beneficiary_id == holder_id, Fee.paid_at.is_(None)).order_by(Fee.due_date)
            )
        )
        .scalars()
        .all()
    )
    protocols = (
        (
            await session.execute(
                select(Protocol)
                .where(Protocol.beneficiary_id == beneficiary.id)
                .order_by(Protocol.created_at.desc(), Protocol.id.desc())
                .limit(RECENT_PROTOCOLS)
            )
        )
        .scalars()
        .all()
    )
    return {
        "name": beneficiary.name,
        "card_number": beneficiary.card_number,
        "relationship": beneficiary.relationship,
        "relationship_label": relationship_label(beneficiary.relationship, beneficiary.holder_id is None),
        "holder_name": holder.name if holder is not None else None,
        "cpf_masked": mask_cpf(beneficiary.cpf) if beneficiary.cpf else None,
        "email_masked": mask_email(beneficiary.email) if beneficiary.email else None,
        "phone_masked": mask_phone(beneficiary.phone) if beneficiary.phone else None,
        "plan_status": beneficiary.status,
        "plan_status_label": PLAN_STATUS_LABELS.get(beneficiary.status, PLAN_STATUS_LABELS["cancelled"]),
        "plan": {
            "name": plan.name,
            "segmentation": ", ".join(segments(plan.outpatient, plan.hospital, plan.obstetrics)),
            "accommodation": plan.accommodation,
            "ans_registration": plan.ans_product_registration,
        },
        "open_fees": [item for item in (_open_fee(fee, today) for fee in fees) if item is not None],
        "recent_protocols": [
            {
                "protocol": p.number,
                "kind_label": kind_label(p.kind),
                "status_label": status_label(p.status),
                "created_on": date_text(local_date(p.created_at)),
            }
            for p in protocols
        ],
    }


def message_json(message: HandoffMessage, agent_names: dict[int, str]) -> dict:
    return {
        "id": message.id,
        "from": message.sender,
        "text": message.text,
        "at": iso_utc(message.created_at),
        "agent_name": agent_names.get(message.agent_id) if message.agent_id else None,
        "delivered": bool(message.delivered),
    }


async def ticket_detail(session: AsyncSession, rasa: RasaClient, ticket_id: int) -> dict:
    """{ticket, transcript, messages, context}, the user's latest messages pulled from Rasa first."""
    ticket = await get_ticket(session, ticket_id)
    await pull_user_messages(session, rasa, ticket)
    [summary] = await tickets_json(session, [ticket])
    messages = await messages_of(session, ticket.id)
    agent_names = dict((await session.execute(select(Agent.id, Agent.name))).all())
    return {
        "ticket": summary,
        "transcript": list(ticket.transcript or []),
        "messages": [message_json(m, agent_names) for m in messages],
        "context": await customer_context(session, ticket.beneficiary_id),
    }


# --- what the agent does ---------------------------------------------------------------------------


async def take(session: AsyncSession, rasa: RasaClient, ticket_id: int, agent: Agent) -> dict:
    """The ticket, claimed by the agent, as the console lists it; refuses ticket_*."""
    [summary] = await tickets_json(session, [await claim(session, rasa, ticket_id, agent.id)])
    return summary


async def answer(session: AsyncSession, rasa: RasaClient, ticket_id: int, agent: Agent, text: str) -> dict:
    """The agent's message, delivered to the user; refuses ticket_* or message_not_delivered."""
    try:
        message = await send_agent_message(session, rasa, ticket_id, agent.id, agent.name, text)
    except RasaUnavailable:
        raise REFUSALS.refuse("message_not_delivered") from None
    return message_json(message, {agent.id: agent.name})


async def finish(session: AsyncSession, rasa: RasaClient, ticket_id: int, agent: Agent, resolution: str) -> dict:
    """The ticket closed with its resolution, the conversation back with the assistant; refuses
    ticket_* or rasa_unavailable (the ticket stays open)."""
    try:
        closed = await close(session, rasa, ticket_id, agent.id, resolution)
    except RasaUnavailable:
        raise REFUSALS.refuse("rasa_unavailable") from None
    [summary] = await tickets_json(session, [closed])
    return summary
