"""What the assistant calls to hand a conversation over to the call centre (docs/handoff.md).

POST /api/handoffs: a ticket with its protocol, the place in the queue and the message for the user.
    Body {conversation_id, channel, reason?, verification?, transcript?: [{from: user|bot, text, at}]}.
    201 a new ticket / 200 the ticket this conversation already has waiting or in progress:
    {protocol, ticket_id, status, position, agents_online, within_hours, callback, pause, phone,
    message}. `pause`: whether the bot should pause (ConversationPaused) now; when false (out of
    hours or no agent online) the ticket waits for a call back and the bot goes on (claiming it
    pauses the bot). No personal data is needed: an expired or wrong `verification` only leaves
    the ticket unlinked. 429 (with Retry-After): too many new tickets from this conversation or for
    the whole queue.
"""

from __future__ import annotations

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.forms import Form, required
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.handoff import HandoffState, clean_transcript, request_handoff, user_message
from backend.operator_profile import OperatorProfile
from backend.rasa_client import RasaClient
from backend.rate_limits import DataKeys
from backend.refusals import Refused

routes = web.RouteTableDef()
REASON_MAX_LENGTH = 200
DEFAULT_REASON = "pediu para falar com um atendente"


def rasa_client(app: web.Application) -> RasaClient:
    settings = app[SETTINGS]
    return RasaClient(settings.rasa_url, settings.rasa_token)


def handoff_body(state: HandoffState, operator: OperatorProfile) -> dict:
    ticket = state.ticket
    return {
        "protocol": ticket.protocol_number,
        "ticket_id": ticket.id,
        "status": ticket.status,
        "position": state.position,
        "agents_online": state.online,
        "within_hours": state.in_hours,
        "callback": state.callback,
        "pause": state.pause,
        "phone": operator.phones["central_24h"],
        "message": user_message(state, operator),
        "resolution": ticket.resolution,
    }


class HandoffForm(Form):
    def reason(self) -> str:
        return (self.optional("reason", max_length=REASON_MAX_LENGTH) or DEFAULT_REASON).strip() or DEFAULT_REASON

    def transcript(self) -> list[dict]:
        transcript = clean_transcript(self.raw("transcript"))
        if transcript is None:
            self.errors["transcript"] = 'Envie a conversa como uma lista de {"from": "user" ou "bot", "text": "..."}.'
        return transcript or []


@routes.post("/api/handoffs")
async def create_handoff(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await HandoffForm.read(request)
    conversation_id = form.text("conversation_id", "a conversa", max_length=128)
    channel, reason, transcript = form.channel(), form.reason(), form.transcript()
    token = form.optional("verification", max_length=100)
    form.validate()
    operator = request.app[OPERATOR]
    async with request.app[SESSIONS]() as session:
        beneficiary_id = await _verified_id(request, session, token, required(conversation_id))
        state = await request_handoff(
            session,
            operator=operator,
            keys=DataKeys(request.app[SETTINGS].data_hmac_secret),
            conversation_id=required(conversation_id),
            channel=channel,
            reason=reason,
            beneficiary_id=beneficiary_id,
            transcript=transcript,
        )
        return json_response(handoff_body(state, operator), status=201 if state.created else 200)


async def _verified_id(request: web.Request, session, token: str | None, conversation_id: str) -> int | None:
    """The verified beneficiary's id, None without a valid verification (the ticket stays unlinked)."""
    if not token:
        return None
    try:
        return (await verified_beneficiary(request, session, token, conversation_id)).id
    except Refused:
        return None
