"""POST /api/identity/verifications: the identity check every flow of the assistant starts with."""
from aiohttp import web

from backend.api.context import SESSIONS
from backend.api.errors import ApiError, retry_after
from backend.api.forms import Form
from backend.api.responses import json_response
from backend.identity import (
    VERIFICATION_TTL,
    IdentityClaim,
    IdentityLocked,
    IdentityNotConfirmed,
    TooManyAttempts,
    issue_verification,
    verify_identity,
)
from common.validators import classify_login, normalize_birth_date, normalize_cpf

routes = web.RouteTableDef()


@routes.post("/api/identity/verifications")
async def create_verification(request: web.Request) -> web.Response:
    """201 {token, expires_in_minutes, first_name}; 401 the same whatever did not match; 423; 429."""
    form = await Form.read(request)
    login = form.parsed("login", "o número da carteirinha ou o e-mail", classify_login)
    cpf = form.parsed("cpf", "o CPF", normalize_cpf)
    birth_date = form.parsed("birth_date", "a data de nascimento", normalize_birth_date)
    conversation_id = form.optional("conversation_id") or f"ip:{request.remote}"
    form.channel()
    form.validate()

    claim = IdentityClaim(login_kind=login[0], login=login[1], cpf=cpf, birth_date=birth_date)
    try:
        async with request.app[SESSIONS]() as session:
            beneficiary = await verify_identity(session, claim, conversation_id)
            token = await issue_verification(session, beneficiary, conversation_id)
    except IdentityNotConfirmed as exc:
        raise ApiError(401, "identity_not_confirmed",
                       "Não consegui confirmar seus dados. Confira o login, o CPF e a data de nascimento.",
                       attempts_left=exc.attempts_left) from None
    except IdentityLocked as exc:
        raise retry_after(423, "identity_locked",
                          "Por segurança, a confirmação de identidade ficou bloqueada por alguns minutos "
                          "depois de várias tentativas. Tente de novo mais tarde.", exc.retry_after_minutes) from None
    except TooManyAttempts as exc:
        raise retry_after(429, "too_many_attempts",
                          "Foram muitas tentativas nesta conversa. Aguarde alguns minutos e tente de novo.",
                          exc.retry_after_minutes) from None
    return json_response(
        {"token": token, "expires_in_minutes": int(VERIFICATION_TTL.total_seconds() // 60),
         "first_name": beneficiary.name.split()[0]},
        status=201,
    )
