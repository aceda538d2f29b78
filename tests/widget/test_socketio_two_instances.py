"""Two Rasa instances behind a load balancer, as the widget sees them: two processes of
tests/widget/fake_rasa.py (each the project's socket.io channel, channels.web.socketio_channel, in a Sanic
app of its own, on two loopback ports) with CHANNEL_REDIS_URL on the same Redis, the same prefix and the
same WIDGET_SESSION_SECRET.

- a browser (python-socketio's AsyncClient) is connected to instance A; what instance B's output channel
  sends (what Rasa does with an agent's reply, through whichever instance the backend called), to the
  conversation's room or to the socket's own id, reaches it through python-socketio's AsyncRedisManager,
  and nobody else on A gets it;
- a file uploaded through B is sent to the assistant by a message on A (the upload registry in Redis).

Needs TEST_REDIS_URL (CI sets it; skipped with the reason otherwise). Each test has a prefix of its own
(its socket.io channel and keys), so test sessions sharing a Redis never meet."""

from __future__ import annotations

import asyncio
import os
import secrets

import aiohttp
import pytest
import redis.asyncio as aioredis
from widget_support import Chat, FakeRasaProcess

from channels.web.socketio_channel import SessionSigner
from scripts.stack import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL")
SECRET = "segredo-compartilhado-das-instancias"
PDF = b"%PDF-1.4 recibo de consulta"
WAIT_S = 30


class Cluster:
    def __init__(self, a: FakeRasaProcess, b: FakeRasaProcess, prefix: str) -> None:
        self.a, self.b, self.prefix = a, b, prefix

    async def push(self, instance: FakeRasaProcess, recipient: str, text: str) -> None:
        """The instance's output channel sends `text` to `recipient` (a conversation or a socket id)."""
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{instance.url}/_push", json={"recipient": recipient, "text": text}) as answer:
                assert answer.status == 200, await answer.text()


@pytest.fixture
async def cluster(tmp_path):
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL not set (CI sets it to the machine's Redis): two instances need a Redis")
    prefix = f"teste-{secrets.token_hex(8)}:"
    env = {"CHANNEL_REDIS_URL": REDIS_URL, "CHANNEL_STATE_PREFIX": prefix, "WIDGET_SESSION_SECRET": SECRET}
    a = FakeRasaProcess(free_port(), "http://127.0.0.1:1", var_dir=tmp_path / "a", env=env)
    # one backend for both (A plays it), as in production: B hands the widget's files to it too
    b = FakeRasaProcess(
        free_port(), "http://127.0.0.1:1", var_dir=tmp_path / "b", env={**env, "FAKE_RASA_BACKEND_URL": a.url}
    )
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.gather(*(loop.run_in_executor(None, fake.wait_ready) for fake in (a, b)))
        # both instances listen to the channel's socket.io messages from the start (not from their first
        # browser): an emit made on B before that would be lost for A
        deadline = loop.time() + WAIT_S
        while (await client.pubsub_numsub(f"{prefix}socketio"))[0][1] < 2:
            assert loop.time() < deadline, "the instances never subscribed to their socket.io channel"
            await asyncio.sleep(0.05)
        yield Cluster(a, b, prefix)
    finally:
        a.stop()
        b.stop()
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.close()


async def test_what_instance_b_sends_reaches_the_browser_connected_to_instance_a(cluster):
    async with Chat(cluster.a.url) as chat, Chat(cluster.a.url) as bystander:
        conversation = SessionSigner(SECRET).verify(chat.session)
        assert conversation is not None
        assert cluster.b.recorded()["members"] == {}  # nobody is connected to B

        # an agent's reply, sent by Rasa through B: to the conversation (its socket.io room)...
        await cluster.push(cluster.b, conversation.sender_id, "Aqui é a Ana, do atendimento. Como posso ajudar?")
        assert await chat.wait_answers(1, WAIT_S) == [{"text": "Aqui é a Ana, do atendimento. Como posso ajudar?"}]
        # ...or to the socket's own id
        await cluster.push(cluster.b, chat.client.get_sid(), "Um momento, por favor.")
        answers = await chat.wait_answers(2, WAIT_S)
        assert answers[1] == {"text": "Um momento, por favor."}

        # nothing of it reached another browser on A: B publishes in order, A delivers in order, so the
        # bystander's own message arrives after anything that would have been misdelivered to it
        await cluster.push(cluster.b, bystander.client.get_sid(), "Só para você.")
        assert await bystander.wait_answers(1, WAIT_S) == [{"text": "Só para você."}]
        assert len(chat.answers) == 2

        # and the conversation goes on at A as usual
        assert await chat.say("oi") == "Você disse: oi"


async def test_a_file_uploaded_through_b_is_sent_with_a_message_on_a(cluster):
    async with Chat(cluster.a.url) as chat:
        form = aiohttp.FormData()
        form.add_field("session_id", chat.session)
        form.add_field("file", PDF, filename="recibo.pdf", content_type="application/pdf")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{cluster.b.url}/webhooks/socketio/upload", data=form) as answer:
                assert answer.status == 201, await answer.text()
                upload_id = (await answer.json())["upload_id"]

        reply = await chat.say("/enviar_documento", {"upload_ids": [upload_id]})
        assert reply == f"Recebi o arquivo recibo.pdf ({len(PDF)} bytes)."
        recorded = cluster.a.recorded()
        [sent] = recorded["files"]
        assert (sent["channel"], sent["conversation_id"]) == ("socketio", recorded["messages"][-1]["sender"])
        assert sent["start"] == "%PDF-" and sent["read"] == len(PDF)
        assert recorded["uploads"]["pending_files"] == 0  # taken on A, gone for B as well
        assert cluster.b.recorded()["uploads"]["pending_files"] == 0
