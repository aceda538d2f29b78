"""A form's turn as Rasa runs it, for the tracker-fixture tests of what the user sees: the form's
validation action, then — unless Rasa would reject the form (the message filled nothing: a dialogue
rule answers it instead) — the question the form asks next, found in Rasa's order
(action_ask_<form>_<slot>, utter_ask_<form>_<slot>, action_ask_<slot>, utter_ask_<slot>) and shown as
Rasa would: a custom ask action run on the conversation as the validation left it, or the variations
of a domain.yml response that the slots allow (Rasa's own ResponseVariationFilter, conditions included;
Rasa picks one of them at random)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa.core.nlg.generator import ResponseVariationFilter
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from tracker_support import slot_events

from bot.actions.card_request import ActionAskCarteirinhaConfirmar, ActionAskCarteirinhaMembro
from bot.actions.company_contact import ActionAskEmpresaContatoTipo, ActionAskEmpresaContatoValor
from bot.actions.company_movements import (
    ActionAskEmpresaExcConfirmar,
    ActionAskEmpresaExcMotivo,
    ActionAskEmpresaIncConfirmar,
    ActionAskEmpresaIncInicio,
    ActionAskEmpresaIncParentesco,
    ActionAskEmpresaIncPlano,
    ActionAskEmpresaIncVinculo,
)
from bot.actions.password_reset import ActionAskEsqueciSenhaEmailConfirmado
from bot.actions.registration import ActionAskCadastroEmailConfirmado
from bot.actions.reimbursement import ActionAskReembolsoAnexos, ActionAskReembolsoConfirmar, ActionAskReembolsoMembro

ASK_ACTIONS: dict[str, Action] = {
    action.name(): action
    for action in (
        ActionAskEsqueciSenhaEmailConfirmado(),
        ActionAskCadastroEmailConfirmado(),
        ActionAskCarteirinhaMembro(),
        ActionAskCarteirinhaConfirmar(),
        ActionAskReembolsoMembro(),
        ActionAskReembolsoAnexos(),
        ActionAskReembolsoConfirmar(),
        ActionAskEmpresaContatoTipo(),
        ActionAskEmpresaContatoValor(),
        ActionAskEmpresaIncPlano(),
        ActionAskEmpresaIncVinculo(),
        ActionAskEmpresaIncParentesco(),
        ActionAskEmpresaIncInicio(),
        ActionAskEmpresaIncConfirmar(),
        ActionAskEmpresaExcMotivo(),
        ActionAskEmpresaExcConfirmar(),
    )
}
CHANNEL = "rest"


@dataclass
class Turn:
    """What one message in a form led to."""

    slots: dict[str, Any]  # what the validation action set
    said: list[dict[str, Any]]  # the validation's own messages (a refused value explained)
    asked: str | None = None  # the response or action that asked the next question
    question: list[dict[str, Any]] = field(default_factory=list)  # what may be shown (one message per variation)
    rejected: bool = False  # Rasa rejects the form: the dialogue rules answer the message

    @property
    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.said]

    @property
    def question_texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.question]

    @property
    def question_buttons(self) -> list[list[str]]:
        return [[b["title"] for b in m.get("buttons") or []] for m in self.question]


def ask_name(domain: dict, form: str, slot: str) -> str:
    for name in (f"action_ask_{form}_{slot}", f"utter_ask_{form}_{slot}", f"action_ask_{slot}", f"utter_ask_{slot}"):
        if name in domain.get("actions", []) or name in domain.get("responses", {}):
            return name
    raise AssertionError(f"no question for {slot} of {form}")


async def ask(domain: dict, form: str, slot: str, tracker: Tracker) -> tuple[str, list[dict[str, Any]]]:
    """The question for `slot`, as the user may see it."""
    name = ask_name(domain, form, slot)
    if name in ASK_ACTIONS:
        dispatcher = CollectingDispatcher()
        await ASK_ACTIONS[name].run(dispatcher, tracker, domain)
        return name, dispatcher.messages
    variations = ResponseVariationFilter(domain["responses"]).responses_for_utter_action(name, CHANNEL, tracker.slots)
    return name, variations


def after(tracker: Tracker, events: list[dict[str, Any]]) -> Tracker:
    """The conversation as the validation action left it."""
    slots = {**tracker.slots, **slot_events(events)}
    return Tracker(
        sender_id=tracker.sender_id,
        slots=slots,
        latest_message=tracker.latest_message,
        events=[*tracker.events, *events],
        paused=False,
        followup_action=None,
        active_loop=tracker.active_loop,
        latest_action_name=tracker.latest_action_name,
    )


async def form_turn(validation, domain: dict, tracker: Tracker) -> Turn:
    """Runs the form's validation on `tracker` (Rasa's FormAction.validate + request_next_slot)."""
    form = validation.form_name()
    candidates = tracker.slots_to_validate()
    asked_before = tracker.get_slot("requested_slot")
    dispatcher = CollectingDispatcher()
    events = await validation.run(dispatcher, tracker, domain)
    slots = slot_events(events)
    filled = [name for name in slots if name != "requested_slot"]
    if asked_before and not candidates and not filled:
        return Turn(slots, dispatcher.messages, rejected=True)
    now = after(tracker, events)
    slot = now.get_slot("requested_slot") if "requested_slot" in slots else None
    if slot is None and "requested_slot" not in slots:  # Rasa picks the first empty required slot
        required = domain["forms"][form]["required_slots"]
        slot = next((name for name in required if now.get_slot(name) is None), None)
    if slot is None:
        return Turn(slots, dispatcher.messages)
    name, question = await ask(domain, form, slot, now)
    return Turn(slots, dispatcher.messages, name, question)
