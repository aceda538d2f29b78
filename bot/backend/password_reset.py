"""POST /api/password-resets: a temporary password sent to the e-mail on file."""

from __future__ import annotations

from dataclasses import dataclass

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, answer, from_json


@dataclass(frozen=True)
class PasswordReset:
    protocol: str
    email_masked: str
    repeated: bool  # the same request moments ago: same protocol, no new e-mail


async def request_password_reset(caller: Caller) -> PasswordReset | Refusal:
    """Refusals: 409 plan_cancelled | no_account | no_email_on_file, 429 rate_limited, 401."""
    return await answer(
        backend.post("/api/password-resets", caller.body()), lambda data: from_json(PasswordReset, data)
    )
