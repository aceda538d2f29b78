"""No question is asked a third time unchanged.

Every form validation counts, in slot `pergunta_vezes`, how many times in a row the form is asking
the question it asks next: 1 the first time, 2 when it asks the same again, REPHRASE_AT (3) from the
third time on. From then the question is rephrased, with an example of what to type, and shows
buttons: the valid options where there are some, "Falar com atendente" and "Cancelar". The
utter_ask_* responses do it with a conditional variation (domain.yml, `condition: pergunta_vezes
== 3`); the custom action_ask_* actions read `asked_again(tracker)`. The count starts again when
the form asks another question, and is forgotten when the flow ends (bot/catalogue.yml flow_slots).

The count is kept by the validation action, which Rasa runs before every question of a form. It
must not turn a message the form cannot use into an answer: when Rasa would reject the form (the
message right after a question filled nothing, so the dialogue rules answer it: "cancelar", "é um
robô?", "não entendi"), nothing is added — the form asks again after the rule, and that ask is the
one counted.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from bot.actions.conversation import HUMAN_BUTTON

ASKED_SLOT = "pergunta_vezes"
REPHRASE_AT = 3
CANCEL_BUTTON = {"title": "Cancelar", "payload": "/cancelar"}
ESCAPE_BUTTONS = [HUMAN_BUTTON, CANCEL_BUTTON]
_LISTEN = "action_listen"


def asked_again(tracker: Tracker) -> bool:
    """Whether the question being asked now was already asked twice in a row (rephrase it)."""
    return (tracker.get_slot(ASKED_SLOT) or 0) >= REPHRASE_AT


def with_escape(buttons: list[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """The question's own buttons, then a human and cancel."""
    return [*(buttons or []), *ESCAPE_BUTTONS]


def ask(
    dispatcher: CollectingDispatcher, tracker: Tracker, question: str, rephrased: str, buttons: list[dict[str, str]]
) -> None:
    """A custom ask: the question with its buttons or, asked a third time in a row, `rephrased`
    with the escape buttons too."""
    if asked_again(tracker):
        dispatcher.utter_message(text=rephrased, buttons=with_escape(buttons))
    else:
        dispatcher.utter_message(text=question, buttons=buttons)


def _follows_user_message(tracker: Tracker, form: str) -> bool:
    """Whether the form runs right after the user's message (Rasa's `validate` step, the one that
    may reject the form), rather than again after another action (a digression answered, a
    correction). Rasa hands the validation action the conversation plus the form's own
    ActionExecuted and the slot candidates; the action before that tells."""
    skipped_form = False
    for event in reversed(tracker.events):
        if event.get("event") != "action":
            continue
        if event.get("name") == form and not skipped_form:
            skipped_form = True
            continue
        return event.get("name") == _LISTEN
    return True


@dataclass(frozen=True)
class QuestionCount:
    """The state before the validation action ran: which question was asked, how many times, and
    whether Rasa would reject the form if the action filled nothing."""

    asked: str | None
    times: int
    may_be_rejected: bool

    @classmethod
    def before(cls, tracker: Tracker, form: str) -> QuestionCount:
        asked = tracker.get_slot("requested_slot")
        candidates = tracker.slots_to_validate()  # what Rasa's slot mappings took from the message
        return cls(
            asked=asked,
            times=int(tracker.get_slot(ASKED_SLOT) or 0),
            may_be_rejected=bool(asked) and not candidates and _follows_user_message(tracker, form),
        )

    def events(self, events: list[dict[str, Any]], next_slot: str | None) -> list[dict[str, Any]]:
        """The count for the question asked next (`next_slot`), given the validation's events."""
        filled = any(e.get("event") == "slot" and e.get("name") != "requested_slot" for e in events)
        if self.may_be_rejected and not filled:
            return []  # Rasa rejects the form: a rule answers, then the form asks (and counts)
        if next_slot is None:
            return [SlotSet(ASKED_SLOT, None)]
        if next_slot == self.asked:
            return [SlotSet(ASKED_SLOT, float(min(max(self.times, 1) + 1, REPHRASE_AT)))]
        return [SlotSet(ASKED_SLOT, 1.0)]


def next_requested_slot(events: list[dict[str, Any]], required: list[str], tracker: Tracker) -> str | None:
    """The question the form asks after the validation: the one the events request, or else (Rasa
    chooses) the first required slot still empty."""
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            return event.get("value")
    values = dict(tracker.slots)
    values.update({e["name"]: e.get("value") for e in events if e.get("event") == "slot"})
    return next((slot for slot in required if values.get(slot) is None), None)


class CountsRepeatedQuestions(FormValidationAction, ABC):
    """The validation of a form that keeps rasa_sdk's `run` (IdentityFormValidation counts in its
    own `run`); abstract, so the action server registers only its concrete subclasses."""

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    async def run(self, dispatcher, tracker: Tracker, domain) -> list[dict[str, Any]]:
        count = QuestionCount.before(tracker, self.form_name())
        events = await super().run(dispatcher, tracker, domain)
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        return events + count.events(events, next_requested_slot(events, required, tracker))
