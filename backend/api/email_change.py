"""POST /api/email-changes: a confirmation link to the new address, a notice to the old one."""
from aiohttp import web

from backend.api.context import MAILER, OPERATOR, SESSIONS, SETTINGS
from backend.api.errors import ApiError
from backend.api.forms import Form
from backend.api.identity import NAME_MAX_LENGTH, identity_locked, identity_not_confirmed, verified_beneficiary
from backend.api.responses import json_response
from backend.email_change import EmailChangeRefused, request_email_change
from backend.identity import IdentityLocked, IdentityNotConfirmed
from backend.mail import MailError
from common.validators import normalize_email

routes = web.RouteTableDef()

_REFUSALS = {
    "same_email": "Esse já é o e-mail do seu cadastro, então não é preciso trocar.",
    "email_in_use": "Esse e-mail já está no cadastro de outra pessoa. Informe outro e-mail.",
}


@routes.post("/api/email-changes")
async def create_email_change(request: web.Request) -> web.Response:
    """Body {verification, full_name, new_email, conversation_id, channel} -> 201 {protocol, new_email_masked}."""
    form = await Form.read(request)
    token = form.verification()
    full_name = form.text("full_name", "o seu nome completo", max_length=NAME_MAX_LENGTH)
    new_email = form.parsed("new_email", "o novo e-mail", normalize_email)
    channel = form.channel()
    conversation_id = form.conversation_id(request)
    form.validate()

    try:
        async with request.app[SESSIONS]() as session:
            beneficiary = await verified_beneficiary(request, session, token, conversation_id)
            result = await request_email_change(
                session, beneficiary, full_name, new_email, operator=request.app[OPERATOR],
                mailer=request.app[MAILER], public_url=request.app[SETTINGS].public_backend_url,
                channel=channel, conversation_id=conversation_id,
            )
    except IdentityNotConfirmed as exc:
        raise identity_not_confirmed(exc.attempts_left) from None
    except IdentityLocked as exc:
        raise identity_locked(exc.retry_after_minutes) from None
    except EmailChangeRefused as exc:
        raise ApiError(409, exc.code, _REFUSALS[exc.code]) from None
    except MailError:
        raise ApiError(503, "email_not_sent", "Não consegui enviar o e-mail de confirmação agora e nada mudou "
                                              "no seu cadastro. Tente de novo em alguns minutos.") from None
    return json_response({"protocol": result.protocol, "new_email_masked": result.new_email_masked}, status=201)
