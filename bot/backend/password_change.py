"""POST /api/password-change-links: a single-use link to the change-password page."""

from __future__ import annotations

from dataclasses import dataclass

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, answer, from_json


@dataclass(frozen=True)
class PasswordChangeLink:
    url: str
    expires_in_minutes: int
    protocol: str


async def request_password_change_link(caller: Caller) -> PasswordChangeLink | Refusal:
    """Refusals: 409 plan_cancelled | no_account, 401."""
    request = backend.post("/api/password-change-links", caller.body())
    return await answer(request, lambda data: from_json(PasswordChangeLink, data))
