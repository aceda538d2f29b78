"""POST /api/registrations: cadastro (first access) with an activation link by e-mail."""

from aiohttp import web

from backend.api.context import MAILER, OPERATOR, SESSIONS, SETTINGS
from backend.api.errors import ApiError, invalid_request
from backend.api.forms import Form
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.email_change import EMAIL_CHANGE_WAIT, EmailChangeRefused
from backend.links import ACTIVATION, TTL
from backend.mail import MailError
from backend.rate_limits import DataKeys, RateLimited, too_many
from backend.registration import RegistrationRefused, register
from common.validators import normalize_email

routes = web.RouteTableDef()


def _refusal_message(code: str, phones: dict[str, str]) -> str:
    return {
        "already_registered": "Você já tem cadastro no aplicativo. Se não lembra a senha, posso ajudar a "
        'recuperar: é só pedir "esqueci minha senha".',
        "plan_cancelled": "Seu plano está cancelado, então não é possível fazer o cadastro no aplicativo. "
        f"Para mais informações, ligue {phones['central_24h']}.",
        "email_in_use": "Esse e-mail já está no cadastro de outra pessoa. Informe outro e-mail.",
    }[code]


@routes.post("/api/registrations")
async def create_registration(request: web.Request) -> web.Response:
    """Body {verification, conversation_id, channel, email?}. Without `email` (the user confirmed
    the e-mail on file, seeing only its masked form) or with that same address: 201 {protocol,
    email_masked, expires_in_hours, repeated}, the activation link went to the e-mail on file (or,
    with none on file, to `email`). With an address other than the one on file: 202 {protocol,
    email_masked (the new one), current_email_masked, email_change_pending: true, effective_at,
    effective_text, wait_hours, repeated}: no activation link, the change of the e-mail on file
    started instead (backend.registration). `repeated`: the same request moments ago, nothing sent.
    409 already_registered | plan_cancelled | email_in_use; 429; 503."""
    form = await Form.read(request)
    token = form.verification()
    email = form.parsed("email", "o e-mail", normalize_email) if form.has("email") else None
    channel = form.channel()
    conversation_id = form.conversation_id(request)
    form.validate()

    operator = request.app[OPERATOR]
    settings = request.app[SETTINGS]
    try:
        async with request.app[SESSIONS]() as session:
            beneficiary = await verified_beneficiary(request, session, token, conversation_id, for_registration=True)
            result = await register(
                session,
                beneficiary,
                email,
                keys=DataKeys(settings.data_hmac_secret),
                operator=operator,
                mailer=request.app[MAILER],
                public_url=settings.public_backend_url,
                channel=channel,
                conversation_id=conversation_id,
            )
    except RegistrationRefused as exc:
        if exc.code == "email_required":
            raise invalid_request({"email": "Informe o e-mail: não há e-mail no seu cadastro."}) from None
        raise ApiError(409, exc.code, _refusal_message(exc.code, operator.phones)) from None
    except EmailChangeRefused as exc:  # email_in_use
        raise ApiError(409, exc.code, _refusal_message(exc.code, operator.phones)) from None
    except RateLimited as exc:
        raise too_many(exc) from None
    except MailError:
        raise ApiError(
            503, "email_not_sent", "Não consegui enviar o e-mail de ativação agora. Tente de novo em alguns minutos."
        ) from None
    if result.email_change_effective_at is not None:
        return json_response(
            {
                "protocol": result.protocol,
                "email_masked": result.email_masked,
                "current_email_masked": result.current_email_masked,
                "email_change_pending": True,
                "effective_at": result.email_change_effective_at.isoformat(timespec="seconds") + "Z",
                "effective_text": result.email_change_effective_text,
                "wait_hours": int(EMAIL_CHANGE_WAIT.total_seconds() // 3600),
                "repeated": result.repeated,
            },
            status=202,
        )
    return json_response(
        {
            "protocol": result.protocol,
            "email_masked": result.email_masked,
            "expires_in_hours": int(TTL[ACTIVATION].total_seconds() // 3600),
            "repeated": result.repeated,
        },
        status=201,
    )
