"""Handing the conversation to a person (docs/handoff.md): the bot opens a ticket in the backend with
the recent transcript (the backend masks personal data before storing it), tells the user the
protocol and their place in the queue, and pauses itself (ConversationPaused) so that what the
user writes next goes to the agent. Out of hours or with no agent online the ticket waits for
a call back and the bot goes on. When the agent closes the ticket, the backend resumes the
conversation and triggers `atendimento_encerrado`, answered by action_retomar_atendimento.
Nothing personal is asked to reach a person (SAC rules). See docs/handoff.md."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.backend_client import BackendUnavailable, backend
from bot.actions.conversation import REINJECTED
from bot.actions.flow_reset import end_flow_events
from bot.actions.operator_profile import call_centre_line, operator_profile
from bot.actions.verified import input_channel, verified_for

TRANSCRIPT_MESSAGES = 30
_REASONS = {
    "falar_com_atendente": "Pediu para falar com um atendente",
    "ouvidoria_reclamacao": "Reclamação / ouvidoria",
    "nlu_fallback": "O assistente não entendeu o pedido",
}


def transcript(tracker: Tracker) -> list[dict[str, Any]]:
    """The last messages of the conversation, both sides, oldest first — only those since it last
    came through the channel of the request: the same sender id on another channel (a REST call
    naming a widget user's id) is somebody else, and must not hand that person's chat to an agent."""
    channel = input_channel(tracker)
    lines: list[dict[str, Any]] = []
    other_channel = False
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            other_channel = event.get("input_channel") not in (None, channel)
            if other_channel:
                lines = []
        if other_channel or (event.get("metadata") or {}).get(REINJECTED):
            continue  # REINJECTED: the same message handed back to the dialogue by action_trocar_pedido
        if kind in ("user", "bot") and event.get("text"):
            lines.append({"from": kind, "text": event["text"], "at": event.get("timestamp")})
    return lines[-TRANSCRIPT_MESSAGES:]


def handoff_reason(tracker: Tracker) -> str:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
    reason = _REASONS.get(intent, "Pediu para falar com um atendente")
    if tracker.active_loop_name:
        reason += f" (no meio de: {tracker.active_loop_name.removesuffix('_form').replace('_', ' ')})"
    if tracker.get_slot("identidade_bloqueio_min"):
        reason += "; confirmação de identidade bloqueada"
    return reason


class ActionContatoAtendente(Action):
    """A human is always reachable, without giving any personal data first."""

    def name(self) -> str:
        return "action_contato_atendente"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        body = {
            "conversation_id": tracker.sender_id,
            "channel": input_channel(tracker),
            "reason": handoff_reason(tracker),
            "transcript": transcript(tracker),
        }
        if verified_for(tracker):  # the ticket shows the agent who this is (made here, with the CPF)
            body["verification"] = tracker.get_slot("identidade_token")
        try:
            response = await backend.post("/api/handoffs", body)
        except BackendUnavailable:
            response = None
        if response is None or not response.ok:
            profile = await operator_profile() or {}
            hours = profile.get("opening_hours")
            text = f"Para falar com uma pessoa, ligue para {await call_centre_line()}."
            if hours:
                text += f" Atendimento humano: {hours}."
            dispatcher.utter_message(text=text)
            return end_flow_events(tracker)
        dispatcher.utter_message(text=response.data["message"])
        return end_flow_events(tracker) + ([ConversationPaused()] if response.data.get("pause") else [])


class ActionRetomarAtendimento(Action):
    def name(self) -> str:
        return "action_retomar_atendimento"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_atendimento_encerrado")
        return []
