"""What the flows of a verified conversation share: who asks the backend (the Caller built from the
conversation), the texts for a locked identity check or an expired verification, and the final action."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import HUMAN_BUTTON
from bot.actions.flow_reset import end_flow_events, session_expired_events
from bot.actions.operator_profile import call_centre_line
from bot.backend.common import Caller
from bot.backend.identity import REGISTRATION_SCOPE

# --- what the bot says ---------------------------------------------------------------------------
YES_NO = [{"title": "Sim", "payload": "/afirmar"}, {"title": "Não", "payload": "/negar"}]
REGISTRATION_BUTTON = {"title": "Fazer cadastro", "payload": "/cadastro"}  # no account yet: offer one
SESSION_EXPIRED_TEXT = (
    "A confirmação dos seus dados expirou (ela vale enquanto a conversa está ativa "
    "e acaba depois de alguns minutos sem uso). Vamos de novo? É só repetir o pedido."
)
CPF_NEEDED_TEXT = (
    "Para isso eu preciso confirmar seus dados com o CPF: a confirmação sem CPF vale só para o cadastro no aplicativo."
)
LOCKED_TEXT = (
    "Por segurança, bloqueei novas tentativas por {minutes} minutos, depois de várias "
    'tentativas com dados que não conferem. Se precisar agora, fale com {line} ou escreva "atendente".'
)


def input_channel(tracker: Tracker) -> str:
    """The channel of the latest message. A verification is bound to (channel, sender id): the
    same sender id arriving through another channel (a REST call naming a widget user's id) is
    somebody else, and the backend refuses the token for it."""
    return tracker.get_latest_input_channel() or "desconhecido"


def caller(tracker: Tracker) -> Caller:
    """Who asks the backend on behalf of this conversation: its verification, channel and id."""
    return Caller(tracker.get_slot("identidade_token"), input_channel(tracker), tracker.sender_id)


def verified_headers(tracker: Tracker) -> dict[str, str]:
    """The headers of a verified GET (and of an upload)."""
    return caller(tracker).headers()


def verified_for(tracker: Tracker, *, allows_no_cpf: bool = False) -> bool:
    """Whether the conversation's verification serves a flow here and now: there is one, it was
    made on this channel, and — unless the flow takes a check without CPF (registration) — it
    was made with the CPF."""
    if tracker.get_slot("identidade_token") is None or not verified_on_this_channel(tracker):
        return False
    return allows_no_cpf or (tracker.get_slot("identidade_info") or {}).get("scope") != REGISTRATION_SCOPE


def verified_on_this_channel(tracker: Tracker) -> bool:
    """False when the conversation holds a verification made through another channel."""
    if tracker.get_slot("identidade_token") is None:
        return True
    return (tracker.get_slot("identidade_info") or {}).get("channel") in (None, input_channel(tracker))


def registration_only(tracker: Tracker) -> bool:
    """The conversation holds a verification made without CPF (it serves registration only)."""
    return (
        tracker.get_slot("identidade_token") is not None
        and (tracker.get_slot("identidade_info") or {}).get("scope") == REGISTRATION_SCOPE
    )


async def locked_text(minutes: float) -> str:
    return LOCKED_TEXT.format(minutes=int(minutes), line=await call_centre_line())


@dataclass
class Outcome:
    """What a flow's final action tells the user, and what it changes in the conversation."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    session_expired: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    image: str | None = None  # URL of an image the channel shows (the virtual card)
    document: dict[str, str] | None = None  # {"url", "filename", "caption"}: a PDF the channel sends


class VerifiedFlowAction(Action, ABC):
    """The final action of a flow that starts with the identity check: explains a lock, makes
    the flow's backend call (subclasses' `outcome`) and ends
    the flow (forgetting its data; the verified session too when the backend refused it)."""

    @abstractmethod
    async def outcome(self, tracker: Tracker) -> Outcome:
        """Calls the backend for a verified, unlocked conversation."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        locked_minutes = tracker.get_slot("identidade_bloqueio_min")
        # BackendUnavailable goes up: the Rasa server answers the user and keeps the flow as it was,
        # so "tenta de novo" finishes it (bot/turn_recovery.py)
        result = (
            Outcome(await locked_text(locked_minutes), [HUMAN_BUTTON])
            if locked_minutes
            else await self.outcome(tracker)
        )
        dispatcher.utter_message(text=result.text, buttons=result.buttons)
        if result.image:
            dispatcher.utter_message(image=result.image)
        if result.document:
            dispatcher.utter_message(json_message={"type": "document", **result.document})
        return end_flow_events(tracker) + (session_expired_events() if result.session_expired else []) + result.events
