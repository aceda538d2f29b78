"""Ending a flow: which slots a flow owns, and the events that forget them."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet

# Every slot that holds what the user typed in a flow, or the result of an identity check.
FLOW_SLOTS = (
    "login",
    "cpf",
    "data_nascimento",
    "identidade_token",
    "identidade_bloqueio_min",
)


def end_flow_events(tracker: Tracker) -> list[dict[str, Any]]:
    """Deactivates the running form (if any) and forgets the data the user gave in it."""
    events: list[dict[str, Any]] = []
    if tracker.active_loop_name:
        events.append(ActiveLoop(None))
    events += [SlotSet(slot, None) for slot in FLOW_SLOTS if tracker.get_slot(slot) is not None]
    events.append(SlotSet("requested_slot", None))
    return events
