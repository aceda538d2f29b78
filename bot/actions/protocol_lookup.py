"""consultar_protocolo: any protocol number (20 digits) looked up without identity — the answer
says only what kind of request it is, its status and date, never whose it is."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.flow_reset import end_flow_events
from bot.actions.identity import extract_from_text
from bot.actions.repeated_question import CountsRepeatedQuestions
from bot.backend import protocols
from bot.backend.common import Refusal
from common.patterns import PROTOCOL_DIGITS, find_protocol

# --- what the bot says (the backend words "not found") ------------------------------------------
WRONG_LENGTH_TEXT = "O protocolo tem {expected} números e você mandou {got}. Confira e mande de novo."
NOT_FOUND_TEXT = "Não encontrei esse protocolo."  # a refusal without the backend's message
STATUS_TEXT = "Protocolo {protocol}: {kind}, aberto em {created_on}. Situação: {status}."


class ValidateProtocoloForm(CountsRepeatedQuestions):
    def name(self) -> str:
        return "validate_protocolo_form"

    async def extract_protocolo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "protocolo", find_protocol)

    async def validate_protocolo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        digits = find_protocol(str(value)) or re.sub(r"\D", "", str(value))
        if len(digits) != PROTOCOL_DIGITS:
            dispatcher.utter_message(text=WRONG_LENGTH_TEXT.format(expected=PROTOCOL_DIGITS, got=len(digits)))
            return {"protocolo": None}
        return {"protocolo": digits}


class ActionConsultarProtocolo(Action):
    def name(self) -> str:
        return "action_consultar_protocolo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        number = str(tracker.get_slot("protocolo"))
        found = await protocols.lookup_protocol(number)  # BackendUnavailable: bot/turn_recovery.py
        if isinstance(found, Refusal):
            dispatcher.utter_message(text=found.message or NOT_FOUND_TEXT)
        else:
            text = STATUS_TEXT.format(
                protocol=found.protocol,
                kind=found.kind_label,
                created_on=found.created_on_text,
                status=found.status_label,
            )
            dispatcher.utter_message(text=text)
        return end_flow_events(tracker)
