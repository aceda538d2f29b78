"""Call-centre agent API (docs/handoff.md) and what the console /atendente needs. Bearer token of
POST /api/agent/login (backend/api/auth.py) in `Authorization`; the event stream, which browsers
open with EventSource (no headers), also takes it as `?access_token=`. The use cases are
backend.agent_desk's.

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
import time

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend import agent_desk
from backend.api.context import SESSIONS
from backend.api.forms import Form, required
from backend.api.handoff import rasa_client
from backend.api.responses import json_response
from backend.clock import iso_utc, utcnow
from backend.handoff import REFUSALS as HANDOFF_REFUSALS
from backend.models import Agent

routes = web.RouteTableDef()

TEXT_MAX_LENGTH = 2000
EVENTS_INTERVAL_S = 2.0  # how often the event stream looks at the queue (and pulls the users' messages)
EVENTS_KEEPALIVE_S = 15.0
_EVENT_STREAM_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",
}


def _token(request: web.Request, *, allow_query: bool = False) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if allow_query:
        return request.query.get("access_token", "")
    return ""


async def current_agent(request: web.Request, session: AsyncSession, *, allow_query: bool = False) -> Agent:
    """The agent of the bearer token (401 otherwise); marks the agent online."""
    return await agent_desk.present_agent(session, _token(request, allow_query=allow_query))


def _ticket_id(request: web.Request) -> int:
    value = request.match_info["ticket_id"]
    if not value.isdigit() or len(value) > 9:
        raise HANDOFF_REFUSALS.refuse("ticket_not_found")
    return int(value)


async def _text(request: web.Request, name: str, label: str) -> str:
    form = await Form.read(request)
    text = form.text(name, label, max_length=TEXT_MAX_LENGTH)
    form.validate()
    return required(text).strip()


@routes.get("/api/agent/me")
async def me(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        agent = await current_agent(request, session)
        return json_response({"id": agent.id, "username": agent.username, "name": agent.name})


@routes.post("/api/agent/logout")
async def logout(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        await agent_desk.log_out(session, await current_agent(request, session), _token(request))
    return web.Response(status=204)


@routes.get("/api/agent/tickets")
async def tickets(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        await current_agent(request, session)
        found = await agent_desk.queue(session, request.query.get("status", "open"))
        return json_response({**found, "now": iso_utc(utcnow())})


@routes.get("/api/agent/tickets/{ticket_id}")
async def ticket(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    async with request.app[SESSIONS]() as session:
        await current_agent(request, session)
        return json_response(await agent_desk.ticket_detail(session, rasa_client(request.app), ticket_id))


@routes.post("/api/agent/tickets/{ticket_id}/claim")
async def claim_ticket(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    async with request.app[SESSIONS]() as session:
        agent = await current_agent(request, session)
        return json_response({"ticket": await agent_desk.take(session, rasa_client(request.app), ticket_id, agent)})


@routes.post("/api/agent/tickets/{ticket_id}/messages")
async def send_message(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    text = await _text(request, "text", "a mensagem")
    async with request.app[SESSIONS]() as session:
        agent = await current_agent(request, session)
        message = await agent_desk.answer(session, rasa_client(request.app), ticket_id, agent, text)
        return json_response({"message": message}, status=201)


@routes.post("/api/agent/tickets/{ticket_id}/close")
async def close_ticket(request: web.Request) -> web.Response:
    ticket_id = _ticket_id(request)
    resolution = await _text(request, "resolution", "a resolução do atendimento")
    async with request.app[SESSIONS]() as session:
        agent = await current_agent(request, session)
        closed = await agent_desk.finish(session, rasa_client(request.app), ticket_id, agent, resolution)
        return json_response({"ticket": closed})


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
    response = web.StreamResponse(headers=_EVENT_STREAM_HEADERS)
    await response.prepare(request)
    try:
        await _stream_queue(request, response, token)
    except (ConnectionResetError, ConnectionError):
        pass
    return response


async def _stream_queue(request: web.Request, response: web.StreamResponse, token: str) -> None:
    rasa = rasa_client(request.app)
    last, last_write = None, 0.0
    while True:
        async with request.app[SESSIONS]() as session:
            snapshot = await agent_desk.live_queue(session, rasa, token)
        if snapshot is None:
            await response.write(b"event: logout\ndata: {}\n\n")
            return
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
