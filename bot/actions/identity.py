"""The identity check of a conversation: collect card/e-mail, CPF and birth date, validate
each as it arrives, then let the backend decide (it answers the same whatever did not match).

IdentityFormValidation is the reusable part: a form whose required slots are `login`, `cpf`
and `data_nascimento` subclasses it and gets extraction from free text, validation with
pt-BR messages and the backend check; the outcome lands in `identidade_token` (verified) or
`identidade_bloqueio_min` (locked), never in the person's data.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, Callable

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.actions.backend_client import BackendUnavailable, backend
from bot.actions.operator_profile import backend_down_text
from common.patterns import find_card, find_cpf, find_email, find_numeric_date
from common.validators import (
    InvalidValue,
    classify_login,
    normalize_birth_date,
    normalize_cpf,
)

IDENTITY_SLOTS = ("login", "cpf", "data_nascimento")
_DATA_LIKE_RE = re.compile(r"^[\d\s./@\-()+_a-zA-Z]*\d[\d\s./\-()]*$|@")


def _find_login(text: str) -> str | None:
    return find_email(text) or find_card(text)


_FINDERS: dict[str, Callable[[str], str | None]] = {
    "login": _find_login,
    "cpf": find_cpf,
    "data_nascimento": find_numeric_date,
}
_ENTITIES = {"login": ("carteirinha", "email"), "cpf": ("cpf",), "data_nascimento": ("data",)}


def _looks_like_data(text: str) -> bool:
    """'945807302', '12/03', 'maria@' — a message that is a value, not a request."""
    return bool(_DATA_LIKE_RE.search(text.strip())) and len(text.split()) <= 4


def extract_identity_value(tracker: Tracker, slot: str) -> dict[str, Any]:
    """Finds `slot` in the latest message when NLU did not tag it.

    A value with a fixed form (card, CPF, e-mail, numeric date) is taken from anywhere in
    the message; otherwise, when the form is asking for this very slot and the message is
    data rather than a request, the whole text is passed on so validation can say what is
    wrong with it.
    """
    message = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    if not text or text.startswith("/"):
        return {}
    if any(e.get("entity") in _ENTITIES[slot] for e in message.get("entities", [])):
        return {}  # the slot mapping already took it
    found = _FINDERS[slot](text)
    if found:
        return {slot: found}
    intent = (message.get("intent") or {}).get("name")
    if tracker.get_slot("requested_slot") == slot and (
        intent in ("informar", "nlu_fallback") or _looks_like_data(text)
    ):
        return {slot: text}
    return {}


class IdentityFormValidation(FormValidationAction, ABC):
    """Base class of every form that starts with the identity check (abstract, so the action
    server registers only its concrete subclasses)."""

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    async def extract_login(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_identity_value(tracker, "login")

    async def extract_cpf(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_identity_value(tracker, "cpf")

    async def extract_data_nascimento(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_identity_value(tracker, "data_nascimento")

    async def validate_login(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            _kind, login = classify_login(str(value))
        except InvalidValue as exc:
            dispatcher.utter_message(text=str(exc))
            return {"login": None}
        return {"login": login}

    async def validate_cpf(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"cpf": normalize_cpf(str(value))}
        except InvalidValue as exc:
            dispatcher.utter_message(text=str(exc))
            return {"cpf": None}

    async def validate_data_nascimento(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        try:
            return {"data_nascimento": normalize_birth_date(str(value)).isoformat()}
        except InvalidValue as exc:
            dispatcher.utter_message(text=str(exc))
            return {"data_nascimento": None}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        events = await super().run(dispatcher, tracker, domain)
        values = {slot: tracker.get_slot(slot) for slot in IDENTITY_SLOTS}
        values.update({e["name"]: e["value"] for e in events if e.get("event") == "slot" and e["name"] in values})
        if all(values.values()) and tracker.get_slot("identidade_token") is None:
            events += await self._check_identity(dispatcher, tracker, values)
        return events

    async def _check_identity(self, dispatcher, tracker: Tracker, values: dict[str, str]) -> list[dict[str, Any]]:
        payload = {
            "login": values["login"],
            "cpf": values["cpf"],
            "birth_date": values["data_nascimento"],
            "channel": tracker.get_latest_input_channel() or "desconhecido",
            "conversation_id": tracker.sender_id,
        }
        try:
            response = await backend.post("/api/identity/verifications", payload)
        except BackendUnavailable:
            dispatcher.utter_message(
                text=f"{await backend_down_text()} Guardei a carteirinha e o CPF: "
                "quando quiser tentar de novo, é só me mandar a data de nascimento."
            )
            return [SlotSet("data_nascimento", None)]
        if response.ok:
            return [SlotSet("identidade_token", response.data["token"])]
        if response.status in (423, 429):
            minutes = response.error.get("retry_after_minutes") or 30
            return [SlotSet("identidade_bloqueio_min", float(minutes))]
        attempts_left = response.error.get("attempts_left")
        warning = ""
        if attempts_left is not None and attempts_left <= 2:
            warning = f" Atenção: depois de mais {attempts_left} tentativa(s) erradas, o acesso fica bloqueado por 30 minutos."
        dispatcher.utter_message(
            text="Esses dados não conferem com o nosso cadastro. Confira o CPF e a data de "
            "nascimento e me mande de novo. Se a carteirinha ou o e-mail estiver errado, "
            f"mande o certo também.{warning}"
        )
        return [SlotSet("cpf", None), SlotSet("data_nascimento", None)]
