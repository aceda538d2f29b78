"""The portal's users of the caller's company (backend.company.users), for its admins only: every
route answers 403 company_admin_only to a plain user, whatever the body, and 401
company_unauthorized without a company credential (backend.api.company_auth) — checked before the
body's fields. A user of another company is not found (404).

GET  /api/company/users              200 {users: [{user_code, name, email, role (admin|user),
                                     role_label, status (active|inactive), status_label,
                                     has_portal_access}]}
GET  /api/company/users/{user_code}  200 {user}; 404 company_user_not_found
POST /api/company/users              body {name, email, role, channel?, conversation_id?} -> 201
                                     {user, message}: the first-access link goes to `email`; 400;
                                     409 email_in_use; 429 rate_limited (20 a day per company)
POST /api/company/users/{user_code}/changes  body {name?, email?, role?} -> 200 {user, changes,
                                     message}; 400; 404; 409 nothing_to_change | email_in_use |
                                     company_user_self (own role) | company_last_admin
POST /api/company/users/{user_code}/deactivation  -> 200 {user, message}: sessions, chat
                                     verifications, links and the password end; 404; 409
                                     company_user_self | company_user_already_inactive | company_last_admin
POST /api/company/users/{user_code}/reactivation  -> 200 {user, message}: a new first-access link
                                     goes to the e-mail on file; 404; 409 company_user_already_active
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.company_auth import company_caller
from backend.api.context import MAILER, OPERATOR, SESSIONS, SETTINGS
from backend.api.forms import Form, required
from backend.api.responses import json_response
from backend.company.access import AccessServices
from backend.company.auth import CompanyCaller, require_admin
from backend.company.users import (
    ROLES,
    UserChange,
    add_user,
    company_user,
    company_users,
    deactivate_user,
    edit_user,
    reactivate_user,
)
from backend.rate_limits import DataKeys
from common.validators import normalize_email

routes = web.RouteTableDef()
NAME_MAX_LENGTH = 160


class UserForm(Form):
    def name(self) -> str | None:
        value = self.text("name", "o nome do usuário", max_length=NAME_MAX_LENGTH)
        return " ".join(value.split()) if value else None

    def email(self) -> str | None:
        return self.parsed("email", "o e-mail do usuário", normalize_email)

    def role(self) -> str | None:
        value = self.text("role", "o perfil (admin ou user)", max_length=10)
        if value is not None and value.strip().lower() not in ROLES:
            self.errors["role"] = "Perfil desconhecido: use admin (administrador) ou user (usuário)."
            return None
        return value.strip().lower() if value else None

    def changes(self) -> dict[str, str]:
        found = {field: getattr(self, field)() for field in ("name", "email", "role") if self.has(field)}
        if not found and not self.errors:
            self.errors["name"] = "Informe o novo nome, e-mail ou perfil do usuário."
        return {field: value for field, value in found.items() if value is not None}


async def _admin(request: web.Request, session: AsyncSession, form: Form | None = None) -> CompanyCaller:
    """The caller, an admin, before the body's fields are judged."""
    caller = require_admin(await company_caller(request, session))
    if form is not None:
        form.validate()
    return caller


def _access(request: web.Request) -> AccessServices:
    settings = request.app[SETTINGS]
    return AccessServices(
        keys=DataKeys(settings.data_hmac_secret),
        mailer=request.app[MAILER],
        operator=request.app[OPERATOR],
        public_url=settings.public_backend_url,
    )


def _answer(done: UserChange, status: int = 200) -> web.Response:
    body = {"user": done.user, "message": done.message}
    if done.changes is not None:
        body["changes"] = done.changes
    return json_response(body, status=status)


@routes.get("/api/company/users")
async def users(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        found = await company_users(session, await company_caller(request, session))
    return json_response({"users": found})


@routes.get("/api/company/users/{user_code}")
async def user(request: web.Request) -> web.Response:
    """See the module's docstring."""
    async with request.app[SESSIONS]() as session:
        found = await company_user(session, await company_caller(request, session), request.match_info["user_code"])
    return json_response({"user": found})


@routes.post("/api/company/users")
async def add(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await UserForm.read(request)
    name, email, role = form.name(), form.email(), form.role()
    form.channel()
    async with request.app[SESSIONS]() as session:
        caller = await _admin(request, session, form)
        done = await add_user(
            session, caller, required(name), required(email), required(role), services=_access(request)
        )
    return _answer(done, status=201)


@routes.post("/api/company/users/{user_code}/changes")
async def change(request: web.Request) -> web.Response:
    """See the module's docstring."""
    form = await UserForm.read(request)
    changes = form.changes()
    async with request.app[SESSIONS]() as session:
        caller = await _admin(request, session, form)
        done = await edit_user(session, caller, request.match_info["user_code"], changes)
    return _answer(done)


@routes.post("/api/company/users/{user_code}/deactivation")
async def deactivate(request: web.Request) -> web.Response:
    """See the module's docstring."""
    await Form.read(request)  # (its channel goes with the credential's)
    async with request.app[SESSIONS]() as session:
        caller = await _admin(request, session)
        done = await deactivate_user(session, caller, request.match_info["user_code"])
    return _answer(done)


@routes.post("/api/company/users/{user_code}/reactivation")
async def reactivate(request: web.Request) -> web.Response:
    """See the module's docstring."""
    await Form.read(request)
    async with request.app[SESSIONS]() as session:
        caller = await _admin(request, session)
        done = await reactivate_user(session, caller, request.match_info["user_code"], services=_access(request))
    return _answer(done)
