"""The identity check and whom a verified conversation may ask for.

POST /api/identity/verifications   the identity check every verified flow starts with
GET  /api/family                   the verified beneficiary and, for a holder, the dependents (each
                                   with `relationship`: holder | son | daughter | spouse, when sent)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.backend.client import backend
from bot.backend.common import Caller, Refusal, answer, from_json

# The role of a beneficiary in the API's answers (GET /api/plan, /api/card-requests, ...).
HOLDER, DEPENDENT = "holder", "dependent"
REGISTRATION_SCOPE = "registration"  # a check without CPF: the backend accepts it for registration only


@dataclass(frozen=True)
class IdentityClaim:
    login: str  # card number or e-mail, normalised
    birth_date: str  # ISO date
    channel: str
    conversation_id: str
    cpf: str | None = None  # None: "não possuo CPF" (the check then serves registration only)
    mother_name: str | None = None  # when the operator's profile asks for it


@dataclass(frozen=True)
class Verification:
    """201: the token (bound to the claim's channel and conversation) and what the bot may know."""

    token: str
    first_name: str | None
    email_masked: str | None
    has_account: bool | None
    plan_active: bool | None
    dependents: int | None
    scope: str | None


@dataclass(frozen=True)
class FamilyMember:
    name: str
    first_name: str
    card_number: str
    holder: bool
    # what the member is to the holder, as the backend stores it (Beneficiary.relationship: holder,
    # son, daughter, spouse); None when the backend does not say
    relationship: str | None = None


async def verify_identity(claim: IdentityClaim) -> Verification | Refusal:
    """A Refusal is 401 identity_not_confirmed (data: attempts_left), 423 identity_locked or 429
    too_many_attempts (data: retry_after_minutes), or 400 invalid_request."""
    payload: dict[str, Any] = {
        "login": claim.login,
        "birth_date": claim.birth_date,
        "channel": claim.channel,
        "conversation_id": claim.conversation_id,
    }
    if claim.cpf is None:
        payload["no_cpf"] = True
    else:
        payload["cpf"] = claim.cpf
    if claim.mother_name:
        payload["mother_name"] = claim.mother_name
    return await answer(
        backend.post("/api/identity/verifications", payload), lambda data: from_json(Verification, data)
    )


async def family(caller: Caller) -> tuple[FamilyMember, ...] | Refusal:
    """The verified beneficiary first, then (for a holder) the dependents."""
    return await answer(
        backend.get("/api/family", headers=caller.headers()),
        lambda data: tuple(from_json(FamilyMember, person) for person in data.get("members", [])),
    )
