"""POST /api/password-change-links: a single-use link to the change-password page."""

from __future__ import annotations

from dataclasses import dataclass

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal


@dataclass(frozen=True)
class PasswordChangeLink:
    url: str
    expires_in_minutes: int
    protocol: str


async def request_password_change_link(caller: Caller) -> PasswordChangeLink | Refusal:
    """Refusals: 409 plan_cancelled | no_account, 401."""
    response = await backend.post("/api/password-change-links", caller.body())
    if not response.ok:
        return Refusal.of(response)
    data = response.data
    return PasswordChangeLink(
        url=str(data["url"]), expires_in_minutes=int(data["expires_in_minutes"]), protocol=str(data["protocol"])
    )
