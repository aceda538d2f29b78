"""The fallback ladder: first miss offers the two most likely requests, the second offers a human."""

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.conversation import ActionFallback


def _tracker(misses: int, ranking: list[tuple[str, float]]) -> Tracker:
    events = [{"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}} for _ in range(misses)]
    latest = {
        "intent": {"name": "nlu_fallback"},
        "text": "bolet atrazado",
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.55}]
        + [{"name": name, "confidence": c} for name, c in ranking],
    }
    return Tracker("u", {}, latest, events, False, None, {}, "action_listen")


def _run(tracker: Tracker) -> list[dict]:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionFallback().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_first_miss_offers_the_two_most_likely_requests():
    messages = _run(_tracker(1, [("segunda_via_boleto", 0.4), ("mensalidades", 0.3), ("saudacao", 0.1)]))
    assert "Você quis dizer" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/segunda_via_boleto", "/mensalidades"]


def test_small_talk_is_never_offered_as_a_meaning():
    messages = _run(_tracker(1, [("saudacao", 0.4), ("afirmar", 0.3)]))
    assert "buttons" not in messages[0] or not messages[0]["buttons"]
    assert "outro jeito" in messages[0]["text"]


def test_second_miss_offers_a_human(monkeypatch):
    async def line():
        return "a nossa central 24h: 0800 888 9504"

    monkeypatch.setattr("bot.actions.conversation.call_centre_line", line)
    messages = _run(_tracker(2, [("segunda_via_boleto", 0.4)]))
    assert "0800 888 9504" in messages[0]["text"]
    assert messages[0]["buttons"][0]["payload"] == "/falar_com_atendente"


def test_an_understood_message_the_dialogue_cannot_place_is_forgotten():
    latest = {"intent": {"name": "informar"}, "text": "2026", "intent_ranking": []}
    tracker = Tracker("u", {}, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionFallback().run(dispatcher, tracker, {}))
    assert events == [{"event": "rewind", "timestamp": None}]
    assert "repetir" in dispatcher.messages[0]["text"]


def _protocol_message(ranking: list[tuple[str, float]], entities: list[dict]) -> dict:
    return {
        "intent": {"name": "nlu_fallback"},
        "text": "acompanhar o protocolo 41901020261130000001 da empresa",
        "entities": entities,
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.55}]
        + [{"name": name, "confidence": c} for name, c in ranking],
    }


NUMBER = [{"entity": "protocolo", "value": "41901020261130000001", "start": 23, "end": 43}]


def test_a_protocol_number_torn_between_the_two_lookups_is_the_lookup_by_number():
    # NLU split between the public lookup and the company's protocols (0.47 / 0.45): not a miss
    latest = _protocol_message([("empresa_protocolos", 0.47), ("consultar_protocolo", 0.45)], NUMBER)
    tracker = Tracker("u", {}, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionFallback().run(dispatcher, tracker, {}))
    assert dispatcher.messages == []  # no "Você quis dizer…?"
    assert events[0]["event"] == "action" and events[0]["name"] == "action_listen"
    user = events[1]
    assert user["event"] == "user" and user["text"] == latest["text"]
    assert user["parse_data"]["intent"]["name"] == "consultar_protocolo"
    assert user["parse_data"]["entities"] == NUMBER  # the number goes on to the lookup (whose: its rules)


def test_without_a_number_or_with_another_request_in_the_running_it_is_a_miss():
    for ranking, entities in (
        ([("empresa_protocolos", 0.47), ("consultar_protocolo", 0.45)], []),
        ([("consultar_protocolo", 0.47), ("status_reembolso", 0.45)], NUMBER),
    ):
        tracker = Tracker("u", {}, _protocol_message(ranking, entities), [], False, None, {}, "action_listen")
        dispatcher = CollectingDispatcher()
        asyncio.run(ActionFallback().run(dispatcher, tracker, {}))
        assert "Você quis dizer" in dispatcher.messages[0]["text"]
