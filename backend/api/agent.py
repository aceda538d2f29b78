"""Call-centre agent API (docs/handoff.md) and what the console /atendente needs. Bearer token of
POST /api/agent/login (backend/api/auth.py) in `Authorization`; the event stream, which browsers
open with EventSource (no headers), also takes it as `?access_token=`.

GET  /api/agent/me                       -> {id, username, name}
POST /api/agent/logout                   -> 204 (the token ends, the agent goes offline)
GET  /api/agent/tickets?status=open      -> {tickets: [...], agents_online, now}; status: open (waiting
                                            or in progress, the default), waiting, closed (last 50)
GET  /api/agent/tickets/{id}             -> {ticket, transcript, messages, context}
POST /api/agent/tickets/{id}/claim       -> 200 {ticket}; 409 ticket_taken | ticket_closed
POST /api/agent/tickets/{id}/messages    {text} -> 201 {message}; 502 message_not_delivered
POST /api/agent/tickets/{id}/close       {resolution} -> 200 {ticket}; 502 rasa_unavailable
GET  /api/agent/events                   -> text/event-stream: `queue` events (the open tickets)
404 ticket_not_found; 401 unauthorized without a valid agent token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime

from aiohttp import web
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import SESSIONS
from backend.api.errors import ApiError
from backend.api.forms import Form, required
from backend.api.handoff import rasa_client
from backend.api.protocols import KIND_LABELS, STATUS_LABELS
from backend.api.responses import json_response
from backend.auth import hash_token
from backend.billing.charges import OPEN as FEE_OPEN
from backend.billing.charges import OVERDUE, effective_status
from backend.clock import iso_utc, local_today, utcnow
from backend.family import holder_id_of
from backend.handoff import (
    CLOSED,
    IN_PROGRESS,
    OPEN,
    HandoffError,
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
from backend.rasa_client import RasaUnavailable
from common.money import format_brl
from common.pii import mask_cpf, mask_email, mask_phone

routes = web.RouteTableDef()
log = logging.getLogger(__name__)

TEXT_MAX_LENGTH = 2000
EVENTS_INTERVAL_S = 2.0  # how often the event stream looks at the queue (and pulls the users' messages)
EVENTS_KEEPALIVE_S = 15.0
CHANNEL_LABELS = {"whatsapp": "WhatsApp", "telegram": "Telegram", "socketio": "Chat do site", "rest": "API (rest)"}
TICKET_STATUS_LABELS = {OPEN: "aguardando", IN_PROGRESS: "em atendimento", CLOSED: "encerrado"}
_HANDOFF_ERRORS = {
    "ticket_not_found": (404, "Não encontrei esse atendimento."),
    "ticket_taken": (409, "Outro atendente já assumiu esse atendimento."),
    "ticket_closed": (409, "Esse atendimento já foi encerrado."),
}


def _unauthorized() -> ApiError:
    return ApiError(
        401, "unauthorized", "Entre com seu usuário e senha de atendente.", headers={"WWW-Authenticate": "Bearer"}
    )


def _token(request: web.Request, *, allow_query: bool = False) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if allow_query:
        return request.query.get("access_token", "")
    return ""


async def _agent_for(session: AsyncSession, token: str) -> Agent | None:
    if not token:
        return None
    return (
        await session.execute(
            select(Agent)
            .join(ApiSession, ApiSession.agent_id == Agent.id)
            .where(ApiSession.token_hash == hash_token(token), ApiSession.expires_at > utcnow())
        )
    ).scalar_one_or_none()


async def current_agent(request: web.Request, session: AsyncSession, *, allow_query: bool = False) -> Agent:
    """The agent of the bearer token (401 otherwise); marks the agent online."""
    agent = await _agent_for(session, _token(request, allow_query=allow_query))
    if agent is None:
        raise _unauthorized()
    await touch_agent(session, agent.id)
    await session.commit()
    return agent


def _handoff_error(exc: HandoffError) -> ApiError:
    status, message = _HANDOFF_ERRORS[exc.code]
    return ApiError(status, exc.code, message)


def _ticket_id(request: web.Request) -> int:
    value = request.match_info["ticket_id"]
    if not value.isdigit() or len(value) > 9:
        raise ApiError(404, "ticket_not_found", "Não encontrei esse atendimento.")
    return int(value)


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


async def customer_context(session: AsyncSession, beneficiary_id: int | None) -> dict | None:
    """Who the verified user is, their plan, open fees and recent protocols; never the full CPF."""
    if beneficiary_id is None:
        return None
    beneficiary = await session.get(Beneficiary, beneficiary_id)
    if beneficiary is None:
        return None
    plan = beneficiary.plan
    segments = [
        label
        for flag, label in (
            (plan.outpatient, "ambulatorial"),
            (plan.hospital, "hospitalar"),
            (plan.obstetrics, "obstetrícia"),
        )
        if flag
    ]
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
    open_fees = []
    for fee in fees:
        status = effective_status(fee.status, fee.paid_at, fee.due_date, today)
        if status in (FEE_OPEN, OVERDUE):
            open_fees.append(
                {
                    "reference_month": f"{fee.reference_month:%m/%Y}",
                    "amount": format_brl(fee.amount),
                    "due_date": f"{fee.due_date:%d/%m/%Y}",
                    "status": status,
                    "status_label": "vencida" if status == OVERDUE else "em aberto",
                }
            )
    protocols = (
        (
            await session.execute(
                select(Protocol)
                .where(Protocol.beneficiary_id == beneficiary.id)
                .order_by(Protocol.created_at.desc(), Protocol.id.desc())
                .limit(5)
            )
        )
        .scalars()
        .all()
    )
    return {
        "name": beneficiary.name,
        "card_number": beneficiary.card_number,
        "relationship": beneficiary.relationship,
        "holder_name": holder.name if holder is not None else None,
        "cpf_masked": mask_cpf(beneficiary.cpf) if beneficiary.cpf else None,
        "email_masked": mask_email(beneficiary.email) if beneficiary.email else None,
        "phone_masked": mask_phone(beneficiary.phone) if beneficiary.phone else None,
        "plan_status": beneficiary.status,
        "plan_status_label": "ativo" if beneficiary.status == "active" else "cancelado",
        "plan": {
            "name": plan.name,
            "segmentation": ", ".join(segments),
            "accommodation": plan.accommodation,
            "ans_registration": plan.ans_product_registration,
        },
        "open_fees": open_fees,
        "recent_protocols": [
            {
                "protocol": p.number,
                "kind_label": KIND_LABELS.get(p.kind, "atendimento"),
                "status_label": STATUS_LABELS.get(p.status, p.status),
                "created_on": f"{p.created_at:%d/%m/%Y}",
            }
            for p in protocols
        ],
    }


def _message_json(message: HandoffMessage, agent_names: dict[int, str]) -> dict:
    return {
        "id": message.id,
        "from": message.sender,
        "text": message.text,
        "at": iso_utc(message.created_at),
        "agent_name": agent_names.get(message.agent_id) if message.agent_id else None,
        "delivered": bool(message.delivered),
    }


async def ticket_detail(session: AsyncSession, ticket: HandoffTicket) -> dict:
    [summary] = await tickets_json(session, [ticket])
    messages = await messages_of(session, ticket.id)
    agent_names = dict((await session.execute(select(Agent.id, Agent.name))).all())
    return {
        "ticket": summary,
        "transcript": list(ticket.transcript or []),
        "messages": [_message_json(m, agent_names) for m in messages],
        "context": await customer_context(session, ticket.beneficiary_id),
    }


# --- routes ------------------------------------------------------------------------------------


@routes.get("/api/agent/me")
async def me(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        agent = await current_agent(request, session)
        return json_response({"id": agent.id, "username": agent.username, "name": agent.name})


@routes.post("/api/agent/logout")
async def logout(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        agent = await current_agent(request, session)
        await session.execute(delete(ApiSession).where(ApiSession.token_hash == hash_token(_token(request))))
        await set_agent_offline(session, agent.id)
        await session.commit()
    return web.Response(status=204)


@routes.get("/api/agent/tickets")
async def tickets(request: web.Request) -> web.Response:
    status = request.query.get("status", "open")
    if status not in ("open", "waiting", "closed"):
        raise ApiError(400, "invalid_request", "Use status=open (aguardando ou em atendimento), waiting ou closed.")
    async with request.app[SESSIONS]() as session:
        await current_agent(request, session)
        found = await list_tickets(session, status)
        return json_response(
            {
                "tickets": await tickets_json(session, found),
                "agents_online": await agents_online(session),
                "now": iso_utc(utcnow()),
            }
        )


@routes.get("/api/agent/tickets/{ticket_id}")
async def ticket(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    async with request.app[SESSIONS]() as session:
        await current_agent(request, session)
        try:
            found = await get_ticket(session, ticket_id)
        except HandoffError as exc:
            raise _handoff_error(exc) from None
        await pull_user_messages(session, rasa_client(request.app), found)
        return json_response(await ticket_detail(session, found))


@routes.post("/api/agent/tickets/{ticket_id}/claim")
async def claim_ticket(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    async with request.app[SESSIONS]() as session:
        agent = await current_agent(request, session)
        try:
            claimed = await claim(session, rasa_client(request.app), ticket_id, agent.id)
        except HandoffError as exc:
            raise _handoff_error(exc) from None
        [summary] = await tickets_json(session, [claimed])
        return json_response({"ticket": summary})


@routes.post("/api/agent/tickets/{ticket_id}/messages")
async def send_message(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    form = await Form.read(request)
    text = form.text("text", "a mensagem", max_length=TEXT_MAX_LENGTH)
    form.validate()
    text = required(text).strip()
    async with request.app[SESSIONS]() as session:
        agent = await current_agent(request, session)
        try:
            message = await send_agent_message(session, rasa_client(request.app), ticket_id, agent.id, agent.name, text)
        except HandoffError as exc:
            raise _handoff_error(exc) from None
        except RasaUnavailable:
            raise ApiError(
                502,
                "message_not_delivered",
                "A mensagem não chegou ao cliente: o assistente não respondeu. Tente de novo.",
            ) from None
        return json_response({"message": _message_json(message, {agent.id: agent.name})}, status=201)


@routes.post("/api/agent/tickets/{ticket_id}/close")
async def close_ticket(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    form = await Form.read(request)
    resolution = form.text("resolution", "a resolução do atendimento", max_length=TEXT_MAX_LENGTH)
    form.validate()
    resolution = required(resolution).strip()
    async with request.app[SESSIONS]() as session:
        agent = await current_agent(request, session)
        try:
            closed = await close(session, rasa_client(request.app), ticket_id, agent.id, resolution)
        except HandoffError as exc:
            raise _handoff_error(exc) from None
        except RasaUnavailable:
            raise ApiError(
                502,
                "rasa_unavailable",
                "Não consegui devolver a conversa ao assistente agora; o atendimento continua aberto. "
                "Tente encerrar de novo.",
            ) from None
        [summary] = await tickets_json(session, [closed])
        return json_response({"ticket": summary})


async def queue_snapshot(session: AsyncSession) -> dict:
    found = await list_tickets(session, "open")
    return {"tickets": await tickets_json(session, found), "agents_online": await agents_online(session)}


def _comparable(snapshot: dict) -> str:
    """The snapshot without what changes every second (the console counts wait times itself)."""
    return json.dumps(
        [{k: v for k, v in t.items() if k != "wait_seconds"} for t in snapshot["tickets"]]
        + [snapshot["agents_online"]],
        sort_keys=True,
    )


@routes.get("/api/agent/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: `queue` ({tickets, agents_online, now}) whenever the queue or a ticket's
    messages change, a comment every EVENTS_KEEPALIVE_S; `logout` when the token ends. While it is
    open the agent counts as online and the users' messages of the tickets in progress are pulled
    from Rasa."""
    token = _token(request, allow_query=True)
    async with request.app[SESSIONS]() as session:
        await current_agent(request, session, allow_query=True)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    rasa = rasa_client(request.app)
    last, last_write = None, 0.0
    try:
        while True:
            async with request.app[SESSIONS]() as session:
                agent = await _agent_for(session, token)
                if agent is None:
                    await response.write(b"event: logout\ndata: {}\n\n")
                    break
                await touch_agent(session, agent.id)
                await session.commit()
                for found in await list_tickets(session, "open"):
                    if found.status == IN_PROGRESS:
                        await pull_user_messages(session, rasa, found)
                snapshot = await queue_snapshot(session)
                await session.commit()
            comparable = _comparable(snapshot)
            if comparable != last:
                snapshot["now"] = iso_utc(utcnow())
                data = json.dumps(snapshot, ensure_ascii=False)
                await response.write(f"event: queue\ndata: {data}\n\n".encode())
                last, last_write = comparable, time.monotonic()
            elif time.monotonic() - last_write > EVENTS_KEEPALIVE_S:
                await response.write(b": ping\n\n")
                last_write = time.monotonic()
            await asyncio.sleep(EVENTS_INTERVAL_S)
    except (ConnectionResetError, ConnectionError):
        pass
    return response
