"""Whom a request is for ("para quem é o pedido"): the verified beneficiary and, for a holder, their
dependents (GET /api/family). Used by the forms that ask "para quem?".

The person is chosen by card number, name, "eu"/"para mim" — or by what they are to the holder
("minha filha", "meu filho", "minha esposa", "meu marido") when exactly one member of the family is
that (`FamilyMember.relationship`). The message that starts the request counts too: "minha filha
perdeu a carteirinha" asks no "para quem?" when the holder has one daughter (`member_named_at_start`).

The steps such a form shares (FamilyRequestForm, AskFamilyMember, AskToConfirm): whom the request is
for, asked of a holder with dependents only, and the summary to confirm, in answer to which another
member may still be named.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.identity import IdentityFormValidation, extract_from_text
from bot.actions.repeated_question import ask
from bot.actions.verified import YES_NO, caller
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


class FamilyRequestForm(IdentityFormValidation, ABC):
    """The validation of a form whose request may be for a member of the family: `member_slot`
    (asked of a holder with dependents only; with `<member_slot>_nome`, the name the summary shows)
    taken from the message that asked for the request (`intent`) or from the answer, and
    `confirm_slot`, the summary's yes or no — or another member named, and the summary shown again.

    rasa_sdk finds a slot's steps by their names (extract_<slot>, validate_<slot>): every subclass
    gets those of its `member_slot` and `confirm_slot` from here."""

    intent: str
    member_slot: str
    confirm_slot: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        steps = {
            f"extract_{cls.member_slot}": FamilyRequestForm._extract_member,
            f"validate_{cls.member_slot}": FamilyRequestForm._validate_member,
            f"extract_{cls.confirm_slot}": FamilyRequestForm._extract_confirmation,
            f"validate_{cls.confirm_slot}": FamilyRequestForm._validate_confirmation,
        }
        for name, step in steps.items():
            if not hasattr(cls, name):
                setattr(cls, name, step)

    def asks(self, slot: str, tracker: Tracker) -> bool:
        if slot == self.member_slot:
            return bool((tracker.get_slot("identidade_info") or {}).get("dependents"))
        return True

    async def known_from_start(self, tracker: Tracker) -> list[dict[str, Any]]:
        """ "minha filha perdeu a carteirinha": the daughter, when the holder has one daughter."""
        if not (self.verified(tracker) and self.asks(self.member_slot, tracker)):
            return []
        return await member_named_at_start(tracker, self.intent, self.member_slot)

    async def _extract_member(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, self.member_slot, None)

    async def _validate_member(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        person = pick_member(await family_members(tracker), str(value))
        if person is None:
            dispatcher.utter_message(text=NOT_IN_FAMILY_TEXT)
            return {self.member_slot: None}
        return {self.member_slot: person.card_number, f"{self.member_slot}_nome": person.name}

    async def _extract_confirmation(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        """Another member of the family named in answer to the summary ("é para a Ana"): the summary
        is shown again for that person."""
        return await member_in_summary_answer(tracker, self.confirm_slot, self.member_slot)

    async def _validate_confirmation(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return {self.confirm_slot: None if value is None else bool(value)}


class AskFamilyMember(Action, ABC):
    """action_ask_<form>_<member slot>: `question` with a button per member of the family;
    rephrased (`question_again`, with {example}: a first name) the third time."""

    question: str
    question_again: str

    @abstractmethod
    def name(self) -> str:
        """action_ask_<form>_<member slot>"""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        members = await family_members(tracker)
        example = members[-1].first_name if members else "Maria"
        ask(dispatcher, tracker, self.question, self.question_again.format(example=example), member_buttons(members))
        return []


class AskToConfirm(Action, ABC):
    """action_ask_<form>_<confirm slot>: the request's summary to confirm, yes or no (`question`,
    `question_again` the third time, both with {summary})."""

    question: str
    question_again: str

    @abstractmethod
    def name(self) -> str:
        """action_ask_<form>_<confirm slot>"""

    @abstractmethod
    def summary(self, tracker: Tracker) -> str:
        """The request as it will be made, one line a value."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        summary = self.summary(tracker)
        ask(
            dispatcher,
            tracker,
            self.question.format(summary=summary),
            self.question_again.format(summary=summary),
            YES_NO,
        )
        return []
