"""POST /api/registrations: the first access to the app, an activation link by e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, answer, from_json


@dataclass(frozen=True)
class Registration:
    """201: the activation link went to `email_masked`. 202 (`email_change_pending`): an address
    other than the one on file was given, so the change of the e-mail on file started instead
    (to `email_masked`, from `current_email_masked`, effective at `effective_text`)."""

    protocol: str
    email_masked: str
    repeated: bool  # the same request moments ago: nothing sent
    email_change_pending: bool = False
    current_email_masked: str | None = None
    effective_text: str | None = None


async def register(caller: Caller, email: str | None = None) -> Registration | Refusal:
    """`email`: a new address typed by the user (None: the one on file, confirmed).
    Refusals: 409 already_registered | plan_cancelled | email_in_use, 400 invalid_request, 429
    rate_limited, 401."""
    payload: dict[str, Any] = caller.body()
    if email:
        payload["email"] = email
    return await answer(backend.post("/api/registrations", payload), lambda data: from_json(Registration, data))
