"""POST /api/auth/login (the app's login: backend.auth.app_login) and POST /api/agent/login (the
console's: backend.agent_desk.log_in)."""

from aiohttp import web

from backend import agent_desk
from backend.api.context import SESSIONS, SETTINGS
from backend.api.forms import Form, required
from backend.api.responses import json_response
from backend.auth import app_login
from backend.rate_limits import DataKeys, client_address
from common.pii import only_digits
from common.validators import classify_login, normalize_cpf

routes = web.RouteTableDef()
PASSWORD_MAX_LENGTH = 128


def parse_login(value: str) -> tuple[str, str]:
    """Card number, CPF or e-mail -> ('card'|'cpf'|'email', normalised value)."""
    if "@" not in value and len(only_digits(value)) == 11:
        return "cpf", normalize_cpf(value)
    return classify_login(value)


@routes.post("/api/auth/login")
async def login(request: web.Request) -> web.Response:
    """200 {token, must_change_password, change_password_url when it is true}; 401; 423; 429.
    Counted per client address (X-Forwarded-For only from a trusted proxy) and per login."""
    form = await Form.read(request)
    parsed = form.parsed("login", "o número da carteirinha, o CPF ou o e-mail", parse_login)
    password = form.text("password", "a senha", max_length=PASSWORD_MAX_LENGTH)
    form.validate()
    (login_kind, login), settings = required(parsed), request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        result = await app_login(
            session,
            login_kind,
            login,
            required(password),
            keys=DataKeys(settings.data_hmac_secret),
            client=client_address(request, settings.trusted_proxies),
            bcrypt_rounds=settings.bcrypt_rounds,
            public_url=settings.public_backend_url,
        )
    body = {"token": result.token, "must_change_password": result.must_change_password}
    if result.change_password_url:  # temporary password: the change page comes first
        body["change_password_url"] = result.change_password_url
    return json_response(body)


@routes.post("/api/agent/login")
async def agent_login(request: web.Request) -> web.Response:
    """200 {token}; 401 invalid_credentials; 423 account_locked (Retry-After)."""
    form = await Form.read(request)
    username = form.text("username", "o usuário", max_length=60)
    password = form.text("password", "a senha", max_length=PASSWORD_MAX_LENGTH)
    form.validate()
    async with request.app[SESSIONS]() as session:
        token = await agent_desk.log_in(
            session, required(username).strip(), required(password), request.app[SETTINGS].bcrypt_rounds
        )
    return json_response({"token": token})
