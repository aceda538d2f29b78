"""Ending a flow: which slots a flow owns, and the events that forget them."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet

from bot.catalogue import CATALOGUE

# What the user typed in a flow, and the flow's own outcome: forgotten when the flow ends (bot/catalogue.yml).
FLOW_SLOTS = CATALOGUE.flow_slots()
# The identity typed so far (not yet verified): kept when the user switches to another request.
IDENTITY_INPUT_SLOTS = ("login", "cpf", "data_nascimento", "nome_mae")
# The company user's identity typed so far (never the one-time code): kept too, with whether a code was
# already e-mailed for them (the next form then waits for that code instead of sending another).
COMPANY_IDENTITY_INPUT_SLOTS = ("empresa_usuario", "empresa_cnpj", "empresa_codigo_enviado")
# What a switch to another request keeps of the flow it stops (bot/actions/conversation.py ActionTrocarPedido).
KEPT_ON_SWITCH_SLOTS = IDENTITY_INPUT_SLOTS + COMPANY_IDENTITY_INPUT_SLOTS
# The verified session (an opaque token + masked facts): kept until goodbye or a new session.
SESSION_SLOTS = ("identidade_token", "identidade_info")
# The company user's verified session (bot/actions/company_identity.py): also kept until goodbye.
# empresa_sessao (featurized) lets a rule tell a company conversation ("fatura" alone: the company's).
COMPANY_SESSION_SLOTS = ("empresa_token", "empresa_info", "empresa_sessao")


def end_flow_events(tracker: Tracker, *, keep_session: bool = True) -> list[dict[str, Any]]:
    """Deactivates the running form (if any) and forgets the data the user gave in it; with
    keep_session=False (goodbye) also the verified sessions, the beneficiary's and the company's."""
    slots = FLOW_SLOTS if keep_session else FLOW_SLOTS + SESSION_SLOTS + COMPANY_SESSION_SLOTS
    events: list[dict[str, Any]] = []
    if tracker.active_loop_name:
        events.append(ActiveLoop(None))
    events += [SlotSet(slot, None) for slot in slots if tracker.get_slot(slot) is not None]
    events.append(SlotSet("requested_slot", None))
    return events


def session_expired_events() -> list[dict[str, Any]]:
    """The backend no longer accepts the token: the next flow asks for the identity again."""
    return [SlotSet(slot, None) for slot in SESSION_SLOTS]
