"""The identity check of a conversation: collect card (or e-mail), CPF and birth date — and the
mother's full name when the operator asks for it (`identity_requires_mother_name` in its
profile, as CASSE does) — validate each as it arrives, then let the backend decide (it answers
the same whatever did not match).

IdentityFormValidation is the reusable part. A form whose required slots start with `login`,
`cpf` and `data_nascimento` subclasses it and gets: extraction from free text, validation with
pt-BR messages, the backend check, and a verified session — once the check passes, the token
(`identidade_token`) and what the backend said (`identidade_info`: masked e-mail, has an
account, plan active, its scope and channel) stay in the conversation and the next flow skips
the questions. The person's data never stays: the form slots are wiped when the flow ends.

A verification serves only the channel it was made on (the same sender id through another
channel is somebody else: it is forgotten and the identity asked), and one made with "não
possuo CPF" serves registration only (other flows say so and ask for the identity with the CPF);
the backend refuses both anyway (backend.api.identity.verified_beneficiary).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.actions.flow_reset import session_expired_events
from bot.actions.operator_profile import operator_profile
from bot.actions.repeated_question import QuestionCount, next_requested_slot
from bot.actions.verified import (
    CPF_NEEDED_TEXT,
    input_channel,
    registration_only,
    verified_for,
    verified_on_this_channel,
)
from bot.backend import identity
from bot.backend.identity import IdentityClaim, Verification
from bot.catalogue import CATALOGUE
from common.patterns import find_card, find_cpf, find_email, find_numeric_date
from common.validators import (
    InvalidValue,
    classify_login,
    normalize_birth_date,
    normalize_cpf,
    normalize_email,
    normalize_full_name,
)

# --- what the bot says ---------------------------------------------------------------------------
CARD_NOT_EMAIL_TEXT = "Aqui eu preciso do número da carteirinha (12 dígitos), não do e-mail."
CPF_REQUIRED_TEXT = "Para isso eu preciso do CPF do titular do acesso. Sem CPF, fale com a central de atendimento."
MOTHER_NAME_EXAMPLE = "Josefa Aparecida Santos"
# The identity did not match (the backend answers the same whatever did not): which answers the
# bot asks again. The backend's lock after the attempts is explained by verified.LOCKED_TEXT.
NOT_MATCHED_TEXT = (
    "Esses dados não conferem com o nosso cadastro. Confira o CPF, a data de nascimento{mother} e me "
    "mande de novo. Se a carteirinha ou o e-mail estiver errado, mande o certo também.{warning}"
)
NOT_MATCHED_MOTHER = " e o nome da sua mãe"
ATTEMPTS_LEFT_WARNING = (
    " Atenção: depois de mais {attempts_left} tentativa(s) erradas, o acesso fica bloqueado por 30 minutos."
)
EMAILS_DIFFER_TEXT = "Os dois e-mails ficaram diferentes, então vamos de novo."

IDENTITY_SLOTS = ("login", "cpf", "data_nascimento")
MOTHER_SLOT = "nome_mae"  # asked only when the operator's profile requires it
NO_CPF = "sem_cpf"
_DATA_LIKE_RE = re.compile(r"^[\d\s./@\-()+_a-zA-Z]*\d[\d\s./\-()]*$|@")
_ENTITIES = {
    "login": ("carteirinha", "email"),
    "cpf": ("cpf",),
    "data_nascimento": ("data",),
    "email_novo": ("email",),
    "email_confirmacao": ("email",),
    "especialidade": ("especialidade",),
    "cidade": ("cidade",),
}


def _has_fixed_form(entity: dict) -> bool:
    """NLU sometimes tags a mistyped value with the nearest entity ("20030040050I" as an e-mail);
    such a tag is not a value of that kind, and the text is looked at instead."""
    finder = {"email": find_email, "cpf": find_cpf, "carteirinha": find_card}.get(entity.get("entity") or "")
    return finder is None or finder(str(entity.get("value") or "")) is not None


def _looks_like_data(text: str) -> bool:
    """'945807302', '12/03', 'maria@' — a message that is a value, not a request."""
    return bool(_DATA_LIKE_RE.search(text.strip())) and len(text.split()) <= 4


def extract_from_text(tracker: Tracker, slot: str, finder: Callable[[str], str | None] | None) -> dict[str, Any]:
    """Finds `slot` in the latest message when NLU did not tag it.

    A value with a fixed form (card, CPF, e-mail, numeric date) is taken from anywhere in
    the message; otherwise, when the form is asking for this very slot and the message is an
    answer rather than a request, the whole text is passed on so validation can say what is
    wrong with it.
    """
    message = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    if not text or text.startswith("/"):
        return {}
    if any(e.get("entity") in _ENTITIES.get(slot, ()) and _has_fixed_form(e) for e in message.get("entities", [])):
        return {}  # the slot mapping already took it
    found = finder(text) if finder else None
    if found:
        return {slot: found}
    intent = (message.get("intent") or {}).get("name")
    if (
        tracker.get_slot("requested_slot") == slot
        and intent not in CATALOGUE.never_answers(tracker.active_loop_name)
        and (intent in ("informar", "nlu_fallback") or _looks_like_data(text) or finder is None)
    ):
        return {slot: text}
    return {}


def normalized(
    dispatcher: CollectingDispatcher, slot: str, value: Any, normalize: Callable[[str], Any]
) -> dict[str, Any]:
    """A validate_<slot> by a validator of common.validators: {slot: normalize(value)}, or {slot:
    None} with the validator's pt-BR reason said."""
    try:
        return {slot: normalize(str(value))}
    except InvalidValue as exc:
        dispatcher.utter_message(text=str(exc))
        return {slot: None}


