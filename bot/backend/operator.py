"""GET /api/operator: the operator's public profile (name, phones, opening hours, privacy notice)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.backend.client import backend
from bot.backend.common import Refusal, answer, from_json


@dataclass(frozen=True)
class OperatorProfile:
    name: str | None = None
    phones: Mapping[str, str] = field(default_factory=dict)  # central_24h, cadastro, ouvidoria, ...
    opening_hours: str | None = None  # when people answer the chat, as people read it
    privacy_url: str | None = None
    identity_requires_mother_name: bool = False


async def operator_profile() -> OperatorProfile | Refusal:
    return await answer(
        backend.get("/api/operator"),
        lambda data: from_json(
            OperatorProfile, data, phones={str(key): str(value) for key, value in (data.get("phones") or {}).items()}
        ),
    )
