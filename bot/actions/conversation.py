"""Actions that keep the conversation going in any state: cancel, fallback ladder, human contact."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.flow_reset import KEPT_ON_SWITCH_SLOTS, end_flow_events
from bot.actions.operator_profile import call_centre_line, operator_profile
from bot.catalogue import CATALOGUE

# --- what the bot says ---------------------------------------------------------------------------
HUMAN_BUTTON = {"title": "Falar com atendente", "payload": "/falar_com_atendente"}
PRIVACY_TEXT = (
    "Aviso de privacidade: uso seus dados só para atender o seu pedido, como manda "
    "a LGPD, e nunca peço a sua senha.{link}"
)
PRIVACY_LINK = " Saiba mais: {url}"
LOST_TEXT = 'Desculpe, me perdi aqui. Pode repetir o que você precisa? Se preferir, escreva "menu" ou "atendente".'
DID_YOU_MEAN_TEXT = "Desculpe, não entendi bem. Você quis dizer…?"
REPHRASE_TEXT = 'Desculpe, não entendi. Pode escrever de outro jeito? Por exemplo: "segunda via do boleto" ou "menu".'
STILL_LOST_TEXT = 'Ainda não consegui entender, desculpe. Você pode falar com {line}, ou escrever "atendente".'


class ActionSessionStart(Action):
    """Every session opens with a one-line privacy notice (LGPD), before any data is asked."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        profile = await operator_profile()
        link = PRIVACY_LINK.format(url=profile.privacy_url) if profile and profile.privacy_url else ""
        dispatcher.utter_message(text=PRIVACY_TEXT.format(link=link))
        return [SessionStarted(), ActionExecuted("action_listen")]


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


REINJECTED = "reinjected"


class ActionTrocarPedido(Action):
    """The user asked for another request in the middle of a form ("na verdade quero o boleto"):
    the form stops, what it collected is forgotten except the identity already typed (the beneficiary's or
    the company user's, never the one-time code), and the same
    message is handed back to the dialogue as if just received, so the new request starts at once.
    Entities of the message that fill a slot of any form (a specialty, a city, a protocol) are kept."""

    def name(self) -> str:
        return "action_trocar_pedido"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        kept = {slot: tracker.get_slot(slot) for slot in KEPT_ON_SWITCH_SLOTS if tracker.get_slot(slot)}
        events = end_flow_events(tracker)
        events += [SlotSet(slot, value) for slot, value in kept.items()]
        events += [SlotSet(slot, value) for slot, value in entity_slots(message, domain).items()]
        parse_data = {
            key: message.get(key)
            for key in ("intent", "entities", "text", "intent_ranking")
            if message.get(key) is not None
        }
        return events + handed_back(tracker, parse_data)


def handed_back_as(tracker: Tracker, intent: str) -> list[dict[str, Any]]:
    """The latest message handed back to the dialogue as `intent` (sure of it), with its entities."""
    message = tracker.latest_message or {}
    parse_data = {
        "intent": {"name": intent, "confidence": 1.0},
        "entities": message.get("entities") or [],
        "text": message.get("text"),
    }
    return handed_back(tracker, parse_data)


def handed_back(tracker: Tracker, parse_data: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest message given back to the dialogue as if just received, read as `parse_data` says; marked
    REINJECTED, so that what reads the user's messages (the handoff's transcript) counts it once."""
    message = tracker.latest_message or {}
    return [
        ActionExecuted("action_listen"),
        {
            "event": "user",
            "timestamp": None,
            "text": message.get("text"),
            "parse_data": parse_data,
            "input_channel": tracker.get_latest_input_channel(),
            "metadata": {**(message.get("metadata") or {}), REINJECTED: True},
        },
    ]


def entity_slots(message: dict, domain: dict) -> dict[str, Any]:
    """Slots filled, with no condition, from an entity of the message (especialidade, cidade, protocolo)."""
    values = {}
    entities = {entity.get("entity"): entity.get("value") for entity in message.get("entities") or []}
    for slot, definition in (domain.get("slots") or {}).items():
        for mapping in definition.get("mappings") or []:
            if (
                mapping.get("type") == "from_entity"
                and not mapping.get("conditions")
                and entities.get(mapping.get("entity")) is not None
            ):
                values[slot] = entities[mapping["entity"]]
    return values


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


# What each request is called in a "Você quis dizer…?" button (bot/catalogue.yml).
INTENT_LABELS = CATALOGUE.intent_labels()


def likely_requests(tracker: Tracker, count: int = 2) -> list[dict[str, str]]:
    """The `count` most likely requests of the latest message, as buttons."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    buttons: list[dict[str, str]] = []
    for candidate in ranking:
        name = candidate.get("name")
        if name in INTENT_LABELS and len(buttons) < count:
            buttons.append({"title": INTENT_LABELS[name], "payload": f"/{name}"})
    return buttons


PROTOCOL_LOOKUPS = frozenset({"consultar_protocolo", "empresa_protocolos"})


def protocol_number_lookup(message: dict) -> bool:
    """A protocol number asked about with NLU torn between the lookup by number and the company's protocols
    ("acompanhar o protocolo N da empresa"): both are the lookup of that number, so it is not a miss."""
    ranking = [c.get("name") for c in message.get("intent_ranking") or [] if c.get("name") != "nlu_fallback"]
    numbered = any(entity.get("entity") == "protocolo" for entity in message.get("entities") or [])
    return numbered and set(ranking[:2]) == PROTOCOL_LOOKUPS


class ActionFallback(Action):
    """First miss: "Você quis dizer…?" with the two most likely requests. Second miss in a row:
    offer a human and the call-centre phone. A protocol number that NLU could not place between the
    lookup by number and the company's protocols is the lookup by number (its rules tell whose)."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent != "nlu_fallback":
            # Understood, but the dialogue does not know what to do next (Rasa's core fallback):
            # say so and forget the message, so the conversation is back where it was.
            dispatcher.utter_message(text=LOST_TEXT)
            return [UserUtteranceReverted()]
        if protocol_number_lookup(tracker.latest_message or {}):
            return handed_back_as(tracker, "consultar_protocolo")
        if consecutive_misses(tracker) < 2:
            buttons = likely_requests(tracker)
            if buttons:
                dispatcher.utter_message(text=DID_YOU_MEAN_TEXT, buttons=buttons)
            else:
                dispatcher.utter_message(text=REPHRASE_TEXT)
        else:
            dispatcher.utter_message(text=STILL_LOST_TEXT.format(line=await call_centre_line()), buttons=[HUMAN_BUTTON])
        return []
