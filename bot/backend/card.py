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
from bot.backend.common import Caller, Refusal, text_or_none


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
        return cls(name=str(data["name"]), card_number=str(data["card_number"]), role=text_or_none(data, "role"))


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
        return cls(
            protocol=str(data["protocol"]),
            beneficiary=Member.from_api(data["beneficiary"]),
            reason=str(data["reason"]),
            status=str(data["status"]),
            status_label=str(data["status_label"]),
            in_progress=bool(data["in_progress"]),
            requested_on=str(data["requested_on"]),
            expected_by=text_or_none(data, "expected_by"),
        )


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
    response = await backend.get("/api/card", params=params, headers=caller.headers())
    if not response.ok:
        return Refusal.of(response)
    data = response.data
    return VirtualCard(
        text=str(data["text"]),
        image_url=str(data["image_url"]),
        expires_in_minutes=int(data["expires_in_minutes"]),
        members=tuple(
            CardMember(
                first_name=str(m["first_name"]), card_number=str(m["card_number"]), selected=bool(m.get("selected"))
            )
            for m in data.get("members", [])
        ),
    )


async def card_requests(caller: Caller) -> CardRequests | Refusal:
    response = await backend.get("/api/card-requests", headers=caller.headers())
    if not response.ok:
        return Refusal.of(response)
    data = response.data
    return CardRequests(
        requests=tuple(CardRequest.from_api(r) for r in data["requests"]),
        members=tuple(Member.from_api(m) for m in data["members"]),
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
    response = await backend.post("/api/card-requests", body)
    if not response.ok:
        return Refusal.of(response)
    return CardRequestCreated(protocol=str(response.data["protocol"]), message=str(response.data["message"]))
