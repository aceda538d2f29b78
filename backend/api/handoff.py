"""What the assistant calls to hand a conversation over to the call centre (docs/handoff.md).

POST /api/handoffs: a ticket with its protocol, the place in the queue and the message for the user.
GET  /api/handoffs?conversation_id=...: the conversation's latest ticket (e.g. for the resume message).
"""

from __future__ import annotations

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.errors import ApiError
from backend.api.forms import Form, required
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.handoff import (
    CLOSED,
    IN_PROGRESS,
    OPEN,
    active_ticket,
    agents_online,
    clean_transcript,
    latest_ticket,
    local_now,
    open_ticket,
    queue_position,
    within_hours,
)
from backend.models import HandoffTicket
from backend.operator_profile import OperatorProfile
from backend.rasa_client import RasaClient
from backend.rate_limits import HANDOFF_GLOBAL, HANDOFF_PER_CONVERSATION, DataKeys, RateLimited, hit_all, too_many

routes = web.RouteTableDef()
REASON_MAX_LENGTH = 200
DEFAULT_REASON = "pediu para falar com um atendente"


def rasa_client(app: web.Application) -> RasaClient:
    settings = app[SETTINGS]
    return RasaClient(settings.rasa_url, settings.rasa_token)


def user_message(
    ticket: HandoffTicket, position: int, operator: OperatorProfile, *, in_hours: bool, online: bool
) -> str:
    """What the assistant tells the user (plain text, WhatsApp-friendly)."""
    protocol = ticket.protocol_number
    phone = operator.phones["central_24h"]
    if ticket.status == CLOSED:
        return f"Seu atendimento com a nossa equipe (protocolo {protocol}) foi encerrado."
    if ticket.status == IN_PROGRESS:
        return (
            f"Seu atendimento (protocolo {protocol}) já está com um atendente. É só escrever por aqui que ele recebe."
        )
    if not in_hours:
        return (
            f"Anotei seu pedido de atendimento: protocolo {protocol}. Nossa equipe atende pelo chat "
            f"{operator.opening_hours.text} e vai retornar seu contato assim que o atendimento abrir. "
            f"Se for urgente, ligue {phone}, que funciona 24 horas."
        )
    if not online:
        return (
            f"Anotei seu pedido de atendimento: protocolo {protocol}. Neste momento não há atendente "
            f"disponível no chat; nossa equipe vai retornar seu contato. Se preferir, ligue {phone} (24 horas)."
        )
    ahead = position - 1
    queue = (
        "Você é o próximo da fila."
        if ahead == 0
        else (f"Você está na posição {position} da fila ({ahead} pessoa{'s' if ahead > 1 else ''} na sua frente).")
    )
    return (
        f"Certo, vou te passar para um atendente. Seu protocolo é {protocol}. {queue} "
        "Pode ir escrevendo o que precisa: o atendente vê esta conversa e responde por aqui."
    )


async def _answer(request: web.Request, session, ticket: HandoffTicket, status: int) -> web.Response:
    operator = request.app[OPERATOR]
    in_hours = within_hours(operator.opening_hours, local_now())
    online = await agents_online(session) > 0
    position = await queue_position(session, ticket)
    pause = ticket.status == IN_PROGRESS or (ticket.status == OPEN and in_hours and online)
    return json_response(
        {
            "protocol": ticket.protocol_number,
            "ticket_id": ticket.id,
            "status": ticket.status,
            "position": position,
            "agents_online": online,
            "within_hours": in_hours,
            "callback": ticket.status == OPEN and not (in_hours and online),
            "pause": pause,
            "phone": operator.phones["central_24h"],
            "message": user_message(ticket, position, operator, in_hours=in_hours, online=online),
            "resolution": ticket.resolution,
        },
        status=status,
    )


@routes.post("/api/handoffs")
async def create_handoff(request: web.Request) -> web.Response:
    """Body {conversation_id, channel, reason?, verification?, transcript?: [{from: user|bot, text, at}]}.

    201 a new ticket / 200 the ticket this conversation already has waiting or in progress:
    {protocol, ticket_id, status, position, agents_online, within_hours, callback, pause, phone, message}.
    `pause`: whether the bot should pause (ConversationPaused) now; when false (out of hours or no
    agent online) the ticket waits for a call back and the bot goes on (claiming it pauses the bot).
    No personal data is needed: an expired or wrong `verification` only leaves the ticket unlinked.
    429 (with Retry-After): too many new tickets from this conversation or for the whole queue.
    """
    form = await Form.read(request)
    conversation_id = form.text("conversation_id", "a conversa", max_length=128)
    channel = form.channel()
    reason = (form.optional("reason", max_length=REASON_MAX_LENGTH) or DEFAULT_REASON).strip() or DEFAULT_REASON
    token = form.optional("verification", max_length=100)
    transcript = clean_transcript(form.raw("transcript"))
    if transcript is None:
        form.errors["transcript"] = 'Envie a conversa como uma lista de {"from": "user" ou "bot", "text": "..."}.'
    form.validate()
    conversation_id, transcript = required(conversation_id), required(transcript)

    operator = request.app[OPERATOR]
    async with request.app[SESSIONS]() as session:
        beneficiary_id = None
        if token:
            try:
                beneficiary_id = (await verified_beneficiary(request, session, token, conversation_id)).id
            except ApiError:
                beneficiary_id = None
        if await active_ticket(session, conversation_id) is None:  # asking again is free
            await _count_new_ticket(request, session, channel, conversation_id)
        in_hours = within_hours(operator.opening_hours, local_now())
        online = await agents_online(session) > 0
        opened = await open_ticket(
            session,
            operator=operator,
            conversation_id=conversation_id,
            channel=channel,
            reason=reason,
            beneficiary_id=beneficiary_id,
            transcript=transcript,
            callback=not (in_hours and online),
        )
        return await _answer(request, session, opened.ticket, 201 if opened.created else 200)


async def _count_new_ticket(request: web.Request, session, channel: str, conversation_id: str) -> None:
    """Counts a new ticket per conversation and for the whole queue (rate_limits) before it is
    opened; 429 with the phone when over a limit."""
    settings = request.app[SETTINGS]
    try:
        await hit_all(
            session,
            DataKeys(settings.data_hmac_secret),
            [(HANDOFF_PER_CONVERSATION, (channel, conversation_id)), (HANDOFF_GLOBAL, ())],
        )
    except RateLimited as exc:
        phone = request.app[OPERATOR].phones["central_24h"]
        raise too_many(exc, extra=f"Se precisar agora, ligue {phone} (24 horas).") from None


@routes.get("/api/handoffs")
async def get_handoff(request: web.Request) -> web.Response:
    """?conversation_id=...: the conversation's latest ticket (any status), same fields as the POST
    plus resolution; 404 handoff_not_found."""
    conversation_id = request.query.get("conversation_id", "")
    async with request.app[SESSIONS]() as session:
        ticket = await latest_ticket(session, conversation_id) if conversation_id else None
        if ticket is None:
            raise ApiError(404, "handoff_not_found", "Não encontrei pedido de atendimento nesta conversa.")
        response = await _answer(request, session, ticket, 200)
    return response
