"""The card: the virtual card and the requests for a new one (segunda via).

GET  /api/card[?beneficiary=<card>]   the virtual card's text and image link
GET  /api/card-requests               the family's card requests, newest first
POST /api/card-requests               a new card request
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, answer, from_json


@dataclass(frozen=True)
class CardMember:
    """A member of the family as the card answers list them (`selected`: the card shown)."""

    first_name: str
    card_number: str
    selected: bool


@dataclass(frozen=True)
class VirtualCard:
    text: str
    image_url: str
    expires_in_minutes: int
    members: tuple[CardMember, ...]


@dataclass(frozen=True)
class Member:
    name: str
    card_number: str
    role: str | None  # holder | dependent

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Member:
        return from_json(cls, data)


@dataclass(frozen=True)
class CardRequest:
    protocol: str
    beneficiary: Member
    reason: str
    status: str
    status_label: str
    in_progress: bool
    requested_on: str  # ISO date
    expected_by: str | None  # ISO date

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CardRequest:
        return from_json(cls, data, beneficiary=Member.from_api(data["beneficiary"]))


@dataclass(frozen=True)
class CardRequests:
    requests: tuple[CardRequest, ...]  # newest first
    members: tuple[Member, ...]  # whom a new request may be for


@dataclass(frozen=True)
class NewCardRequest:
    reason: str  # one of common.card_reasons.CARD_REISSUE_REASONS
    beneficiary: str | None = None  # a dependent's card number (None: the verified beneficiary)
    police_report: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class CardRequestCreated:
    protocol: str
    message: str  # the backend's pt-BR confirmation


async def virtual_card(caller: Caller, beneficiary: str | None = None) -> VirtualCard | Refusal:
    """Refusals: 400 invalid_request, 401, 403 not_in_family, 409 plan_cancelled."""
    params = {"beneficiary": beneficiary} if beneficiary else None
    return await answer(
        backend.get("/api/card", params=params, headers=caller.headers()),
        lambda data: from_json(
            VirtualCard, data, members=tuple(from_json(CardMember, m) for m in data.get("members", []))
        ),
    )


async def card_requests(caller: Caller) -> CardRequests | Refusal:
    return await answer(
        backend.get("/api/card-requests", headers=caller.headers()),
        lambda data: CardRequests(
            requests=tuple(CardRequest.from_api(r) for r in data["requests"]),
            members=tuple(Member.from_api(m) for m in data["members"]),
        ),
    )


async def request_card(caller: Caller, request: NewCardRequest) -> CardRequestCreated | Refusal:
    """Refusals: 400 invalid_request | reason_ambiguous, 401, 403 not_in_family, 409 plan_cancelled |
    already_requested."""
    body: dict[str, Any] = {**caller.body(), "reason": request.reason}
    for key, value in (
        ("beneficiary", request.beneficiary),
        ("police_report", request.police_report),
        ("note", request.note),
    ):
        if value is not None:
            body[key] = value
    return await answer(backend.post("/api/card-requests", body), lambda data: from_json(CardRequestCreated, data))