def text_within(
    dispatcher: CollectingDispatcher, slot: str, value: Any, lengths: tuple[int, int], hint: str
) -> dict[str, Any]:
    """A validate_<slot> of free text: {slot: the text, white space folded} when its length is
    within `lengths` (inclusive), or {slot: None} with `hint` said."""
    text = " ".join(str(value).split())
    if not lengths[0] <= len(text) <= lengths[1]:
        dispatcher.utter_message(text=hint)
        return {slot: None}
    return {slot: text}


async def _mother_name_required() -> bool:
    profile = await operator_profile()
    return bool(profile and profile.identity_requires_mother_name)


def identity_info(verification: Verification, channel: str) -> dict[str, Any]:
    """What stays in the conversation (slot `identidade_info`) after the check: masked facts, the
    scope and the channel the token serves."""
    return {
        "first_name": verification.first_name,
        "email_masked": verification.email_masked,
        "has_account": verification.has_account,
        "plan_active": verification.plan_active,
        "dependents": verification.dependents,
        "scope": verification.scope,
        "channel": channel,
    }


class IdentityFormValidation(FormValidationAction, ABC):
    """Base class of every form that starts with the identity check (abstract, so the action
    server registers only its concrete subclasses)."""

    login_kinds: tuple[str, ...] = ("card", "email")
    allows_no_cpf = False

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    def asks(self, slot: str, tracker: Tracker) -> bool:
        """Whether a slot after the identity check is asked in this conversation."""
        return True

    def verified(self, tracker: Tracker) -> bool:
        """Whether the conversation's verification serves this flow (see verified.verified_for):
        one made on another channel, or without CPF for a flow that needs it, is asked again."""
        return verified_for(tracker, allows_no_cpf=self.allows_no_cpf)

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        """rasa_sdk's FormValidationAction.run — extract_<slot>, validate_<slot>, then the next slot
        to ask (required_slots) — with the backend identity check in between: as soon as the identity
        values are valid, before the next question is chosen (its answer decides whether the identity
        is asked again), then what the request itself said (known_from_start), and the count of a
        question asked again (repeated_question). Built from the SDK's public steps, in the SDK's order."""
        count = QuestionCount.before(tracker, self.form_name())
        forgotten: list[dict[str, Any]] = []
        if not verified_on_this_channel(tracker):
            # made through another channel under the same sender id: not this person's
            forgotten = session_expired_events()
            tracker.add_slots(forgotten)
        elif (
            tracker.get_slot("requested_slot") is None
            and not tracker.get_slot("identidade_bloqueio_min")
            and registration_only(tracker)
            and not self.verified(tracker)
        ):
            dispatcher.utter_message(text=CPF_NEEDED_TEXT)  # once, as the form starts
        extracted = await self.get_extraction_events(dispatcher, tracker, domain)
        tracker.add_slots(extracted)
        events = await self.get_validation_events(dispatcher, tracker, domain)  # extracted ones included
        tracker.add_slots(events)
        checked = await self._identity_check_events(dispatcher, tracker)
        tracker.add_slots(checked)
        events += checked
        known = await self.known_from_start(tracker)
        tracker.add_slots(known)
        events += known
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        if next_slot:
            events.append(next_slot)
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        events += count.events(events, next_requested_slot(events, required, tracker))
        return forgotten + events

    async def known_from_start(self, tracker: Tracker) -> list[dict[str, Any]]:
        """Answers the flow can take, once the identity is verified, from what the user said when
        asking for it ("minha filha perdeu a carteirinha": whose card); none by default."""
        return []

    async def required_slots(self, domain_slots, dispatcher, tracker: Tracker, domain) -> list[str]:
        if tracker.get_slot("identidade_bloqueio_min"):
            return []  # locked: the flow's action explains it
        verified = self.verified(tracker)
        asks_mother = not verified and await _mother_name_required()
        return [
            slot
            for slot in domain_slots
            if not (verified and slot in IDENTITY_SLOTS)
            and (slot != MOTHER_SLOT or asks_mother)
            and self.asks(slot, tracker)
        ]

    # --- extraction ------------------------------------------------------------------------
    def _find_login(self, text: str) -> str | None:
        return (find_email(text) if "email" in self.login_kinds else None) or find_card(text)

    async def extract_login(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "login", self._find_login)

    async def extract_cpf(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "cpf", find_cpf)

    async def extract_data_nascimento(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "data_nascimento", find_numeric_date)

    async def extract_nome_mae(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, MOTHER_SLOT, None)

    # --- validation ------------------------------------------------------------------------
    async def validate_login(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if "email" not in self.login_kinds and "@" in str(value):
            dispatcher.utter_message(text=CARD_NOT_EMAIL_TEXT)
            return {"login": None}
        return normalized(dispatcher, "login", value, lambda text: classify_login(text)[1])

    async def validate_cpf(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        if value == NO_CPF:
            if self.allows_no_cpf:
                return {"cpf": NO_CPF}
            dispatcher.utter_message(text=CPF_REQUIRED_TEXT)
            return {"cpf": None}
        return normalized(dispatcher, "cpf", value, normalize_cpf)

    async def validate_data_nascimento(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "data_nascimento", value, lambda text: normalize_birth_date(text).isoformat())

    async def validate_nome_mae(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(
            dispatcher, MOTHER_SLOT, value, lambda text: normalize_full_name(text, example=MOTHER_NAME_EXAMPLE)
        )

    async def _identity_check_events(self, dispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """The backend check, once every identity value of the conversation is valid and it is not
        verified yet; nothing otherwise."""
        values = {slot: tracker.get_slot(slot) for slot in IDENTITY_SLOTS}
        if await _mother_name_required():
            values[MOTHER_SLOT] = tracker.get_slot(MOTHER_SLOT)
        if not all(values.values()) or self.verified(tracker):
            return []
        return await self._check_identity(dispatcher, tracker, values)

    async def _check_identity(self, dispatcher, tracker: Tracker, values: dict[str, str]) -> list[dict[str, Any]]:
        claim = IdentityClaim(
            login=values["login"],
            birth_date=values["data_nascimento"],
            channel=input_channel(tracker),
            conversation_id=tracker.sender_id,
            cpf=None if values["cpf"] == NO_CPF else values["cpf"],
            mother_name=values.get(MOTHER_SLOT) or None,
        )
        # BackendUnavailable goes up: bot/turn_recovery.py answers and undoes the turn, so what the
        # user gave is kept and "tenta de novo" checks it again
        checked = await identity.verify_identity(claim)
        if isinstance(checked, Verification):
            # the token serves this channel only
            return [
                SlotSet("identidade_token", checked.token),
                SlotSet("identidade_info", identity_info(checked, claim.channel)),
            ]
        if checked.status in (423, 429):
            minutes = checked.data.get("retry_after_minutes") or 30
            return [SlotSet("identidade_bloqueio_min", float(minutes))]
        attempts_left = checked.data.get("attempts_left")
        warning = ""
        if attempts_left is not None and attempts_left <= 2:
            warning = ATTEMPTS_LEFT_WARNING.format(attempts_left=attempts_left)
        asked_mother = MOTHER_SLOT in values
        dispatcher.utter_message(
            text=NOT_MATCHED_TEXT.format(mother=NOT_MATCHED_MOTHER if asked_mother else "", warning=warning)
        )
        return [SlotSet("cpf", None), SlotSet("data_nascimento", None)] + (
            [SlotSet(MOTHER_SLOT, None)] if asked_mother else []
        )


class NewEmailValidation:
    """The new e-mail typed twice (AMS): validated, then compared (mixin for a form validation)."""

    async def extract_email_novo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "email_novo", find_email)

    async def extract_email_confirmacao(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "email_confirmacao", find_email)

    async def validate_email_novo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return normalized(dispatcher, "email_novo", value, normalize_email)

    async def validate_email_confirmacao(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        checked = normalized(dispatcher, "email_confirmacao", value, normalize_email)
        if checked["email_confirmacao"] not in (None, tracker.get_slot("email_novo")):
            dispatcher.utter_message(text=EMAILS_DIFFER_TEXT)
            return {"email_novo": None, "email_confirmacao": None}
        return checked
