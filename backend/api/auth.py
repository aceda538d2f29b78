from aiohttp import web

from backend.api.context import SESSIONS, SETTINGS
from backend.api.errors import ApiError
from backend.api.forms import Form, required
from backend.api.responses import json_response
from backend.auth import AccountLocked, InvalidCredentials, login_agent, login_beneficiary
from backend.password_change import login_change_url
from backend.rate_limits import (
    LOGIN_PER_ADDRESS,
    LOGIN_PER_LOGIN,
    DataKeys,
    RateLimited,
    client_address,
    hit_all,
    too_many,
    try_again_text,
)
from common.pii import only_digits
from common.validators import classify_login, normalize_cpf

routes = web.RouteTableDef()
PASSWORD_MAX_LENGTH = 128


def parse_login(value: str) -> tuple[str, str]:
    """Card number, CPF or e-mail -> ('card'|'cpf'|'email', normalised value)."""
    if "@" not in value and len(only_digits(value)) == 11:
        return "cpf", normalize_cpf(value)
    return classify_login(value)


def _invalid_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "Login ou senha incorretos. Confira e tente de novo.")


@routes.post("/api/auth/login")
async def login(request: web.Request) -> web.Response:
    """200 {token, must_change_password, change_password_url when it is true}; 401; 423."""
    form = await Form.read(request)
    parsed = form.parsed("login", "o número da carteirinha, o CPF ou o e-mail", parse_login)
    password = form.text("password", "a senha", max_length=PASSWORD_MAX_LENGTH)
    form.validate()
    (login_kind, login), password = required(parsed), required(password)
    settings = request.app[SETTINGS]
    try:
        async with request.app[SESSIONS]() as session:
            # counted before anything is checked: per client address (X-Forwarded-For only from a
            # trusted proxy) and per login, whether or not the login exists
            await hit_all(
                session,
                DataKeys(settings.data_hmac_secret),
                [
                    (LOGIN_PER_ADDRESS, (client_address(request, settings.trusted_proxies),)),
                    (LOGIN_PER_LOGIN, (login_kind, login)),
                ],
            )
            result = await login_beneficiary(session, login_kind, login, password, settings.bcrypt_rounds)
            body = {"token": result.token, "must_change_password": result.must_change_password}
            if result.must_change_password:  # temporary password: the change page comes first
                body["change_password_url"] = await login_change_url(
                    session, result.beneficiary_id, settings.public_backend_url
                )
    except InvalidCredentials:
        raise _invalid_credentials() from None
    except RateLimited as exc:
        raise too_many(exc, extra='Se esqueceu a senha, peça uma nova no chat: "esqueci minha senha".') from None
    except AccountLocked as exc:
        raise locked_error(
            exc,
            "Por segurança, seu acesso ficou bloqueado depois de várias tentativas erradas.",
            'Se esqueceu a senha, peça uma nova no chat: "esqueci minha senha".',
        ) from None
    return json_response(body)


def locked_error(exc: AccountLocked, reason: str, extra: str = "") -> ApiError:
    """423 with Retry-After (seconds) and when to try again, in pt-BR."""
    message = f"{reason} {try_again_text(exc.retry_after_seconds)}" + (f" {extra}" if extra else "")
    return ApiError(
        423,
        "account_locked",
        message,
        headers={"Retry-After": str(exc.retry_after_seconds)},
        retry_after_minutes=exc.retry_after_minutes,
    )


@routes.post("/api/agent/login")
async def agent_login(request: web.Request) -> web.Response:
    form = await Form.read(request)
    username = form.text("username", "o usuário", max_length=60)
    password = form.text("password", "a senha", max_length=PASSWORD_MAX_LENGTH)
    form.validate()
    username, password = required(username).strip(), required(password)
    try:
        async with request.app[SESSIONS]() as session:
            token = await login_agent(session, username, password, request.app[SETTINGS].bcrypt_rounds)
    except InvalidCredentials:
        raise ApiError(401, "invalid_credentials", "Usuário ou senha incorretos.") from None
    except AccountLocked as exc:
        raise locked_error(exc, "Acesso bloqueado por algumas tentativas erradas.") from None
    return json_response({"token": token})
