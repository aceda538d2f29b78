"""channels.web.socketio_channel against a Socket.IO client (python-socketio's, no browser).

- with session_persistence the answers reach the session's room, also after reconnecting with the id
  the server issued (a reload), and a bare custom payload arrives as it is; Rasa 3.6's own channel,
  with the same settings, loses the answers (it does not await enter_room);
- the session id is issued and signed by the server: a second client that replays anything but the
  victim's valid signed id (the raw random part, the conversation's sender_id, the id with a tampered
  signature or expiry, no signature) gets a conversation of its own and none of the victim's messages,
  and cannot post into the victim's conversation either;
- nothing grows with session_requests: a client sending a thousand of them (long junk ids, fresh ones)
  leaves one room per socket and nothing in the channel's registries;
- SessionSigner itself: expiry, another secret, the sender_id derivation."""

from __future__ import annotations

import asyncio

import pytest
from widget_support import Chat, FakeRasaProcess

from channels.web.socketio_channel import TOKEN_RE, SessionSigner
from scripts.stack import free_port

SECRET = "segredo-de-teste-com-mais-de-16"


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


def rid(token: str) -> str:
    return token.split(".")[0]


async def test_answers_reach_the_session_and_a_reload_with_the_signed_id_resumes_it(fake_factory):
    fake = await fake_factory()
    async with Chat(fake.url) as chat:
        assert TOKEN_RE.match(chat.session)  # issued by the server: <random>.<expires>.<signature>
        assert await chat.say("/esqueci_senha") == "Vamos lá. Qual é o número da sua carteirinha?"
    first = chat.session
    async with Chat(fake.url, first) as chat:  # a reload: the browser sends back the id it was given
        assert rid(chat.session) == rid(first) and TOKEN_RE.match(chat.session)
        await chat.say("mostre tudo")
        answers = await chat.wait_answers(3)
    assert answers[2] == {
        "type": "document",
        "url": f"{fake.url}/boleto.pdf",
        "filename": "boleto-2025-05.pdf",
        "caption": "Aqui está a segunda via.",
    }
    assert answers[1] == {"attachment": {"type": "image", "payload": {"src": f"{fake.url}/img/cartao.png"}}}
    senders = [m["sender"] for m in fake.recorded()["messages"]]
    assert len(senders) == 2 and senders[0] == senders[1]  # the same Rasa conversation
    assert senders[0] not in first  # the sender_id is derived: it is not any part of the browser's id


async def recorded_when(fake: FakeRasaProcess, condition, timeout_s: float = 10) -> dict:
    """The fake's record once `condition(record)` holds (polled, with a deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition(record := await loop.run_in_executor(None, fake.recorded)):
        assert loop.time() < deadline, f"the fake Rasa never got there: {record}"
        await asyncio.sleep(0.05)
    return record


async def test_rasa_own_channel_loses_the_answers(fake_factory):
    fake = await fake_factory("rasa")
    async with Chat(fake.url) as chat:
        await chat.client.emit("user_uttered", {"message": "/esqueci_senha", "session_id": chat.session})
        recorded = await recorded_when(fake, lambda record: record["answered"] == 1)
        assert recorded["messages"][0]["sender"] == chat.session  # the bot got it and has answered...
        assert recorded["members"].get(chat.session, 0) == 0  # ...to a room the browser never joined
        # what the server sends this socket afterwards arrives after anything sent to it before
        assert await chat.request(chat.session) == chat.session
        assert chat.answers == []


def spoofs_of(victim_token: str, victim_sender: str) -> dict[str, str]:
    """What a second client could send instead of the victim's valid id."""
    parts = victim_token.split(".")
    spoofs = {"raw id": victim_token.split(".")[0], "sender_id": victim_sender}
    if len(parts) == 3:
        random, expires, signature = parts
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        spoofs.update(
            {
                "no signature": f"{random}.{expires}",
                "tampered signature": f"{random}.{expires}.{flipped}",
                "later expiry, same signature": f"{random}.{int(expires) + 3600}.{signature}",
                "empty signature": f"{random}.{expires}.",
                "id with a suffix": victim_token + "x",
            }
        )
    return spoofs


async def test_a_replayed_or_forged_session_id_never_reaches_the_victims_conversation(fake_factory):
    fake = await fake_factory()
    async with Chat(fake.url) as victim:
        assert await victim.say("oi") == "Você disse: oi"
        victim_sender = fake.recorded()["messages"][-1]["sender"]
        for name, spoof in spoofs_of(victim.session, victim_sender).items():
            async with Chat(fake.url, spoof) as attacker:
                secret = await victim.say("meu cpf é 945.807.302-24")
                assert secret == "Você disse: meu cpf é 945.807.302-24"
                # the attacker's own answer comes after the victim's (in emit order): had the victim's
                # answer gone to the attacker's socket too, it would be there by then
                await attacker.say("oi", session_id=spoof)
                assert attacker.answers == [{"text": "Você disse: oi"}], name
                assert fake.recorded()["messages"][-1]["sender"] != victim_sender, name
                assert rid(attacker.session) != rid(victim.session), name
                assert TOKEN_RE.match(attacker.session), name  # a fresh conversation of its own
        # a client that skips session_request and posts with the victim's ids is ignored
        async with Chat(fake.url, request=False) as intruder:
            for spoof in spoofs_of(victim.session, victim_sender).values():
                await intruder.client.emit("user_uttered", {"message": "intruso", "session_id": spoof})
            intruder.session = await intruder.request(None)  # handled after the messages above
            assert await intruder.say("minha vez") == "Você disse: minha vez"
        assert await victim.say("ainda aqui") == "Você disse: ainda aqui"
        messages = fake.recorded()["messages"]
        assert "intruso" not in [m["text"] for m in messages]
        assert [m["text"] for m in messages if m["sender"] == victim_sender] == [
            "oi",
            *["meu cpf é 945.807.302-24"] * len(spoofs_of(victim.session, victim_sender)),
            "ainda aqui",
        ]


