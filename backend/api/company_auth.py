"""The company user's credentials (backend.company.auth, backend.company.identity) and how the
other company handlers find who they answer (`company_caller`).

POST /api/company/auth/login  body {user_code, password} -> 200 {token, expires_in_minutes, user,
    company}; 401 invalid_credentials (the same whatever was wrong); 423 account_locked
    (Retry-After); 429 rate_limited. Service token required for now, like every route not listed
    in backend.api.service_auth.PUBLIC_ROUTES: opening it to a portal page is a decision of that
    list (and of tests/backend/test_backend_service_auth.py's EXPECTED_PUBLIC).
POST /api/company/identity/codes  (service) body {user_code, cnpj, channel, conversation_id} -> 202
    {message, expires_in_minutes}: the same answer whether or not the data matched; 400; 429.
POST /api/company/identity/verifications  (service) body {user_code, cnpj, code, channel,
    conversation_id} -> 201 {token, expires_in_minutes, user, company}; 401 company_code_invalid
    (attempts_left); 410 company_code_expired; 423 company_code_locked; 429 too_many_attempts.
POST /api/company/access/first-access  (service) body {user_code | company_code, cnpj, email, channel,
    conversation_id} -> 202 {message}: a link to create the password goes to the e-mail on file.
POST /api/company/access/password-reset  (service) body {user_code, cnpj, channel, conversation_id}
    -> 202 {message}: a link to create a new password goes to the e-mail on file.
POST /api/company/access/user-code  (service) body {company_code, cnpj, email, channel,
    conversation_id} -> 202 {message}: the user code goes to the e-mail on file.
    The three answer the same whether or not the data matched; 400 (a field: CNPJ check digits…);
    429 rate_limited (per conversation).

Every other company call (service token) carries one of: `X-Company-Session: <login token>`, or
`X-Company-Verification: <verification token>` with `X-Conversation-Id` (and `X-Channel`, "rest"
by default) of the conversation it was issued to; otherwise 401 company_unauthorized.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.context import MAILER, OPERATOR, SESSIONS, SETTINGS
from backend.api.forms import DEFAULT_CHANNEL, FORM, Form, required
from backend.api.responses import json_response
from backend.company.access import (
    AccessServices,
    request_first_access,
    request_password_reset,
    request_user_code,
)
from backend.company.auth import (
    REFUSALS,
    SESSION_TTL,
    CompanyCaller,
    caller_from_session,
    caller_from_verification,
    company_login,
)
from backend.company.identity import CODE_TTL, SENT_MESSAGE, send_code, verify_code
from backend.rate_limits import DataKeys, client_address
from common.company_documents import format_cnpj, normalize_cnpj, normalize_company_code, normalize_user_code
from common.validators import normalize_email

routes = web.RouteTableDef()
PASSWORD_MAX_LENGTH = 128


def caller_json(caller: CompanyCaller) -> dict:
    user, company = caller.user, caller.company
    return {
        "user": {
            "user_code": user.user_code,
            "name": user.name,
            "first_name": user.name.split()[0],
            "role": user.role,
            "is_admin": caller.is_admin,
        },
        "company": {"code": company.code, "name": company.name, "cnpj": format_cnpj(company.cnpj)},
    }


def _idle_ttl(request: web.Request) -> timedelta:
    return timedelta(minutes=request.app[SETTINGS].verified_session_minutes)


def _channel(request: web.Request) -> str:
    """The `X-Channel` header and/or the body's `channel` (they must agree), "rest" when neither."""
    header = request.headers.get("X-Channel") or None
    form = request.get(FORM)
    body = form.sent_channel() if form is not None else None
    if header and body and header != body:
        raise REFUSALS.refuse("company_unauthorized")
    return header or body or DEFAULT_CHANNEL


async def company_caller(request: web.Request, session: AsyncSession) -> CompanyCaller:
    """Who the request is made for (see the module's docstring)."""
    session_token = request.headers.get("X-Company-Session", "")
    if session_token:
        return await caller_from_session(session, session_token)
    token, conversation_id = (
        request.headers.get("X-Company-Verification", ""),
        request.headers.get("X-Conversation-Id", ""),
    )
    if not token or not conversation_id:
        raise REFUSALS.refuse("company_unauthorized")
    return await caller_from_verification(
        session, token, channel=_channel(request), conversation_id=conversation_id, idle_ttl=_idle_ttl(request)
    )


