"""The company's reports and the portal's users (admins only), for a verified company user.

POST /api/company/reports  {kind: active|inactive|usage, format: csv|pdf, channel, conversation_id} -> 201
     {kind, format, month, rows, filename, message, url, expires_in_minutes}; 422 no_*_beneficiaries |
     no_usage_in_month (backend/api/company_reports.py)
GET  /api/company/users                          {users: [{user_code, name, email, role, role_label, status,
                                                  status_label, has_portal_access}]}; 403 company_admin_only
POST /api/company/users/{user_code}/deactivation {user, message}; 404; 409 company_user_self |
                                                  company_user_already_inactive | company_last_admin
POST /api/company/users                          {name, email, role} -> 201 {user, message}: the first-access
                                                  link goes to the e-mail; 400; 409 email_in_use; 429
POST /api/company/users/{user_code}/changes      {name? | email? | role?} -> {user, changes, message}; 404;
                                                  409 nothing_to_change | email_in_use | company_user_self |
                                                  company_last_admin
Every one of them: 403 company_admin_only to a plain user, before the body is judged.
(backend/api/company_admin.py)
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.backend.client import backend
from bot.backend.common import Refusal, answer, from_json, path_segment
from bot.backend.company import CompanyCaller


@dataclass(frozen=True)
class Report:
    kind: str
    format: str
    rows: int
    filename: str
    message: str
    url: str
    expires_in_minutes: int


@dataclass(frozen=True)
class PortalUser:
    user_code: str
    name: str
    role: str
    status: str
    has_portal_access: bool
    role_label: str | None = None
    status_label: str | None = None


@dataclass(frozen=True)
class UserChanged:
    message: str


async def report(caller: CompanyCaller, kind: str, fmt: str) -> Report | Refusal:
    request = backend.post(
        "/api/company/reports", {"kind": kind, "format": fmt, **caller.body()}, headers=caller.headers()
    )
    return await answer(request, lambda data: from_json(Report, data))


async def portal_users(caller: CompanyCaller) -> tuple[PortalUser, ...] | Refusal:
    """Refusal: 403 company_admin_only."""
    return await answer(
        backend.get("/api/company/users", headers=caller.headers()),
        lambda data: tuple(from_json(PortalUser, u) for u in data["users"]),
    )


async def deactivate_user(caller: CompanyCaller, user_code: str) -> UserChanged | Refusal:
    request = backend.post(
        f"/api/company/users/{path_segment(user_code)}/deactivation", caller.body(), headers=caller.headers()
    )
    return await answer(request, lambda data: from_json(UserChanged, data))


async def add_user(caller: CompanyCaller, name: str, email: str, role: str) -> UserChanged | Refusal:
    """`role`: admin | user. The backend e-mails the first-access link to `email`."""
    request = backend.post(
        "/api/company/users", {"name": name, "email": email, "role": role, **caller.body()}, headers=caller.headers()
    )
    return await answer(request, lambda data: from_json(UserChanged, data))


async def edit_user(caller: CompanyCaller, user_code: str, changes: dict[str, str]) -> UserChanged | Refusal:
    """`changes`: some of name, email, role."""
    request = backend.post(
        f"/api/company/users/{path_segment(user_code)}/changes", {**changes, **caller.body()}, headers=caller.headers()
    )
    return await answer(request, lambda data: from_json(UserChanged, data))
