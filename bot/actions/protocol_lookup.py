"""consultar_protocolo: any protocol number (20 digits) looked up without identity — the answer
says only what kind of request it is, its status and date, never whose it is."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.actions.backend_client import BackendUnavailable, backend
from bot.actions.flow_reset import end_flow_events
from bot.actions.identity import extract_from_text
from bot.actions.operator_profile import backend_down_text
from common.patterns import PROTOCOL_DIGITS, find_protocol


class ValidateProtocoloForm(FormValidationAction):
    def name(self) -> str:
        return "validate_protocolo_form"

    async def extract_protocolo(self, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return extract_from_text(tracker, "protocolo", find_protocol)

    async def validate_protocolo(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        digits = find_protocol(str(value)) or re.sub(r"\D", "", str(value))
        if len(digits) != PROTOCOL_DIGITS:
            dispatcher.utter_message(
                text=f"O protocolo tem {PROTOCOL_DIGITS} números e você mandou {len(digits)}. Confira e mande de novo."
            )
            return {"protocolo": None}
        return {"protocolo": digits}


class ActionConsultarProtocolo(Action):
    def name(self) -> str:
        return "action_consultar_protocolo"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        number = tracker.get_slot("protocolo")
        try:
            response = await backend.get(f"/api/protocols/{number}")
        except BackendUnavailable:
            dispatcher.utter_message(text=await backend_down_text())
            return end_flow_events(tracker)
        if response.ok:
            data = response.data
            dispatcher.utter_message(
                text=f"Protocolo {data['protocol']}: {data['kind_label']}, aberto em "
                f"{data['created_on_text']}. Situação: {data['status_label']}."
            )
        else:
            dispatcher.utter_message(text=response.error.get("message") or "Não encontrei esse protocolo.")
        return end_flow_events(tracker)
