"""What the identity forms do with the conversation's verification: one made without CPF serves
registration only (other flows ask for the identity again, saying why), one made through another
channel under the same sender id is not this person's (forgotten, identity asked); every verified
GET names its channel."""

from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import bot.actions.identity as identity
from bot.actions.registration import ValidateCadastroForm
from bot.actions.services import ValidateIdentidadeForm
from bot.actions.verified import CPF_NEEDED_TEXT, verified_for, verified_headers

DOMAIN = {"forms": yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())["forms"]}
NO_CPF_INFO = {
    "first_name": "Ana",
    "email_masked": None,
    "has_account": False,
    "plan_active": True,
    "dependents": 0,
    "scope": "registration",
    "channel": "socketio",
}
FULL_INFO = {**NO_CPF_INFO, "first_name": "Maria", "scope": "full"}


def tracker(channel: str, info: dict | None, form: str = "identidade_form") -> Tracker:
    return Tracker(
        sender_id="widget-123",
        slots={"requested_slot": None, "identidade_token": "tok" if info else None, "identidade_info": info},
        latest_message={"text": "quero ver minha carteirinha", "intent": {"name": "cartao_virtual"}, "entities": []},
        events=[{"event": "user", "text": "quero ver minha carteirinha", "input_channel": channel}],
        paused=False,
        followup_action=None,
        active_loop={"name": form},
        latest_action_name="action_registrar_servico",
    )


@pytest.fixture(autouse=True)
def no_mother_name(monkeypatch):
    async def no() -> bool:
        return False

    monkeypatch.setattr(identity, "_mother_name_required", no)


def _texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


def _slot_events(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_a_verification_without_cpf_does_not_open_the_virtual_card():
    t = tracker("socketio", NO_CPF_INFO)
    assert not verified_for(t) and verified_for(t, allows_no_cpf=True)
    dispatcher = CollectingDispatcher()
    events = await ValidateIdentidadeForm().run(dispatcher, t, DOMAIN)
    assert CPF_NEEDED_TEXT in _texts(dispatcher)
    assert _slot_events(events)["requested_slot"] == "login"  # the identity is asked again, with the CPF


async def test_a_verification_without_cpf_still_serves_registration():
    dispatcher = CollectingDispatcher()
    events = await ValidateCadastroForm().run(dispatcher, tracker("socketio", NO_CPF_INFO, "cadastro_form"), DOMAIN)
    assert CPF_NEEDED_TEXT not in _texts(dispatcher)
    assert _slot_events(events).get("requested_slot") != "login"


async def test_a_verification_made_on_another_channel_is_forgotten():
    t = tracker("rest", FULL_INFO)  # the widget's sender id, arriving through the REST channel
    assert not verified_for(t)
    dispatcher = CollectingDispatcher()
    events = await ValidateIdentidadeForm().run(dispatcher, t, DOMAIN)
    slots = _slot_events(events)
    assert slots["identidade_token"] is None and slots["identidade_info"] is None
    assert slots["requested_slot"] == "login"
    assert "Maria" not in _texts(dispatcher)


async def test_a_full_verification_on_its_channel_passes_through():
    t = tracker("socketio", FULL_INFO)
    assert verified_for(t)
    dispatcher = CollectingDispatcher()
    events = await ValidateIdentidadeForm().run(dispatcher, t, DOMAIN)
    assert _slot_events(events).get("requested_slot") is None and dispatcher.messages == []


def test_verified_requests_name_their_channel():
    headers = verified_headers(tracker("socketio", FULL_INFO))
    assert headers == {"X-Verification": "tok", "X-Conversation-Id": "widget-123", "X-Channel": "socketio"}


def test_the_handoff_transcript_leaves_out_what_came_through_another_channel():
    from bot.actions.handoff import transcript

    events = [
        {"event": "user", "text": "quero minha carteirinha", "input_channel": "socketio"},
        {"event": "bot", "text": "Maria Aparecida Santos, carteirinha 1002 0030 0401"},
        {"event": "user", "text": "quero falar com um atendente", "input_channel": "rest"},
        {"event": "bot", "text": "Vou chamar um atendente."},
    ]
    t = Tracker("widget-123", {}, {"text": "quero falar com um atendente"}, events, False, None, {}, "action_listen")
    assert [line["text"] for line in transcript(t)] == ["quero falar com um atendente", "Vou chamar um atendente."]
    back = events + [{"event": "user", "text": "oi de novo", "input_channel": "socketio"}]
    t = Tracker("widget-123", {}, {"text": "oi de novo"}, back, False, None, {}, "action_listen")
    assert [line["text"] for line in transcript(t)] == ["oi de novo"]
