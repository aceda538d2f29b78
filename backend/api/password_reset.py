from aiohttp import web

from backend.api.context import MAILER, OPERATOR, SESSIONS, SETTINGS
from backend.api.errors import ApiError
from backend.api.forms import Form
from backend.api.identity import verified_beneficiary
from backend.api.responses import json_response
from backend.mail import MailError
from backend.password_reset import ResetRefused, reset_password
from backend.rate_limits import DataKeys, RateLimited, too_many

routes = web.RouteTableDef()


def _refusal_message(code: str, phones: dict[str, str]) -> str:
    return {
        "plan_cancelled": "Seu plano está cancelado, então não é possível recuperar a senha por aqui. "
        f"Para mais informações, ligue {phones['central_24h']}.",
        "no_account": "Você ainda não tem cadastro no aplicativo. Faça o seu primeiro acesso pela opção Cadastro.",
        "no_email_on_file": "Não há e-mail no seu cadastro para enviarmos a senha temporária. "
        f"Atualize seu e-mail com o setor de cadastro: {phones['cadastro']}.",
    }[code]


@routes.post("/api/password-resets")
async def create_password_reset(request: web.Request) -> web.Response:
    """Body {verification, channel, conversation_id}: the token of /api/identity/verifications.
    201 {protocol, email_masked, repeated}: `repeated`, the same request moments ago — same
    protocol, no new e-mail (backend.password_reset); 409; 429 (rate_limits); 503."""
    form = await Form.read(request)
    token = form.verification()
    channel = form.channel()
    conversation_id = form.conversation_id(request)
    form.validate()

    operator = request.app[OPERATOR]
    settings = request.app[SETTINGS]
    try:
        async with request.app[SESSIONS]() as session:
            beneficiary = await verified_beneficiary(request, session, token, conversation_id)
            result = await reset_password(
                session,
                beneficiary,
                keys=DataKeys(settings.data_hmac_secret),
                operator=operator,
                mailer=request.app[MAILER],
                bcrypt_rounds=settings.bcrypt_rounds,
                channel=channel,
                conversation_id=conversation_id,
            )
    except ResetRefused as exc:
        raise ApiError(409, exc.code, _refusal_message(exc.code, operator.phones)) from None
    except RateLimited as exc:
        raise too_many(exc, extra="Se a senha temporária já chegou, use a do e-mail mais recente.") from None
    except MailError:
        raise ApiError(
            503,
            "email_not_sent",
            "Não consegui enviar o e-mail agora e sua senha não foi alterada. Tente de novo em alguns minutos.",
        ) from None
    return json_response(
        {"protocol": result.protocol, "email_masked": result.email_masked, "repeated": result.repeated}, status=201
    )
