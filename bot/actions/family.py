"""Whom a request can be for: the verified beneficiary and, for a holder, their dependents
(GET /api/family). Used by the forms that ask "para quem?"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.actions.backend_client import backend
from bot.actions.verified import verified_headers
from common.text import fold

_MYSELF = {"eu", "eu mesmo", "eu mesma", "minha", "a minha", "meu", "o meu", "para mim", "pra mim", "titular"}


async def family_members(tracker: Tracker) -> list[dict[str, Any]]:
    response = await backend.get("/api/family", headers=verified_headers(tracker))
    return response.data.get("members", []) if response.ok else []


def member_buttons(members: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"title": person["first_name"], "payload": person["card_number"]} for person in members]


def pick_member(members: list[dict[str, Any]], answer: str) -> dict[str, Any] | None:
    """By card number, full name, first name, or "eu"/"para mim" for the holder."""
    wanted = fold(answer)
    digits = "".join(ch for ch in answer if ch.isdigit())
    for person in members:
        name = fold(person["name"])
        if digits == person["card_number"] or wanted in (name, name.split()[0]):
            return person
        if wanted in _MYSELF and person.get("holder"):
            return person
    return None


NOT_IN_FAMILY_TEXT = (
    "Não encontrei essa pessoa no seu plano. Toque em um dos nomes ou mande o número da carteirinha dela."
)
