"""channels.web.socketio_channel against a Socket.IO client (python-socketio's, no browser): with
session_persistence the answers reach the session's room, also after reconnecting with the same
session id, and a bare custom payload arrives as it is. Rasa 3.6's own channel, with the same settings,
loses the answers (it does not await enter_room): the reason the fixed channel exists."""
from __future__ import annotations

import asyncio

import pytest
import socketio

from widget_support import FakeRasaProcess, free_port, hang_up

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def fake_factory(tmp_path):
    started = []

    async def start(*options: str) -> FakeRasaProcess:
        fake = FakeRasaProcess(free_port(), "http://127.0.0.1:1", *options, var_dir=tmp_path / "rasa-var")
        started.append(fake)
        await asyncio.get_running_loop().run_in_executor(None, fake.wait_ready)
        return fake

    yield start
    for fake in started:
        fake.stop()


async def talk(url: str, session_id: str | None, text: str, wait_s: float = 5) -> tuple[str, list]:
    client = socketio.AsyncClient(reconnection=False)
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    answers: list = []
    client.on("session_confirm", lambda sid: confirmed.done() or confirmed.set_result(sid))
    client.on("bot_uttered", answers.append)
    await client.connect(url, transports=["polling"])  # engineio's websocket client wants a newer aiohttp
    try:
        await client.emit("session_request", {"session_id": session_id})
        session = await asyncio.wait_for(confirmed, 10)
        await client.emit("user_uttered", {"message": text, "session_id": session})
        for _ in range(int(wait_s * 10)):
            if len(answers) >= 3 or (answers and text != "mostre tudo"):
                break
            await asyncio.sleep(0.1)
        return session, answers
    finally:
        await hang_up(client)


async def test_answers_reach_the_session_and_custom_payloads_arrive_bare(fake_factory):
    fake = await fake_factory()
    session, answers = await talk(fake.url, None, "/esqueci_senha")
    assert answers == [{"text": "Vamos lá. Qual é o número da sua carteirinha?"}]
    again, answers = await talk(fake.url, session, "mostre tudo")  # a reload: same session id
    assert again == session
    assert answers[2] == {"type": "document", "url": f"{fake.url}/boleto.pdf", "filename": "boleto-2025-05.pdf",
                          "caption": "Aqui está a segunda via."}
    assert answers[1] == {"attachment": {"type": "image", "payload": {"src": f"{fake.url}/img/cartao.png"}}}
    assert [m["sender"] for m in fake.recorded()["messages"]] == [session, session]


async def test_rasa_own_channel_loses_the_answers(fake_factory):
    fake = await fake_factory("rasa")
    session, answers = await talk(fake.url, None, "/esqueci_senha", wait_s=3)
    assert fake.recorded()["messages"][0]["sender"] == session  # the bot got it and answered...
    assert answers == []  # ...to a room the browser never joined
