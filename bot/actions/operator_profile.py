"""The operator's public profile (name, phones, hours), fetched from the backend and cached."""

from __future__ import annotations

import time
from typing import Any

from bot.backend import operator
from bot.backend.client import BackendUnavailable
from bot.backend.operator import OperatorProfile

# --- what the bot says ---------------------------------------------------------------------------
CALL_CENTRE_TEXT = "a nossa central 24h: {phone}"
CALL_CENTRE_UNKNOWN_TEXT = "a nossa central de atendimento"

CACHE_SECONDS = 300
_cache: dict[str, Any] = {"profile": None, "fetched_at": 0.0}


async def operator_profile() -> OperatorProfile | None:
    """The profile, or the last one seen when the backend is down (None if never seen)."""
    if _cache["profile"] is None or time.monotonic() - _cache["fetched_at"] > CACHE_SECONDS:
        try:
            profile = await operator.operator_profile()
            if isinstance(profile, OperatorProfile):
                _cache.update(profile=profile, fetched_at=time.monotonic())
        except BackendUnavailable:
            pass
    return _cache["profile"]


async def call_centre_line() -> str:
    """'a nossa central 24h: 0800 888 9504' — or a generic phrase when the number is unknown."""
    profile = await operator_profile()
    phone = profile.phones.get("central_24h") if profile else None
    return CALL_CENTRE_TEXT.format(phone=phone) if phone else CALL_CENTRE_UNKNOWN_TEXT
