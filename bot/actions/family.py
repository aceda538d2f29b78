"""Whom a request is for ("para quem é o pedido"): the verified beneficiary and, for a holder, their
dependents (GET /api/family). Used by the forms that ask "para quem?".

The person is chosen by card number, name, "eu"/"para mim" — or by what they are to the holder
("minha filha", "meu filho", "minha esposa", "meu marido") when exactly one member of the family is
that (`FamilyMember.relationship`). The message that starts the request counts too: "minha filha
perdeu a carteirinha" asks no "para quem?" when the holder has one daughter (`member_named_at_start`).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

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

# kin: the user's words (folded) and the backend's values (Beneficiary.relationship: son, daughter,
# spouse; the Portuguese names of before migration 0008 accepted too) -> one kind
SON, DAUGHTER, SPOUSE = "son", "daughter", "spouse"
_KIN_WORDS = {
    "filho": SON,
    "filhinho": SON,
    "menino": SON,
    "filha": DAUGHTER,
    "filhinha": DAUGHTER,
    "menina": DAUGHTER,
    "esposa": SPOUSE,
    "esposo": SPOUSE,
    "marido": SPOUSE,
    "mulher": SPOUSE,
    "conjuge": SPOUSE,
    "companheiro": SPOUSE,
    "companheira": SPOUSE,
}
_API_KINDS = {"filho": SON, "son": SON, "filha": DAUGHTER, "daughter": DAUGHTER, "conjuge": SPOUSE, "spouse": SPOUSE}
_WORDS = "|".join(sorted(_KIN_WORDS, key=len, reverse=True))
# in any message: "minha filha", "meu marido" (a possessive before the word)
_OWN_KIN_RE = re.compile(rf"\b(?:minha|meu|mnh|minah)\s+({_WORDS})\b")
# as the answer to "para quem?": also "a filha", "pra filha", "filha"
_ANSWER_KIN_RE = re.compile(rf"^(?:(?:e |eh )?(?:para|pra|pro|da|do|de)?\s*(?:a|o)?\s*(?:minha|meu)?\s*)({_WORDS})$")


async def family_members(tracker: Tracker) -> tuple[FamilyMember, ...]:
    """The family the conversation's verification may ask for (none when the backend refuses)."""
    members = await identity.family(caller(tracker))
    return members if isinstance(members, tuple) else ()


def member_buttons(members: tuple[FamilyMember, ...]) -> list[dict[str, str]]:
    return [{"title": person.first_name, "payload": person.card_number} for person in members]


def kin_named(text: str, *, answer: bool = False) -> str | None:
    """The kind of kin the text names ("minha filha perdeu..." -> "filha"); `answer`: the text is
    the answer to "para quem?", where "a filha" or "filha" alone also counts."""
    folded = fold(text)
    found = _OWN_KIN_RE.search(folded) or (_ANSWER_KIN_RE.match(folded) if answer else None)
    return _KIN_WORDS[found.group(1)] if found else None


def members_of_kin(members: tuple[FamilyMember, ...], kind: str) -> list[FamilyMember]:
    return [p for p in members if not p.holder and _API_KINDS.get(fold(p.relationship)) == kind]


def pick_member(members: tuple[FamilyMember, ...], answer: str) -> FamilyMember | None:
    """By card number, full name, first name, "eu"/"para mim" for the holder, or the kin when one
    member only is that kin ("minha filha")."""
    wanted = fold(answer)
    digits = "".join(ch for ch in answer if ch.isdigit())
    for person in members:
        name = fold(person.name)
        if digits == person.card_number or wanted in (name, name.split()[0]):
            return person
        if wanted in _MYSELF and person.holder:
            return person
    kind = kin_named(answer, answer=True)
    matches = members_of_kin(members, kind) if kind else []
    return matches[0] if len(matches) == 1 else None


def _starting_message(tracker: Tracker, intent: str, slot: str) -> str | None:
    """The text of the message that asked for the request (the latest of intent `intent`), unless
    `slot` was asked or answered since (then the user's answer, or correction, counts instead)."""
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "slot" and (
            (event.get("name") == slot and event.get("value") is not None)
            or (event.get("name") == "requested_slot" and event.get("value") == slot)
        ):
            return None
        if kind == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") == intent:
            return event.get("text") or None
    return None


async def member_named_at_start(tracker: Tracker, intent: str, slot: str) -> list[dict[str, Any]]:
    """`slot` (and `<slot>_nome`) when the message that asked for the request named the kin of
    exactly one member of the family ("minha filha perdeu a carteirinha"); nothing otherwise."""
    if tracker.get_slot(slot) is not None:
        return []
    text = _starting_message(tracker, intent, slot)
    kind = kin_named(text) if text else None
    if kind is None:
        return []
    matches = members_of_kin(await family_members(tracker), kind)
    if len(matches) != 1:
        return []
    return [SlotSet(slot, matches[0].card_number), SlotSet(f"{slot}_nome", matches[0].name)]


def member_mentioned(members: tuple[FamilyMember, ...], text: str) -> FamilyMember | None:
    """The one member a longer message names ("não, é para a Ana", "é da minha filha", "pra mim")."""
    person = pick_member(members, text)
    if person is not None:
        return person
    words = f" {fold(text)} "
    kind = kin_named(text)
    if kind:
        named = members_of_kin(members, kind)
    elif any(f" {phrase} " in words for phrase in ("para mim", "pra mim", "eu mesmo", "eu mesma")):
        named = [p for p in members if p.holder]
    else:
        named = [p for p in members if f" {fold(p.first_name)} " in words]
    return named[0] if len(named) == 1 else None


async def member_in_summary_answer(tracker: Tracker, confirm_slot: str, member_slot: str) -> dict[str, Any]:
    """Another member of the family named in answer to the summary of the request, even after a
    "não" ("não, é para a Ana"): {member_slot: their card, confirm_slot: None} — the summary is
    shown again for them. Nothing otherwise (a yes, a no, a button)."""
    message = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    if tracker.get_slot("requested_slot") != confirm_slot or not text or text.startswith("/"):
        return {}
    members = await family_members(tracker)
    person = member_mentioned(members, text) if len(members) > 1 else None
    if person is None or person.card_number == tracker.get_slot(member_slot):
        return {}
    return {member_slot: person.card_number, confirm_slot: None}
