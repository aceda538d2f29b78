"""POST /api/registrations: cadastro (first access) with an activation link by e-mail."""
from aiohttp import web

from backend.api.context import MAILER, OPERATOR, SESSIONS, SETTINGS
from backend.api.errors import ApiError, invalid_request
from backend.api.forms import Form
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.links import ACTIVATION, TTL
from backend.mail import MailError
from backend.registration import RegistrationRefused, register
from common.validators import normalize_email

routes = web.RouteTableDef()


def _refusal_message(code: str, phones: dict[str, str]) -> str:
    return {
        "already_registered": "Você já tem cadastro no aplicativo. Se não lembra a senha, posso ajudar a "
                              "recuperar: é só pedir \"esqueci minha senha\".",
        "plan_cancelled": "Seu plano está cancelado, então não é possível fazer o cadastro no aplicativo. "
                          f"Para mais informações, ligue {phones['central_24h']}.",
        "email_in_use": "Esse e-mail já está no cadastro de outra pessoa. Informe outro e-mail.",
    }[code]


@routes.post("/api/registrations")
async def create_registration(request: web.Request) -> web.Response:
    """Body {verification, conversation_id, channel, email?} -> 201 {protocol, email_masked,
    expires_in_hours}. Without `email`, the link goes to the e-mail on file (the user confirmed
    it in the chat, seeing only its masked form)."""
    form = await Form.read(request)
    token = form.verification()
    email = form.parsed("email", "o e-mail", normalize_email) if form.has("email") else None
    channel = form.channel()
    conversation_id = form.conversation_id(request)
    form.validate()

    operator = request.app[OPERATOR]
    try:
        async with request.app[SESSIONS]() as session:
            beneficiary = await verified_beneficiary(request, session, token, conversation_id)
            email = email or beneficiary.email
            if not email:
                raise invalid_request({"email": "Informe o e-mail: não há e-mail no seu cadastro."})
            result = await register(
                session, beneficiary, email, operator=operator, mailer=request.app[MAILER],
                public_url=request.app[SETTINGS].public_backend_url, channel=channel,
                conversation_id=conversation_id,
            )
    except RegistrationRefused as exc:
        raise ApiError(409, exc.code, _refusal_message(exc.code, operator.phones)) from None
    except MailError:
        raise ApiError(503, "email_not_sent", "Não consegui enviar o e-mail de ativação agora. "
                                              "Tente de novo em alguns minutos.") from None
    return json_response({"protocol": result.protocol, "email_masked": result.email_masked,
                          "expires_in_hours": int(TTL[ACTIVATION].total_seconds() // 3600)}, status=201)
