"""POST /api/password-change-links: a single-use link to the change-password page."""

from aiohttp import web

from backend.api.context import OPERATOR, SESSIONS, SETTINGS
from backend.api.forms import Form
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.links import PASSWORD_CHANGE, TTL
from backend.password_change import request_change_link

routes = web.RouteTableDef()


@routes.post("/api/password-change-links")
async def create_password_change_link(request: web.Request) -> web.Response:
    """Body {verification, conversation_id, channel} -> 201 {url, expires_in_minutes, protocol};
    409 plan_cancelled | no_account."""
    form = await Form.read(request)
    token = form.verification()
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_beneficiary(request, session, token, conversation_id)
        link = await request_change_link(
            session,
            beneficiary,
            operator=request.app[OPERATOR],
            public_url=request.app[SETTINGS].public_backend_url,
            channel=channel,
            conversation_id=conversation_id,
        )
    minutes = int(TTL[PASSWORD_CHANGE].total_seconds() // 60)
    return json_response({"url": link.url, "expires_in_minutes": minutes, "protocol": link.protocol}, status=201)
