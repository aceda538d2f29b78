"""POST /api/handoffs: a ticket for a person of the call centre, with the recent transcript."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Refusal, answer, from_json


@dataclass(frozen=True)
class HandoffRequest:
    conversation_id: str
    channel: str
    reason: str
    transcript: tuple[dict[str, Any], ...]  # [{from: user|bot, text, at}], oldest first
    verification: str | None = None  # links the ticket to the verified beneficiary


@dataclass(frozen=True)
class Handoff:
    protocol: str
    message: str  # the backend's pt-BR text: protocol, place in the queue or the call back
    pause: bool  # whether the bot pauses now (an agent takes the conversation)


async def open_handoff(request: HandoffRequest) -> Handoff | Refusal:
    """Refusals: 400, 429 (too many tickets)."""
    body: dict[str, Any] = {
        "conversation_id": request.conversation_id,
        "channel": request.channel,
        "reason": request.reason,
        "transcript": list(request.transcript),
    }
    if request.verification:
        body["verification"] = request.verification
    return await answer(
        backend.post("/api/handoffs", body),
        lambda data: from_json(Handoff, data, protocol=str(data.get("protocol") or "")),
    )
