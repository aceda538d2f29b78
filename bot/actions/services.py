"""Plan services that need the identity check and then one backend call (card, plan, fees,
statements, follow-ups of requests).

The request is remembered in the slot `servico` — the intent and the values the user gave
(year, month, a dependent's card, a fee's document number) — then `identidade_form` checks the
identity, or passes straight through when the conversation is already verified, and
`action_servico` runs the handler the area module registered for that intent with
`@service("intent")`. A handler that needs one more value (which year?) returns an Outcome that
keeps `servico` and sets `servico_aguarda`; the user's answer (a button, or typed) comes back
through `action_registrar_servico`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.identity import IdentityFormValidation
from bot.actions.verified import SESSION_EXPIRED_TEXT, Outcome, VerifiedFlowAction
from bot.backend.common import Refusal
from common.clock import local_today
from common.patterns import MONTHS

# --- what the bot says ---------------------------------------------------------------------------
REFUSED_TEXT = "Não consegui fazer isso agora."  # a refusal that came without the backend's message
LOST_TEXT = "Desculpe, me perdi. Pode repetir o que você precisa?"

Handler = Callable[[Tracker, dict[str, str]], Awaitable[Outcome]]
_HANDLERS: dict[str, Handler] = {}
VALUE_ENTITIES = ("ano", "mes", "carteirinha", "documento", "protocolo")
_YEAR_RE = re.compile(r"\b(19\d{2}|20\d{2})\b")
_MONTH_YEAR_RE = re.compile(r"\b(0?[1-9]|1[0-2])\s*/\s*(20\d{2})\b")
_RELATIVE_YEAR_RE = re.compile(r"\bano\s+(passado|retrasado|atual)\b")
_YEARS_BACK = {"passado": 1, "retrasado": 2, "atual": 0}


def service(intent: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[intent] = handler
        return handler

    return register


def ask_for(
    intent: str, values: dict[str, str], waiting: str, text: str, buttons: list[dict[str, str]] | None = None
) -> Outcome:
    """An Outcome that asks for one more value and keeps the request."""
    return Outcome(
        text,
        buttons or [],
        events=[SlotSet("servico", {"intent": intent, "values": values}), SlotSet("servico_aguarda", waiting)],
    )


def payload(intent: str, **values: str) -> str:
    """A button payload that repeats the request with a value: /intent{"ano": "2025"}."""
    inner = ", ".join(f'"{key}": "{value}"' for key, value in values.items())
    return f"/{intent}{{{inner}}}"


def refusal(refused: Refusal) -> Outcome:
    """What to say when the backend refused a verified request: its own message, and a person to
    talk to when there is nothing to correct here (403, 409 and above)."""
    if refused.verification_expired:
        return Outcome(SESSION_EXPIRED_TEXT, session_expired=True)
    return Outcome(
        refused.message or REFUSED_TEXT, [HUMAN_BUTTON] if refused.status >= 409 or refused.status == 403 else []
    )


def values_in_text(text: str, today: date | None = None) -> dict[str, str]:
    """Year and month typed without NLU tagging them: '2024', 'março de 2025', '03/2025',
    'ano passado'."""
    found: dict[str, str] = {}
    lowered = text.lower()
    match = _MONTH_YEAR_RE.search(lowered)
    if match:
        return {"mes": str(int(match.group(1))), "ano": match.group(2)}
    year = _YEAR_RE.search(lowered)
    relative = _RELATIVE_YEAR_RE.search(lowered)
    if year:
        found["ano"] = year.group(1)
    elif relative:
        found["ano"] = str((today or local_today()).year - _YEARS_BACK[relative.group(1)])
    for word in re.findall(r"[a-zç]+", lowered):
        if word in MONTHS:
            found["mes"] = str(MONTHS[word])
            break
    return found


def month_number(value: str | None) -> int | None:
    if not value:
        return None
    value = str(value).strip().lower()
    if value.isdigit() and 1 <= int(value) <= 12:
        return int(value)
    return MONTHS.get(value)


def values_given(message: dict[str, Any], entities: tuple[str, ...]) -> dict[str, str]:
    """The values a request carries: the `entities` the NLU (or a button's payload) found, over what
    the typed text holds (values_in_text; not for a button's "/intent{...}")."""
    given = {
        e["entity"]: str(e["value"])
        for e in message.get("entities", [])
        if e.get("entity") in entities and e.get("value") is not None
    }
    text = message.get("text") or ""
    return given if text.startswith("/") else {**values_in_text(text), **given}


class ActionRegistrarServico(Action):
    def name(self) -> str:
        return "action_registrar_servico"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        given = values_given(message, VALUE_ENTITIES)
        pending = tracker.get_slot("servico")
        if intent not in _HANDLERS and pending:  # an answer to the question the service asked
            request = {"intent": pending["intent"], "values": {**pending.get("values", {}), **given}}
        else:
            request = {"intent": intent, "values": given}
        return [SlotSet("servico", request), SlotSet("servico_aguarda", None)]


class ValidateIdentidadeForm(IdentityFormValidation):
    def name(self) -> str:
        return "validate_identidade_form"


class ActionServico(VerifiedFlowAction):
    def name(self) -> str:
        return "action_servico"

    async def outcome(self, tracker: Tracker) -> Outcome:
        request = tracker.get_slot("servico") or {}
        handler = _HANDLERS.get(request.get("intent") or "")
        if handler is None:
            return Outcome(LOST_TEXT)
        return await handler(tracker, dict(request.get("values") or {}))
