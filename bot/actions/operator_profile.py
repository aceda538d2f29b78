"""The operator's public profile (name, phones, hours), fetched from the backend and cached."""

from __future__ import annotations

import time
from typing import Any

from bot.actions.backend_client import BackendUnavailable, backend

CACHE_SECONDS = 300
_cache: dict[str, Any] = {"profile": None, "fetched_at": 0.0}


async def operator_profile() -> dict[str, Any] | None:
    """The profile, or the last one seen when the backend is down (None if never seen)."""
    if _cache["profile"] is None or time.monotonic() - _cache["fetched_at"] > CACHE_SECONDS:
        try:
            response = await backend.get("/api/operator")
            if response.ok:
                _cache.update(profile=response.data, fetched_at=time.monotonic())
        except BackendUnavailable:
            pass
    return _cache["profile"]


async def call_centre_line() -> str:
    """'a central 24h: 0800 888 9504' — or a generic phrase when the number is unknown."""
    profile = await operator_profile()
    phone = ((profile or {}).get("phones") or {}).get("central_24h")
    return f"a nossa central 24h: {phone}" if phone else "a nossa central de atendimento"


async def backend_down_text() -> str:
    return (
        "Nosso sistema está fora do ar agora e não consegui concluir. "
        f"Tente de novo em alguns minutos ou fale com {await call_centre_line()}."
    )
