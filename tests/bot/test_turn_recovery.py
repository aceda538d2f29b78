"""bot/turn_recovery.py without the whole stack: what counts as "tenta de novo", which message a retry
replays, how the apology reads, and the deadline on a call to an action server that never answers.
The whole path (Rasa, a frozen action server, REST and WhatsApp) is in tests/integration/test_falhas.py
and tests/channels/test_channel_faults.py."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import turn_recovery
from bot.turn_recovery import TURN_FAILED, ActionServerFailed, apology, is_retry


@pytest.mark.parametrize(
    "text",
    [
        "tenta de novo",
        "Tentar novamente!",
        "de novo",
        "tentar de novo",
        "pode tentar de novo por favor",
        "tenta ai",
        "TENTE OUTRA VEZ",
        "tenta denovo pfv",
    ],
)
def test_retry_phrases(text):
    assert is_retry(text)


@pytest.mark.parametrize(
    "text",
    ["quero tentar o reembolso", "novo boleto", "de novo não", "tentei pagar o boleto", "", None, "2"],
)
def test_not_retry_phrases(text):
    assert not is_retry(text)


def _tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("user-1", list(events))


def _apology_event(action: str = "validate_x") -> BotUttered:
    return BotUttered("Desculpe…", metadata={TURN_FAILED: action})


def test_a_retry_replays_the_message_of_the_failed_turn():
    failed = UserUttered("100200300401", message_id="m2")
    tracker = _tracker(
        ActionExecuted("action_listen"),
        UserUttered("quero a segunda via", message_id="m1"),
        BotUttered("Qual é a carteirinha?"),
        ActionExecuted("action_listen"),
        failed,
        _apology_event(),
        ActionExecuted("action_listen"),
    )
    assert turn_recovery._failed_message(tracker) is failed


def test_nothing_is_replayed_once_the_user_said_something_else_or_in_a_new_session():
    said_since = _tracker(
        UserUttered("100200300401"), _apology_event(), ActionExecuted("action_listen"), UserUttered("oi")
    )
    assert turn_recovery._failed_message(said_since) is None
    new_session = _tracker(UserUttered("100200300401"), _apology_event(), SessionStarted())
    assert turn_recovery._failed_message(new_session) is None
    never_failed = _tracker(UserUttered("oi"), BotUttered("Olá!"), ActionExecuted("action_listen"))
    assert turn_recovery._failed_message(never_failed) is None


async def test_the_third_apology_in_a_row_reads_differently(monkeypatch):
    async def line():
        return "a nossa central 24h: 0800 888 9504"

    monkeypatch.setattr(turn_recovery, "_call_centre_line", line)
    events = [UserUttered("quero ver minha carteirinha")]
    texts = []
    for _ in range(4):
        said = await apology(_tracker(*events), "validate_identidade_form")
        texts.append(said.text)
        assert "0800 888 9504" in said.text
        assert [b["title"] for b in said.data["buttons"]] == ["Tentar de novo", "Falar com atendente"]
        events += [said, ActionExecuted("action_listen"), UserUttered("quero ver minha carteirinha")]
    assert len(set(texts[:3])) == 3 and texts[3] == texts[2], texts


async def test_an_emergency_gets_its_call_for_help_even_when_the_action_failed(monkeypatch):
    async def line():
        return "a nossa central 24h: 0800 888 9504"

    monkeypatch.setattr(turn_recovery, "_call_centre_line", line)
    said = await apology(_tracker(UserUttered("meu pai ta com dor no peito e falta de ar")), "action_emergencia")
    assert "192" in said.text and "pronto-socorro" in said.text and "0800 888 9504" in said.text
    said = await apology(_tracker(UserUttered("quero muito morrer")), "action_emergencia")
    assert "188" in said.text


async def test_a_failed_handoff_gives_the_phone_instead_of_the_same_button(monkeypatch):
    async def line():
        return "a nossa central 24h: 0800 888 9504"

    monkeypatch.setattr(turn_recovery, "_call_centre_line", line)
    said = await apology(_tracker(UserUttered("atendente")), turn_recovery.HANDOFF_ACTION)
    assert "0800 888 9504" in said.text
    assert [b["title"] for b in said.data["buttons"]] == ["Tentar de novo"]


async def test_a_call_to_an_action_server_that_never_answers_ends_at_the_deadline(monkeypatch):
    received = asyncio.Event()
    never = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        received.set()
        await never.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/webhook", hang)
    server = TestServer(app)
    await server.start_server()
    monkeypatch.setenv(turn_recovery.ACTION_TIMEOUT_ENV, "0.5")
    turn_recovery.install()
    action = RemoteAction("action_x", EndpointConfig(str(server.make_url("/webhook"))))
    domain = Domain.empty()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ActionServerFailed):
        await action.run(CollectingOutputChannel(), None, _tracker(UserUttered("oi")), domain)
    assert received.is_set() and loop.time() - started < 3
    never.set()
    await server.close()


async def test_the_replayed_message_keeps_the_files_the_failed_one_carried(monkeypatch):
    handled = []

    async def handle(processor, message, tracker):
        handled.append(message)

    monkeypatch.setattr(turn_recovery, "_handle_message_with_tracker", handle)
    files = {"attachments": [{"file_id": "f-1", "filename": "recibo.pdf"}]}
    tracker = _tracker(
        UserUttered("/enviar_documento", message_id="m1", metadata=files),
        _apology_event(),
        ActionExecuted("action_listen"),
    )
    retry = UserMessage("tenta de novo", CollectingOutputChannel(), "user-1", message_id="m2", metadata={})
    await turn_recovery._log_message_replaying(None, retry, tracker)
    [message] = handled
    assert message.text == "/enviar_documento" and message.metadata == files and message.message_id == "m2"
