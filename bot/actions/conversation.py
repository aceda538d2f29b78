"""Actions that keep the conversation going in any state: cancel, fallback ladder, human contact."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.flow_reset import end_flow_events
from bot.actions.operator_profile import call_centre_line, operator_profile

HUMAN_BUTTON = {"title": "Falar com atendente", "payload": "/falar_com_atendente"}


class ActionDespedida(Action):
    """Goodbye also ends the verified session."""

    def name(self) -> str:
        return "action_despedida"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_despedida")
        return end_flow_events(tracker, keep_session=False)


class ActionCancelar(Action):
    def name(self) -> str:
        return "action_cancelar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_cancelado")
        return end_flow_events(tracker)


def consecutive_misses(tracker: Tracker) -> int:
    """How many user messages in a row, ending with the latest, the assistant did not understand."""
    misses = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        misses += 1
    return misses


class ActionFallback(Action):
    """First miss: ask to rephrase with an example. Second miss in a row: offer a human."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        if consecutive_misses(tracker) < 2:
            dispatcher.utter_message(
                text="Desculpe, não entendi. Pode escrever de outro jeito? "
                "Por exemplo: \"esqueci minha senha\" ou \"menu\"."
            )
        else:
            dispatcher.utter_message(
                text="Ainda não consegui entender, desculpe. Você pode falar com "
                f"{await call_centre_line()}, ou escrever \"atendente\".",
                buttons=[HUMAN_BUTTON],
            )
        return []


class ActionContatoAtendente(Action):
    """A human is always reachable, without giving any personal data first."""

    def name(self) -> str:
        return "action_contato_atendente"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        profile = await operator_profile() or {}
        hours = profile.get("opening_hours")
        text = f"Para falar com uma pessoa, ligue para {await call_centre_line()}."
        if hours:
            text += f" Atendimento humano: {hours}."
        dispatcher.utter_message(text=text)
        return end_flow_events(tracker)
