"""Whom a request can be for: the verified beneficiary and, for a holder, their dependents
(GET /api/family). Used by the forms that ask "para quem?"."""

from __future__ import annotations

from rasa_sdk import Tracker

from bot.actions.verified import caller
from bot.backend import identity
from bot.backend.identity import FamilyMember
from common.text import fold

# --- what the bot says ---------------------------------------------------------------------------
NOT_IN_FAMILY_TEXT = (
    "Não encontrei essa pessoa no seu plano. Toque em um dos nomes ou mande o número da carteirinha dela."
)

# what the user says for "for me" (user words, not API values)
_MYSELF = {"eu", "eu mesmo", "eu mesma", "minha", "a minha", "meu", "o meu", "para mim", "pra mim", "titular"}


async def family_members(tracker: Tracker) -> tuple[FamilyMember, ...]:
    """The family the conversation's verification may ask for (none when the backend refuses)."""
    members = await identity.family(caller(tracker))
    return members if isinstance(members, tuple) else ()


def member_buttons(members: tuple[FamilyMember, ...]) -> list[dict[str, str]]:
    return [{"title": person.first_name, "payload": person.card_number} for person in members]


def pick_member(members: tuple[FamilyMember, ...], answer: str) -> FamilyMember | None:
    """By card number, full name, first name, or "eu"/"para mim" for the holder."""
    wanted = fold(answer)
    digits = "".join(ch for ch in answer if ch.isdigit())
    for person in members:
        name = fold(person.name)
        if digits == person.card_number or wanted in (name, name.split()[0]):
            return person
        if wanted in _MYSELF and person.holder:
            return person
    return None
