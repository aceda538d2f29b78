"""The company's reports and the portal's users (admins only), for a verified company user.

POST /api/company/reports  {kind: active|inactive|usage, format: csv|pdf, channel, conversation_id} -> 201
     {kind, format, month, rows, filename, message, url, expires_in_minutes}; 422 no_*_beneficiaries |
     no_usage_in_month (backend/api/company_reports.py)
GET  /api/company/users                          {users: [{user_code, name, email, role, role_label, status,
                                                  status_label, has_portal_access}]}; 403 company_admin_only
POST /api/company/users/{user_code}/deactivation {user, message}; 404; 409 company_user_self |
                                                  company_user_already_inactive | company_last_admin
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
