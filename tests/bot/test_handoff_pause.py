"""The handoff action pauses the bot when an agent takes the conversation now, and logs the
bot's action_listen itself (Rasa does not, paused): an emergency typed while paused is then a
fresh turn for the rules — without it the emergency rule did not match and the user got the
"me perdi" fallback (tests/integration/test_emergencia.py, within opening hours)."""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import handoff as handoff_action
from bot.backend.handoffs import Handoff


def _tracker() -> Tracker:
    latest = {"intent": {"name": "falar_com_atendente", "confidence": 1.0}, "text": "quero falar com um atendente"}
    return Tracker("u", {}, latest, [], False, None, {}, "action_listen")


async def _events(monkeypatch, pause: bool) -> tuple[list[dict], CollectingDispatcher]:
    async def open_handoff(request):
        return Handoff(protocol="41901020261130000001", message="Vou te passar para um atendente.", pause=pause)

    monkeypatch.setattr(handoff_action.handoffs, "open_handoff", open_handoff)
    dispatcher = CollectingDispatcher()
    events = await handoff_action.ActionContatoAtendente().run(dispatcher, _tracker(), {})
    return events, dispatcher


async def test_paused_now_the_bot_pauses_and_listens(monkeypatch):
    events, dispatcher = await _events(monkeypatch, pause=True)
    assert dispatcher.messages[0]["text"] == "Vou te passar para um atendente."
    assert [e["event"] for e in events[-2:]] == ["pause", "action"]
    assert events[-1]["name"] == "action_listen"


async def test_a_call_back_ticket_does_not_pause(monkeypatch):
    events, _ = await _events(monkeypatch, pause=False)
    assert not any(e["event"] in ("pause", "action") for e in events)
