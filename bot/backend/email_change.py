"""POST /api/email-changes: a confirmation link to the new address (and, with an address on file,
a notice with a cancel link to it; the change then waits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, answer, from_json


@dataclass(frozen=True)
class EmailChange:
    protocol: str
    new_email_masked: str
    effective_text: str | None  # when the change happens ("02/12 às 14h35"); None: on confirmation
    repeated: bool  # the same request moments ago: nothing sent


async def request_email_change(caller: Caller, full_name: str | None, new_email: str | None) -> EmailChange | Refusal:
    """Refusals: 401 identity_not_confirmed (the full name), 423 identity_locked, 409 same_email |
    email_in_use, 400 invalid_request, 429 rate_limited | too_many_attempts, 401 verification_invalid."""
    payload: dict[str, Any] = {**caller.body(), "full_name": full_name, "new_email": new_email}
    return await answer(backend.post("/api/email-changes", payload), lambda data: from_json(EmailChange, data))
