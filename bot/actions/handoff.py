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
from rasa_sdk.events import ActionExecuted, ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import REINJECTED
from bot.actions.flow_reset import end_flow_events
from bot.actions.operator_profile import call_centre_line, operator_profile
from bot.actions.verified import input_channel, verified_for
from bot.backend import handoffs
from bot.backend.client import BackendUnavailable
from bot.backend.handoffs import Handoff, HandoffRequest

# --- what the bot says (to the user; and to the agent, the reason of the ticket) -----------------
CALL_US_TEXT = "Para falar com uma pessoa, ligue para {line}."
CALL_US_HOURS_TEXT = " Atendimento humano: {hours}."
DEFAULT_REASON = "Pediu para falar com um atendente"
_REASONS = {
    "falar_com_atendente": DEFAULT_REASON,
    "ouvidoria_reclamacao": "Reclamação / ouvidoria",
    "nlu_fallback": "O assistente não entendeu o pedido",
}
REASON_IN_FORM = " (no meio de: {flow})"
REASON_LOCKED = "; confirmação de identidade bloqueada"

TRANSCRIPT_MESSAGES = 30


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
    reason = _REASONS.get(intent, DEFAULT_REASON)
    if tracker.active_loop_name:
        reason += REASON_IN_FORM.format(flow=tracker.active_loop_name.removesuffix("_form").replace("_", " "))
    if tracker.get_slot("identidade_bloqueio_min"):
        reason += REASON_LOCKED
    return reason


class ActionContatoAtendente(Action):
    """A human is always reachable, without giving any personal data first."""

    def name(self) -> str:
        return "action_contato_atendente"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        request = HandoffRequest(
            conversation_id=tracker.sender_id,
            channel=input_channel(tracker),
            reason=handoff_reason(tracker),
            transcript=tuple(transcript(tracker)),
            # the ticket shows the agent who this is (a verification made here, with the CPF)
            verification=tracker.get_slot("identidade_token") if verified_for(tracker) else None,
        )
        try:
            ticket = await handoffs.open_handoff(request)
        except BackendUnavailable:
            ticket = None
        if not isinstance(ticket, Handoff):
            profile = await operator_profile()
            hours = profile.opening_hours if profile else None
            text = CALL_US_TEXT.format(line=await call_centre_line())
            if hours:
                text += CALL_US_HOURS_TEXT.format(hours=hours)
            dispatcher.utter_message(text=text)
            return end_flow_events(tracker)
        dispatcher.utter_message(text=ticket.message)
        return end_flow_events(tracker) + (self.pause_and_listen() if ticket.pause else [])

    @staticmethod
    def pause_and_listen() -> list[dict[str, Any]]:
        """Paused, Rasa stops predicting before its own action_listen: it is logged here, so that a
        message the bot still answers while paused (an emergency, bot/rasa_server.py) is a fresh
        turn to the rules, not the continuation of this action."""
        return [ConversationPaused(), ActionExecuted("action_listen")]


class ActionRetomarAtendimento(Action):
    def name(self) -> str:
        return "action_retomar_atendimento"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_atendimento_encerrado")
        return []
