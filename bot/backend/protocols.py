"""GET /api/protocols/{number}: any protocol looked up without identity — what kind of request,
its status and date, never whose it is."""

from __future__ import annotations

from dataclasses import dataclass

from bot.backend.client import backend
from bot.backend.common import Refusal, answer, from_json, path_segment


@dataclass(frozen=True)
class ProtocolStatus:
    protocol: str
    kind_label: str
    status_label: str
    created_on_text: str  # dd/mm/yyyy


async def lookup_protocol(number: str) -> ProtocolStatus | Refusal:
    """Refusal: 404 protocol_not_found."""
    return await answer(
        backend.get(f"/api/protocols/{path_segment(number)}"), lambda data: from_json(ProtocolStatus, data)
    )
