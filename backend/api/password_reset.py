"""POST /api/password-resets: "esqueci minha senha", a temporary password by e-mail."""

from aiohttp import web

from backend.api.context import MAILER, OPERATOR, SESSIONS, SETTINGS
from backend.api.forms import Form
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.password_reset import reset_password
from backend.rate_limits import DataKeys

routes = web.RouteTableDef()


@routes.post("/api/password-resets")
async def create_password_reset(request: web.Request) -> web.Response:
    """Body {verification, channel, conversation_id}: the token of /api/identity/verifications.
    201 {protocol, email_masked, repeated}: `repeated`, the same request moments ago — same
    protocol, no new e-mail (backend.password_reset); 409; 429 (rate_limits); 503."""
    form = await Form.read(request)
    token = form.verification()
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_beneficiary(request, session, token, conversation_id)
        result = await reset_password(
            session,
            beneficiary,
            keys=DataKeys(settings.data_hmac_secret),
            operator=request.app[OPERATOR],
            mailer=request.app[MAILER],
            bcrypt_rounds=settings.bcrypt_rounds,
            channel=channel,
            conversation_id=conversation_id,
        )
    body = {"protocol": result.protocol, "email_masked": result.email_masked, "repeated": result.repeated}
    return json_response(body, status=201)
