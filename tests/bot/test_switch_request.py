"""Another request in the middle of a form: the form stops and the same message starts the new one."""

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import REINJECTED, ActionTrocarPedido
from bot.actions.handoff import transcript

DOMAIN = {
    "slots": {
        "especialidade": {"mappings": [{"type": "from_entity", "entity": "especialidade"}]},
        "login": {
            "mappings": [
                {"type": "from_entity", "entity": "carteirinha", "conditions": [{"active_loop": "identidade_form"}]}
            ]
        },
    }
}


def _switch(text: str, intent: str, entities: list[dict], slots: dict, loop: str) -> list[dict]:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.97},
        "entities": entities,
        "metadata": {"canal": "whatsapp"},
    }
    events = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest}]
    tracker = Tracker(
        "u", {"requested_slot": "cpf", **slots}, latest, events, False, None, {"name": loop}, "action_listen"
    )
    return asyncio.run(ActionTrocarPedido().run(CollectingDispatcher(), tracker, DOMAIN))


def test_the_form_stops_and_the_same_message_is_handled_again():
    events = _switch(
        "na verdade quero a carteirinha digital",
        "cartao_virtual",
        [],
        {"login": "100200300401", "servico": {"intent": "segunda_via_boleto"}},
        "identidade_form",
    )
    assert events[0] == {"event": "active_loop", "name": None, "timestamp": None}
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["servico"] is None and slots["requested_slot"] is None
    assert slots["login"] == "100200300401"  # the identity already typed is not asked again
    listen, user = events[-2:]
    assert listen["event"] == "action" and listen["name"] == "action_listen"
    assert user["event"] == "user" and user["text"] == "na verdade quero a carteirinha digital"
    assert user["parse_data"]["intent"]["name"] == "cartao_virtual"
    assert user["metadata"] == {"canal": "whatsapp", REINJECTED: True}


def test_what_the_message_named_is_kept_for_the_new_request():
    events = _switch(
        "quero um cardiologista",
        "rede_credenciada",
        [{"entity": "especialidade", "value": "cardiologista"}],
        {"protocolo": "1" * 20},
        "protocolo_form",
    )
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["especialidade"] == "cardiologista" and slots["protocolo"] is None


def test_the_handoff_transcript_shows_the_message_once():
    events = _switch("quero falar da minha carteirinha", "cartao_virtual", [], {}, "identidade_form")
    history = [{"event": "user", "text": "quero falar da minha carteirinha", "metadata": {}}, *events]
    tracker = Tracker("u", {}, {}, history, False, None, {}, "action_listen")
    assert [line["text"] for line in transcript(tracker)] == ["quero falar da minha carteirinha"]
