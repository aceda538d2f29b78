"""What the wrappers share: who asks (Caller), the backend's refusal (Refusal), the one shape of a
call (`answer`: the result or the refusal) and the readers of the JSON the backend answers with
(`from_json`, field by field by the dataclass's types, and `text_or_none`).

Every wrapper returns either its result (a frozen dataclass) or a Refusal — `{"error": {"code",
"message", ...}}` of a 4xx answer, whose `message` is the backend's own pt-BR wording of the
refusal (the backend owns it; the bot adds only buttons and follow-up questions). When the backend
cannot answer at all, the wrappers raise client.BackendUnavailable.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from bot.backend.client import BackendResponse

Result = TypeVar("Result")


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


async def answer(request: Awaitable[BackendResponse], read: Callable[[Mapping[str, Any]], Result]) -> Result | Refusal:
    """The call every wrapper makes: `read` of the answer's JSON, or the Refusal of a 4xx."""
    response = await request
    if not response.ok:
        return Refusal.of(response)
    return read(response.data)


_PLAIN = (str, int, bool)
_FIELDS: dict[type, tuple[tuple[str, type | None, bool], ...]] = {}


def _json_fields(cls: type) -> tuple[tuple[str, type | None, bool], ...]:
    """Each field of the dataclass `cls`: its name, its plain type (str, int or bool; None for any
    other) and whether it is optional (`X | None`)."""
    if cls in _FIELDS:
        return _FIELDS[cls]
    hints = typing.get_type_hints(cls)
    described = []
    for each in dataclasses.fields(cls):
        hint = hints[each.name]
        optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)
        if optional:
            hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        described.append((each.name, hint if hint in _PLAIN else None, optional))
    _FIELDS[cls] = tuple(described)
    return _FIELDS[cls]


def from_json(cls: type[Result], data: Mapping[str, Any], **given: Any) -> Result:
    """The dataclass `cls` read from the backend's JSON, field by field (`given`: the fields read
    otherwise — nested objects, lists, values with a fallback). By the field's type: a `str` or an
    `int` must be there (KeyError); a `bool` absent is False; an optional one (`X | None`) absent or
    null is None."""
    values = dict(given)
    for name, plain, optional in _json_fields(cls):
        if name in values:
            continue
        if plain is None:
            raise TypeError(f"{cls.__name__}.{name} is not a str, int or bool: pass it to from_json")
        if optional:
            values[name] = None if data.get(name) is None else plain(data[name])
        elif plain is bool:
            values[name] = bool(data.get(name))
        else:
            values[name] = plain(data[name])
    return cls(**values)
