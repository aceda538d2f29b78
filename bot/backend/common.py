"""What the wrappers share: who asks (Caller), the backend's refusal (Refusal) and small readers of
the JSON the backend answers with.

Every wrapper returns either its result (a frozen dataclass) or a Refusal — `{"error": {"code",
"message", ...}}` of a 4xx answer, whose `message` is the backend's own pt-BR wording of the
refusal (the backend owns it; the bot adds only buttons and follow-up questions). When the backend
cannot answer at all, the wrappers raise client.BackendUnavailable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bot.backend.client import BackendResponse


@dataclass(frozen=True)
class Caller:
    """A conversation as the backend knows it: its verification token (None before the identity
    check), the channel it came through and its id. A verification serves only the (channel,
    conversation) it was made for."""

    verification: str | None
    channel: str
    conversation_id: str

    def body(self) -> dict[str, Any]:
        """What a POST made on behalf of a verified conversation carries."""
        return {"verification": self.verification, "channel": self.channel, "conversation_id": self.conversation_id}

    def headers(self) -> dict[str, str]:
        """The same, for GET requests (and uploads)."""
        return {
            "X-Verification": self.verification or "",
            "X-Conversation-Id": self.conversation_id,
            "X-Channel": self.channel,
        }


@dataclass(frozen=True)
class Refusal:
    """A 4xx answer: `code` for the bot to choose buttons and follow-ups, `message` the backend's
    pt-BR text for the user ("" when it sent none), `data` the rest of the error (attempts_left,
    retry_after_minutes, fields, ...)."""

    code: str
    message: str
    status: int
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, response: BackendResponse) -> Refusal:
        error = response.error
        return cls(
            code=str(error.get("code") or ""),
            message=str(error.get("message") or ""),
            status=response.status,
            data={key: value for key, value in error.items() if key not in ("code", "message")},
        )

    @property
    def verification_expired(self) -> bool:
        """401: the conversation's verification is no longer accepted (or the identity did not match)."""
        return self.status == 401


def path_segment(value: str | int) -> str:
    """A value typed by the user, safe inside a URL path."""
    return quote(str(value), safe="")


def text_or_none(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def int_or_none(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return None if value is None else int(value)


def bool_or_none(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return None if value is None else bool(value)