async def test_session_requests_leave_nothing_behind(fake_factory):
    fake = await fake_factory()
    async with Chat(fake.url) as chat, Chat(fake.url) as other:
        baseline = fake.recorded()["rooms"]
        for batch in range(100):  # ten at a time: engine.io takes at most 16 packets in one poll
            for number in range(batch * 10, batch * 10 + 10):
                asked = None if number % 3 == 0 else f"{number:06d}" + "x" * 1000 if number % 3 == 1 else number
                await chat.client.emit("session_request", {"session_id": asked})
            for _ in range(10):
                await asyncio.wait_for(chat.confirms.get(), 10)
        recorded = fake.recorded()
        assert recorded["rooms"] == baseline  # each socket: its own room and one conversation room
        assert recorded["uploads"] == {
            "rate_sessions": 0,
            "file_sessions": 0,
            "pending_files": 0,
            "pending_bytes": 0,
            "in_flight": 0,
        }
        # the socket now speaks for the last conversation it was given, not for any earlier one
        last = await chat.request(None)
        assert await chat.say("depois") == "Você disse: depois"
        assert await other.say("outro") == "Você disse: outro"
        senders = [m["sender"] for m in fake.recorded()["messages"]]
        assert len(set(senders)) == 2 and TOKEN_RE.match(last)


def test_signed_ids_expire_and_belong_to_their_secret():
    now = [1_700_000_000.0]
    signer = SessionSigner(SECRET, ttl_s=3600, clock=lambda: now[0])
    session = signer.issue()
    assert signer.verify(session.token) == session
    resumed, again = signer.resume_or_issue(session.token)
    assert again and resumed.sender_id == session.sender_id
    assert SessionSigner(SECRET + "-outro", clock=lambda: now[0]).verify(session.token) is None
    fresh, again = SessionSigner(SECRET + "-outro", clock=lambda: now[0]).resume_or_issue(session.token)
    assert not again and fresh.sender_id != session.sender_id
    for junk in (None, 42, "", "a" * 5000, session.sender_id, session.token.upper(), {"token": session.token}):
        assert signer.verify(junk) is None
    now[0] += 3601
    assert signer.verify(session.token) is None  # expired
    assert signer.verify(resumed.token) is None
    assert signer.issue(session.token.split(".")[0]).sender_id == session.sender_id  # sender: from the random part
    with pytest.raises(ValueError, match="at least"):
        SessionSigner("curto")


class _Transport:
    """An asyncio transport: once closed (the WebSocket ended), it no longer knows its protocol."""

    def __init__(self, protocol) -> None:
        self.protocol = protocol

    def get_protocol(self):
        return self.protocol


class _Protocol:
    websocket = None


class _Request:
    def __init__(self) -> None:
        self.transport = _Transport(_Protocol())


async def test_an_upgraded_request_gets_no_http_answer_after_its_websocket_ends(monkeypatch):
    """engine.io answers the request it upgraded once the WebSocket ends; Sanic 21.12 wrote that answer on
    the closed connection and logged an ERROR per widget user who left under load (bench-cluster,
    "Exception occurred while handling uri: ...transport=websocket..."). The channel's server returns
    nothing for an upgraded request, marked so that Sanic accepts it, and answers every other request."""
    import engineio

    from channels.web.socketio_channel import _EngineIOServer, _SocketIOServer

    answer = object()

    async def engineio_answer(self, request):
        """engine.io's handling: for an upgrade, the handshake, the WebSocket's life, then its close."""
        if request.upgrade:
            request.transport.protocol.websocket = object()
            request.transport.protocol = None
        return answer

    monkeypatch.setattr(engineio.AsyncServer, "handle_request", engineio_answer)
    server = _SocketIOServer(async_mode="sanic", cors_allowed_origins=[])
    assert isinstance(server.eio, _EngineIOServer)
    assert hasattr(server.eio.handle_request, "is_websocket")  # Sanic's mark for a handler that may return None
    upgrade, poll = _Request(), _Request()
    upgrade.upgrade, poll.upgrade = True, False
    assert await server.eio.handle_request(upgrade) is None
    assert await server.eio.handle_request(poll) is answer  # polling, refused upgrades, errors
