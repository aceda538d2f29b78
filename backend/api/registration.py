"""POST /api/registrations: cadastro (first access) with an activation link by e-mail.

Body {verification, conversation_id, channel, email?}. Without `email` (the user confirmed the
e-mail on file, seeing only its masked form) or with that same address: 201 {protocol,
email_masked, expires_in_hours, repeated}, the activation link went to the e-mail on file (or,
with none on file, to `email`). With an address other than the one on file: 202 {protocol,
email_masked (the new one), current_email_masked, email_change_pending: true, effective_at,
effective_text, wait_hours, repeated}: no activation link, the change of the e-mail on file
started instead (backend.registration). `repeated`: the same request moments ago, nothing sent.
409 already_registered | plan_cancelled | email_in_use; 429; 503.
"""

from aiohttp import web

from backend.api.context import SESSIONS, mail_services
from backend.api.forms import Form
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.email_change import EMAIL_CHANGE_WAIT
from backend.links import ACTIVATION, TTL
from backend.registration import RegistrationResult, register
from common.validators import normalize_email

routes = web.RouteTableDef()


def _registration_body(result: RegistrationResult) -> dict:
    if result.email_change_effective_at is not None:
        return {
            "protocol": result.protocol,
            "email_masked": result.email_masked,
            "current_email_masked": result.current_email_masked,
            "email_change_pending": True,
            "effective_at": result.email_change_effective_at.isoformat(timespec="seconds") + "Z",
            "effective_text": result.email_change_effective_text,
            "wait_hours": int(EMAIL_CHANGE_WAIT.total_seconds() // 3600),
            "repeated": result.repeated,
        }
    return {
        "protocol": result.protocol,
        "email_masked": result.email_masked,
        "expires_in_hours": int(TTL[ACTIVATION].total_seconds() // 3600),
        "repeated": result.repeated,
    }


@routes.post("/api/registrations")
async def create_registration(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await Form.read(request)
    token = form.verification()
    email = form.parsed("email", "o e-mail", normalize_email) if form.has("email") else None
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_beneficiary(request, session, token, conversation_id, for_registration=True)
        result = await register(
            session, beneficiary, email, mail=mail_services(request), channel=channel, conversation_id=conversation_id
        )
    return json_response(_registration_body(result), status=202 if result.email_change_effective_at else 201)