class CompanyForm(Form):
    def user_code(self) -> str | None:
        return self.parsed("user_code", "o código de usuário", normalize_user_code)

    def cnpj(self) -> str | None:
        return self.parsed("cnpj", "o CNPJ da empresa", normalize_cnpj)

    def company_code(self) -> str | None:
        return self.parsed("company_code", "o código da empresa", normalize_company_code)

    def email(self) -> str | None:
        return self.parsed("email", "o e-mail cadastrado", normalize_email)

    def user_or_company_code(self) -> tuple[str | None, str | None]:
        """(user_code, company_code): "Primeiro acesso" takes either."""
        if self.has("company_code") and not self.has("user_code"):
            return None, self.company_code()
        return self.user_code(), None


def _access(request: web.Request) -> AccessServices:
    settings = request.app[SETTINGS]
    return AccessServices(
        keys=DataKeys(settings.data_hmac_secret),
        mailer=request.app[MAILER],
        operator=request.app[OPERATOR],
        public_url=settings.public_backend_url,
    )


@routes.post("/api/company/auth/login")
async def login(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await CompanyForm.read(request)
    user_code, password = form.user_code(), form.text("password", "a senha", max_length=PASSWORD_MAX_LENGTH)
    form.validate()
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        token, caller = await company_login(
            session,
            required(user_code),
            required(password),
            keys=DataKeys(settings.data_hmac_secret),
            client=client_address(request, settings.trusted_proxies),
            bcrypt_rounds=settings.bcrypt_rounds,
        )
    minutes = int(SESSION_TTL.total_seconds() // 60)
    return json_response({"token": token, "expires_in_minutes": minutes, **caller_json(caller)})


@routes.post("/api/company/identity/codes")
async def request_code(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await CompanyForm.read(request)
    user_code, cnpj = form.user_code(), form.cnpj()
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    async with request.app[SESSIONS]() as session:
        await send_code(
            session,
            required(user_code),
            required(cnpj),
            channel=channel,
            conversation_id=conversation_id,
            keys=DataKeys(request.app[SETTINGS].data_hmac_secret),
            mailer=request.app[MAILER],
            operator=request.app[OPERATOR],
        )
    minutes = int(CODE_TTL.total_seconds() // 60)
    return json_response({"message": SENT_MESSAGE, "expires_in_minutes": minutes}, status=202)


@routes.post("/api/company/identity/verifications")
async def create_verification(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await CompanyForm.read(request)
    user_code, cnpj = form.user_code(), form.cnpj()
    code = form.text("code", "o código de 6 números do e-mail", max_length=12)
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    async with request.app[SESSIONS]() as session:
        verified = await verify_code(
            session,
            required(user_code),
            required(cnpj),
            "".join(required(code).split()),
            channel=channel,
            conversation_id=conversation_id,
            keys=DataKeys(request.app[SETTINGS].data_hmac_secret),
            idle_ttl=_idle_ttl(request),
        )
    minutes = request.app[SETTINGS].verified_session_minutes
    return json_response({"token": verified.token, "expires_in_minutes": minutes, **caller_json(verified.caller)}, 201)


@routes.post("/api/company/access/first-access")
async def first_access(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await CompanyForm.read(request)
    (user_code, company_code), cnpj, email = form.user_or_company_code(), form.cnpj(), form.email()
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    async with request.app[SESSIONS]() as session:
        message = await request_first_access(
            session,
            required(cnpj),
            required(email),
            user_code=user_code,
            company_code=company_code,
            channel=channel,
            conversation_id=conversation_id,
            services=_access(request),
        )
    return json_response({"message": message}, status=202)


@routes.post("/api/company/access/password-reset")
async def password_reset(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await CompanyForm.read(request)
    user_code, cnpj = form.user_code(), form.cnpj()
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    async with request.app[SESSIONS]() as session:
        message = await request_password_reset(
            session,
            required(user_code),
            required(cnpj),
            channel=channel,
            conversation_id=conversation_id,
            services=_access(request),
        )
    return json_response({"message": message}, status=202)


@routes.post("/api/company/access/user-code")
async def user_code_reminder(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await CompanyForm.read(request)
    company_code, cnpj, email = form.company_code(), form.cnpj(), form.email()
    channel, conversation_id = form.channel(), form.conversation_id(request)
    form.validate()
    async with request.app[SESSIONS]() as session:
        message = await request_user_code(
            session,
            required(company_code),
            required(cnpj),
            required(email),
            channel=channel,
            conversation_id=conversation_id,
            services=_access(request),
        )
    return json_response({"message": message}, status=202)
