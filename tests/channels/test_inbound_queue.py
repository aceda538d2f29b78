"""The durable inbound queue (channels/inbound_queue.py, INBOUND_AMQP_URL): WhatsApp and Telegram webhooks
kept in RabbitMQ before they are answered, then handled by the queue's consumer, in order per conversation,
once. The channels run in real (in-process) Sanic servers against the fake Twilio / Telegram with a
stand-in for Rasa; the consumer that gets killed runs in a process of its own (inbound_worker.py).

Without services: the settings, the shard of a conversation, the envelope, and `forget` and the answered
marks in memory. With TEST_AMQP_URL (and TEST_REDIS_URL for what must outlive a process, and for the
instances sharing the shards through Redis; the ownership itself: test_shard_owners.py): the rest,
skipped with the reason otherwise (CI sets both and turns a skip into a failure). Each test has queues
(and Redis keys) under a prefix of its own, deleted at the end."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import os
import secrets
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aio_pika
import pytest
import redis.asyncio as aioredis
from amqp_support import AMQP_URL, NO_AMQP, NO_REDIS, REDIS_URL, WAIT_S, TcpProxy, delete_queues, ready_messages
from fakes import ChannelServer, wait_until
from inbound_worker import WORKER_REPLY
from twilio.request_validator import RequestValidator

from channels.inbound_queue import (
    DEFAULT_QUEUE_PREFIX,
    DEFAULT_SHARDS,
    Inbound,
    InboundConfig,
    InboundQueue,
    InboundSettingsError,
    InboundStats,
    MemoryAnswered,
    RedisAnswered,
    inbound_queue,
)
from channels.shard_owners import Membership, owned_by
from channels.shared_state import MemorySeenIds, RedisChannelState, RedisSeenIds, channel_state
from channels.telegram import TelegramInput
from channels.whatsapp import WhatsAppInput

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PUBLIC = "https://assistente.exemplo.com.br"
PATH = "/webhooks/whatsapp/webhook"
TG_PATH = "/webhooks/telegram/webhook"
TG_SECRET = "s3gredo-do-webhook"
MARIA = "whatsapp:+5579998110001"
JOSE = "whatsapp:+5579998110002"
CHAT = 777001
SHARDS = 4
GREETING = "Olá! Você quer continuar?\n\n1. Sim\n2. Não"
_ids = itertools.count(1)


def form(sender: str, body: str) -> dict:
    return {
        "MessageSid": f"SM{secrets.token_hex(4)}{next(_ids):024d}",
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
    }


async def say(server: ChannelServer, params: dict) -> int:
    signature = RequestValidator("twilio-auth-token").compute_signature(PUBLIC + PATH, params)
    status, _ = await server.post(PATH, data=params, headers={"X-Twilio-Signature": signature})
    return status


def text_update(text: str, chat: int = CHAT) -> dict:
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": 1700000000,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Maria"},
            "text": text,
        },
    }


def press(data: str, keyboard: list, chat: int = CHAT) -> dict:
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": f"cb{next(_ids)}",
            "chat_instance": "ci",
            "data": data,
            "from": {"id": chat, "is_bot": False, "first_name": "Maria"},
            "message": {
                "message_id": 55,
                "date": 1700000000,
                "chat": {"id": chat, "type": "private"},
                "text": "Olá! Você quer continuar?",
                "reply_markup": {"inline_keyboard": keyboard},
            },
        },
    }


async def tg_send(server: ChannelServer, update: dict) -> int:
    status, _ = await server.post(TG_PATH, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET})
    return status


async def until(queue: InboundQueue | None, predicate: Callable[[InboundStats], bool], what: str) -> None:
    """Waits (bounded) until the queue's counts satisfy `predicate`: they change only when something happened."""
    assert queue is not None
    try:
        await asyncio.wait_for(queue.wait_for(predicate), WAIT_S)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {WAIT_S} s waiting for {what}: {queue.stats}") from None


def bodies(twilio, to: str) -> list[str]:
    return [message["Body"] for message in twilio.to(to)]


# ---------------------------------------------------------------------------------------------------
# without services


def test_the_settings_come_from_the_environment():
    assert InboundConfig.from_env({}) is None  # no INBOUND_AMQP_URL: the in-process lanes, as before
    assert InboundConfig.from_env({"INBOUND_AMQP_URL": "  "}) is None
    config = InboundConfig.from_env({"INBOUND_AMQP_URL": "amqp://guest:segredo@rabbit:5672/"})
    assert config is not None
    assert (config.shards, config.queue_prefix) == (DEFAULT_SHARDS, DEFAULT_QUEUE_PREFIX) == (32, "assistente.inbound")
    assert config.prefetch == 8
    assert config.queues("whatsapp")[:2] == ["assistente.inbound.whatsapp.0", "assistente.inbound.whatsapp.1"]
    assert "segredo" not in repr(config)
    custom = InboundConfig.from_env(
        {
            "INBOUND_AMQP_URL": "amqps://r/",
            "INBOUND_SHARDS": "32",
            "INBOUND_PREFETCH": "1",
            "INBOUND_QUEUE_PREFIX": "op2.entrada",
        }
    )
    assert custom is not None and custom.shards == 32 and custom.queue("telegram", 31) == "op2.entrada.telegram.31"
    assert custom.prefetch == 1
    for wrong in (
        {"INBOUND_AMQP_URL": "redis://r/"},
        {"INBOUND_AMQP_URL": "amqp://r/", "INBOUND_SHARDS": "0"},
        {"INBOUND_AMQP_URL": "amqp://r/", "INBOUND_SHARDS": "oito"},
        {"INBOUND_AMQP_URL": "amqp://r/", "INBOUND_PREFETCH": "0"},
        {"INBOUND_AMQP_URL": "amqp://r/", "INBOUND_PUBLISH_TIMEOUT_S": "0"},
    ):
        with pytest.raises(InboundSettingsError):
            InboundConfig.from_env(wrong)


def test_without_inbound_amqp_url_the_channels_have_no_queue(monkeypatch):
    monkeypatch.delenv("INBOUND_AMQP_URL", raising=False)
    channel = WhatsAppInput("AC" + "1" * 32, "token", "whatsapp:+14155238886", PUBLIC)
    assert channel.inbound is None  # the webhook hands the message to channel.lanes (test_whatsapp.py...)
    assert inbound_queue("telegram", channel_state({}), {}) is None


def test_a_conversation_always_has_the_same_shard():
    config = InboundConfig("amqp://r/", shards=8)
    # pinned: another hash would move conversations with messages in flight to other shards
    assert [config.shard("whatsapp", MARIA), config.shard("whatsapp", JOSE), config.shard("telegram", "777001")] == [
        2,
        1,
        2,
    ]
    senders = [f"whatsapp:+55799981{n:05d}" for n in range(2000)]
    counts = [sum(1 for s in senders if config.shard("whatsapp", s) == shard) for shard in range(config.shards)]
    assert min(counts) > 2000 / config.shards * 0.8  # every shard gets its part


def test_the_envelope_keeps_the_update_as_the_provider_sent_it():
    params = {"MessageSid": "SM1", "From": MARIA, "Body": "", "ProfileName": "Maria José", "NumMedia": "0"}
    inbound = Inbound("whatsapp", MARIA, "SM1", params)
    assert Inbound.decode(inbound.encode()) == inbound  # blank fields and accents included
    update = {"update_id": 5, "message": {"chat": {"id": CHAT}, "text": "ação", "entities": [{"offset": 0}]}}
    assert Inbound.decode(Inbound("telegram", str(CHAT), "5", update).encode()).payload == update
    for wrong in (b"{not json", b"[]", b'{"v": 2}', b'{"v": 1, "channel": "whatsapp", "sender": "x", "id": ""}'):
        with pytest.raises(ValueError, match=r"envelope|Expecting"):
            Inbound.decode(wrong)


@contextlib.asynccontextmanager
async def redis_prefix() -> AsyncIterator[tuple[aioredis.Redis, str]]:
    """A Redis client and a key prefix of this test alone (its keys deleted after)."""
    if not REDIS_URL:
        pytest.skip(NO_REDIS)
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = f"teste-{secrets.token_hex(8)}:"
    try:
        yield client, prefix
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.close()


@pytest.fixture(params=["memory", "redis"])
async def stores(request) -> AsyncIterator[tuple]:
    """(seen ids, answered marks), in memory or in Redis."""
    if request.param == "memory":
        yield MemorySeenIds(), MemoryAnswered()
        return
    async with redis_prefix() as (client, prefix):
        yield RedisSeenIds(client, prefix + "seen:whatsapp:"), RedisAnswered(client, prefix + "answered:whatsapp:")


async def test_a_forgotten_id_is_new_again(stores):
    """What the webhook does when RabbitMQ did not take the update: the provider's retry is not a repeat."""
    seen, _ = stores
    assert await seen.first_time("SM0001")
    assert not await seen.first_time("SM0001")
    await seen.forget("SM0001")
    assert await seen.first_time("SM0001")
    assert not await seen.first_time("SM0001")
    await seen.forget(None)  # no id: nothing to forget


async def test_answered_marks(stores):
    _, answered = stores
    assert not await answered.answered("SM0001")
    await answered.mark("SM0001")
    assert await answered.answered("SM0001") and not await answered.answered("SM0002")


# ---------------------------------------------------------------------------------------------------
# RabbitMQ


@pytest.fixture
def amqp_url() -> str:
    if not AMQP_URL:
        pytest.skip(NO_AMQP)
    return AMQP_URL


@pytest.fixture
async def inbound_env(amqp_url, monkeypatch) -> AsyncIterator[str]:
    """INBOUND_* for this test alone (its queues deleted after); the channels' state in memory unless the
    test asks for `shared_state`."""
    prefix = f"teste-{secrets.token_hex(6)}.inbound"
    monkeypatch.setenv("INBOUND_AMQP_URL", amqp_url)
    monkeypatch.setenv("INBOUND_QUEUE_PREFIX", prefix)
    monkeypatch.setenv("INBOUND_SHARDS", str(SHARDS))
    monkeypatch.setenv("INBOUND_PUBLISH_TIMEOUT_S", "2")
    monkeypatch.setenv("INBOUND_STOP_TIMEOUT_S", str(WAIT_S))
    monkeypatch.delenv("INBOUND_MAX_DELIVERIES", raising=False)
    monkeypatch.delenv("CHANNEL_REDIS_URL", raising=False)
    yield prefix
    await delete_queues(
        amqp_url, [f"{prefix}.{channel}.{n}" for channel in ("whatsapp", "telegram") for n in range(SHARDS)]
    )


@pytest.fixture
async def shared_state(inbound_env, monkeypatch) -> AsyncIterator[str]:
    """CHANNEL_REDIS_URL, under a prefix of this test alone: the seen ids and the answered marks outlive a
    process."""
    async with redis_prefix() as (_, prefix):
        monkeypatch.setenv("CHANNEL_REDIS_URL", REDIS_URL or "")
        monkeypatch.setenv("CHANNEL_STATE_PREFIX", prefix)
        yield prefix


def _quick(channel):
    assert channel.inbound is not None
    channel.inbound.config = dataclasses.replace(channel.inbound.config, initial_backoff_s=0.05, max_backoff_s=0.5)
    return channel


@pytest.fixture
def whatsapp(inbound_env, twilio) -> Callable[[], WhatsAppInput]:
    """Makes a WhatsApp channel (one Rasa instance) with the test's INBOUND_* settings."""

    def make() -> WhatsAppInput:
        channel = WhatsAppInput(
            twilio.account_sid, twilio.auth_token, "whatsapp:+14155238886", PUBLIC, api_base_url=twilio.url
        )
        channel.sender.retry_delays = (0.05, 0.05, 0.05)
        return _quick(channel)

    return make


@pytest.fixture
def telegram(inbound_env, telegram_api) -> Callable[[], TelegramInput]:
    def make() -> TelegramInput:
        return _quick(TelegramInput(telegram_api.token, TG_SECRET, api_base_url=telegram_api.url))

    return make


class StandInAgent:
    """Rasa's agent as the channels' listener sees it (app.ctx.agent): with or without a model."""

    def __init__(self, ready: bool) -> None:
        self.ready = ready

    def is_ready(self) -> bool:
        return self.ready


def shard_queue(channel, sender: str) -> str:
    config = channel.inbound.config
    return config.queue(channel.name(), config.shard(channel.name(), sender))


async def test_a_whatsapp_message_is_in_rabbitmq_before_the_webhook_answers(whatsapp, twilio, assistant, amqp_url):
    channel = whatsapp()
    agent = StandInAgent(ready=False)  # Rasa without a model yet: nothing is taken off the queue
    server = ChannelServer(channel, assistant)
    server.app.ctx.agent = agent
    async with server:
        assert await say(server, form(MARIA, "oi")) == 200
        assert await ready_messages(amqp_url, shard_queue(channel, MARIA)) == 1  # kept before the answer
        assert assistant.received == [] and twilio.sent == [] and channel.lanes.busy() == 0
        agent.ready = True
        await until(channel.inbound, lambda stats: stats.handled == 1, "the message handled")
        assert bodies(twilio, MARIA) == [GREETING]  # sent before the message was acknowledged
        assert await say(server, form(MARIA, "2")) == 200  # the option picked, through the queue as well
        await until(channel.inbound, lambda stats: stats.handled == 2, "the second message handled")
        assert await ready_messages(amqp_url, shard_queue(channel, MARIA)) == 0
    assert assistant.texts == ["oi", "/negar"]
    assert channel.inbound.stats.published == 2 and channel.inbound.stats.delivered == 2


async def test_a_telegram_update_goes_through_the_queue(telegram, telegram_api, assistant, amqp_url):
    channel = telegram()
    async with ChannelServer(channel, assistant) as server:
        assert await tg_send(server, text_update("oi")) == 200
        await until(channel.inbound, lambda stats: stats.handled == 1, "the update handled")
        [sent] = telegram_api.called("sendMessage")
        assert sent["chat_id"] == CHAT and sent["text"] == "Olá! Você quer continuar?"
        assert await tg_send(server, press("/afirmar", sent["reply_markup"]["inline_keyboard"])) == 200
        await until(channel.inbound, lambda stats: stats.handled == 2, "the pressed button handled")
        assert await ready_messages(amqp_url, shard_queue(channel, str(CHAT))) == 0
    assert assistant.texts == ["oi", "/afirmar"]
    assert telegram_api.called("answerCallbackQuery") and channel.lanes.busy() == 0


async def test_a_message_delivered_twice_is_answered_once(whatsapp, twilio, assistant):
    channel = whatsapp()
    params = form(MARIA, "oi")
    async with ChannelServer(channel, assistant) as server:
        statuses = [await say(server, params), await say(server, params)]
        statuses += await asyncio.gather(*(say(server, params) for _ in range(5)))  # retries racing each other
        assert statuses == [200] * 7
        await until(channel.inbound, lambda stats: stats.handled == 1, "the message handled")
        assert channel.inbound.stats.published == 1
        # a publish whose confirm timed out may reach the queue after all, and its retry is a second copy
        copy = form(MARIA, "de novo")
        await channel.inbound.publish(MARIA, copy["MessageSid"], copy)
        await channel.inbound.publish(MARIA, copy["MessageSid"], copy)
        await until(channel.inbound, lambda stats: stats.handled == 2 and stats.skipped == 1, "both copies taken")
    assert bodies(twilio, MARIA) == [GREETING, "eco: de novo"]
    assert assistant.texts == ["oi", "de novo"]


async def test_each_conversation_keeps_its_order_across_two_rasa_instances(whatsapp, twilio):
    """Webhooks of one conversation spread over two instances: one consumer per shard (the instance that
    subscribed first; the other waits) takes them in order; when it stops, the other takes over."""
    first, second = whatsapp(), whatsapp()
    turns: list[tuple[str, str, str]] = []  # (instance, sender, text), in the order the turns ran

    def rasa(instance: str):
        async def turn(message) -> None:
            turns.append((instance, message.sender_id, message.text))
            await message.output_channel.send_response(message.sender_id, {"text": f"eco: {message.text}"})

        return turn

    sent: dict[str, list[str]] = {MARIA: [], JOSE: []}
    async with contextlib.AsyncExitStack() as both:
        a_only = contextlib.AsyncExitStack()
        both.push_async_callback(a_only.aclose)
        a = await a_only.enter_async_context(ChannelServer(first, rasa("A")))
        await until(first.inbound, lambda stats: stats.connections == 1, "A consuming")
        b = await both.enter_async_context(ChannelServer(second, rasa("B")))
        await until(second.inbound, lambda stats: stats.connections == 1, "B subscribed")
        for n in range(1, 21):  # a burst of 20 per conversation, every other one through the other instance
            for sender in (MARIA, JOSE):
                text = f"{sender[-4:]} mensagem {n}"
                assert await say(a if n % 2 else b, form(sender, text)) == 200
                sent[sender].append(text)
        await until(first.inbound, lambda stats: stats.handled == 40, "the 40 messages handled")
        assert {instance for instance, _, _ in turns} == {"A"} and second.inbound.stats.delivered == 0
        assert first.inbound.members is None and first.inbound.stats.handed_back == 0  # no Redis: no sharing
        await a_only.aclose()  # A stops: B gets the shards
        for n in range(21, 26):
            text = f"0001 mensagem {n}"
            assert await say(b, form(MARIA, text)) == 200
            sent[MARIA].append(text)
        await until(second.inbound, lambda stats: stats.handled == 5, "B taking over")
    assert {instance for instance, _, _ in turns[40:]} == {"B"}
    for sender, texts in sent.items():
        assert [text for _, who, text in turns if who == sender] == texts
        assert bodies(twilio, sender) == [f"eco: {text}" for text in texts]


async def test_a_slow_turn_holds_only_its_own_shard(whatsapp, twilio, amqp_url):
    channel = whatsapp()
    assert shard_queue(channel, MARIA) != shard_queue(channel, JOSE)
    release = asyncio.Event()
    received: list[str] = []

    async def rasa(message) -> None:
        received.append(message.text)
        if message.text == "lento":
            await release.wait()
        await message.output_channel.send_response(message.sender_id, {"text": f"eco: {message.text}"})

    async with ChannelServer(channel, rasa) as server:
        assert await say(server, form(MARIA, "lento")) == 200
        assert await say(server, form(MARIA, "depois")) == 200
        assert await say(server, form(JOSE, "outra pessoa")) == 200
        # José is answered while Maria's first turn is still in hand (the two shards are consumed apart)
        await wait_until(lambda: twilio.to(JOSE) and "lento" in received, WAIT_S, what="José's reply")
        # Maria's second message is in hand too (prefetch), and waits for her first to finish
        assert sorted(received) == ["lento", "outra pessoa"]
        assert await ready_messages(amqp_url, shard_queue(channel, MARIA)) == 0
        release.set()
        await until(channel.inbound, lambda stats: stats.handled == 3, "the three handled")
    assert bodies(twilio, MARIA) == ["eco: lento", "eco: depois"]


def same_shard_senders(config: InboundConfig, count: int) -> list[str]:
    """`count` WhatsApp senders whose conversations share one shard."""
    numbers = [f"whatsapp:+55799983{n:05d}" for n in range(400)]
    shard = config.shard("whatsapp", numbers[0])
    return [s for s in numbers if config.shard("whatsapp", s) == shard][:count]


async def test_a_slow_turn_holds_only_its_own_conversation_not_the_others_of_its_shard(inbound_env):
    """The conversations of one shard run side by side (up to INBOUND_PREFETCH); one conversation's
    messages wait for each other."""
    queue = inbound_queue("whatsapp", channel_state({}))
    assert queue is not None
    slow, *others = same_shard_senders(queue.config, 4)
    release = asyncio.Event()
    started: list[tuple[str, str]] = []
    finished: list[tuple[str, str]] = []

    async def turn(inbound: Inbound) -> None:
        started.append((inbound.sender, inbound.payload["text"]))
        if inbound.payload["text"] == "lento":
            await release.wait()
        finished.append((inbound.sender, inbound.payload["text"]))

    queue.start(turn)
    try:
        await until(queue, lambda stats: stats.connections == 1, "consuming")
        await queue.publish(slow, f"SM{secrets.token_hex(8)}", {"text": "lento"})
        await queue.publish(slow, f"SM{secrets.token_hex(8)}", {"text": "depois"})
        for sender in others:
            await queue.publish(sender, f"SM{secrets.token_hex(8)}", {"text": "oi"})
        # the three other conversations of the shard are answered while the slow turn is still running
        await until(queue, lambda stats: stats.handled == len(others), "the other conversations handled")
        assert sorted(finished) == sorted((sender, "oi") for sender in others)
        assert (slow, "depois") not in started  # behind the slow turn of its own conversation
        release.set()
        await until(queue, lambda stats: stats.handled == len(others) + 2, "the slow conversation handled")
    finally:
        release.set()
        await queue.stop()
    assert [text for sender, text in finished if sender == slow] == ["lento", "depois"]
    assert queue.stats.delivered == len(others) + 2  # nothing given back and delivered again


async def test_a_failed_turn_is_tried_again_before_the_conversations_next_message(inbound_env):
    queue = inbound_queue("whatsapp", channel_state({}))
    assert queue is not None
    calls: list[str] = []

    async def turn(inbound: Inbound) -> None:
        calls.append(inbound.payload["text"])
        if calls.count("primeira") == 1 and inbound.payload["text"] == "primeira":
            raise RuntimeError("a passing failure (a timeout of the action server)")

    queue.start(turn)
    try:
        await until(queue, lambda stats: stats.connections == 1, "consuming")
        for text in ("primeira", "segunda", "terceira"):
            await queue.publish(MARIA, f"SM{secrets.token_hex(8)}", {"text": text})
        await until(queue, lambda stats: stats.handled == 3, "the three handled")
    finally:
        await queue.stop()
    assert calls == ["primeira", "primeira", "segunda", "terceira"]
    assert queue.stats.retried == 1 and queue.stats.dropped == 0


async def test_a_busy_event_loop_still_takes_every_shard_at_once(inbound_env):
    """Rasa runs NLU and the policies on its event loop: under load each of its turns blocks it for tens of
    milliseconds. The consumer's AMQP side does not wait for those turns: with the loop blocked 50 ms at
    every turn, the messages of different shards are in hand together, not one after the other (on Rasa's
    loop, aio-pika read the deliveries so slowly that one message at a time was handled, bench-cluster
    2026-11-30 21:47 UTC)."""
    queue = inbound_queue("whatsapp", channel_state({}))
    assert queue is not None
    config = queue.config
    senders = {config.shard("whatsapp", s): s for s in (f"whatsapp:+55799982{n:05d}" for n in range(60))}
    assert len(senders) == SHARDS
    in_hand: set[str] = set()
    most = 0
    handled: list[str] = []

    async def turn(inbound: Inbound) -> None:
        nonlocal most
        in_hand.add(inbound.sender)
        most = max(most, len(in_hand))
        await asyncio.sleep(1.0)  # the turn's own duration
        in_hand.discard(inbound.sender)
        handled.append(inbound.sender)

    async def busy_loop() -> None:
        while True:
            time.sleep(0.05)  # noqa: ASYNC251 - blocking on purpose, as NLU and the policies are
            await asyncio.sleep(0)

    queue.start(turn)
    busy = asyncio.create_task(busy_loop())
    try:
        await until(queue, lambda stats: stats.connections == 1, "consuming")
        for sender in senders.values():
            await queue.publish(sender, f"SM{secrets.token_hex(8)}", {"Body": "oi"})
        await until(queue, lambda stats: stats.handled == SHARDS, "every shard's message handled")
    finally:
        busy.cancel()
        await queue.stop()
    assert sorted(handled) == sorted(senders.values())
    assert most == SHARDS  # all in hand at once


# --- several instances sharing the shards (CHANNEL_REDIS_URL) ------------------------------------------


async def until_any(queues: list[InboundQueue], predicate: Callable[[], bool], what: str) -> None:
    """Waits (bounded) until `predicate()` holds, checked again whenever one of the queues' counts changes."""
    waits = [asyncio.ensure_future(queue.wait_for(lambda _: predicate())) for queue in queues]
    try:
        done, _ = await asyncio.wait(waits, timeout=WAIT_S, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    if not done:
        raise AssertionError(f"timed out after {WAIT_S} s waiting for {what}: {[q.stats for q in queues]}")


def sharing_queue(node: str) -> InboundQueue:
    """The WhatsApp queue of one Rasa instance as the environment makes it (the test's INBOUND_* and
    CHANNEL_REDIS_URL: the shards shared through Redis), its node id `node`, beating every 0.1 s."""
    state = channel_state()
    assert isinstance(state, RedisChannelState)
    queue = inbound_queue("whatsapp", state)
    assert queue is not None and queue.members is not None
    queue.config = dataclasses.replace(queue.config, heartbeat_s=0.1, initial_backoff_s=0.05)
    queue.node_ids = lambda: node
    return queue


async def close_state(*queues: InboundQueue) -> None:
    for queue in queues:
        assert queue.members is not None
        await queue.members.redis.close()


class Turns:
    """The handler of each instance: records (node, shard, sender, text) in the order the turns end, any
    two messages of one conversation handled at once, and the most conversations of a shard at once."""

    def __init__(self, config: InboundConfig) -> None:
        self.config = config
        self.done: list[tuple[str, int, str, str]] = []
        self.busy: set[str] = set()
        self.overlaps: list[str] = []
        self.side_by_side = 0

    def of(self, node: str):
        async def handle(inbound: Inbound) -> None:
            shard = self.config.shard(inbound.channel, inbound.sender)
            if inbound.sender in self.busy:
                self.overlaps.append(inbound.sender)
            self.busy.add(inbound.sender)
            same_shard = sum(self.config.shard(inbound.channel, s) == shard for s in self.busy)
            self.side_by_side = max(self.side_by_side, same_shard)
            try:
                await asyncio.sleep(
                    0.01
                )  # the turn's own duration: another message of the conversation could overlap it
            finally:
                self.busy.discard(inbound.sender)
            self.done.append((node, shard, inbound.sender, inbound.payload["text"]))

        return handle

    def texts(self, sender: str) -> list[str]:
        return [text for _, _, who, text in self.done if who == sender]


async def test_two_instances_share_the_shards_and_each_conversation_keeps_its_order(shared_state):
    a_id = "no-a"
    # a second node that owns some of the 4 shards and not all (the ids are random in production)
    b_id = next(f"no-b{n}" for n in itertools.count() if len(owned_by(f"no-b{n}", SHARDS, [a_id])) == SHARDS // 2)
    a_owns, b_owns = owned_by(a_id, SHARDS, [b_id]), owned_by(b_id, SHARDS, [a_id])
    a, b = sharing_queue(a_id), sharing_queue(b_id)
    turns = Turns(a.config)
    config = a.config
    senders = [f"whatsapp:+55799981{n:05d}" for n in range(40)]
    # three conversations on each shard
    conversations = [
        s for shard in range(SHARDS) for s in [x for x in senders if config.shard("whatsapp", x) == shard][:3]
    ]
    assert len(conversations) == 3 * SHARDS
    sent: dict[str, list[str]] = {sender: [] for sender in conversations}

    async def publish(first: int, last: int) -> None:
        for n in range(first, last + 1):
            for sender in conversations:
                text = f"{sender[-5:]} mensagem {n}"
                await a.publish(sender, f"SM{secrets.token_hex(8)}", {"text": text})
                sent[sender].append(text)

    try:
        a.start(turns.of("A"))  # the first to subscribe: RabbitMQ's active consumer on every shard
        await until(a, lambda stats: stats.connections == 1 and stats.nodes == 1, "A consuming, alone")
        assert a.stats.owned == SHARDS
        b.start(turns.of("B"))
        await until(b, lambda stats: stats.connections == 1 and stats.nodes == 2, "B consuming, seeing A")
        await until(a, lambda stats: stats.nodes == 2 and stats.owned == len(a_owns), "A seeing B")
        await publish(1, 4)
        total = 4 * len(conversations)
        await until_any([a, b], lambda: a.stats.handled + b.stats.handled == total, "the first messages handled")
        # A had every shard: it handed each of B's back at its first message, without handling it; B
        # never had one of A's
        by_node = {node: Counter(shard for who, shard, _, _ in turns.done if who == node) for node in "AB"}
        per_shard = 4 * 3  # 4 messages of each of the shard's 3 conversations
        assert set(by_node["B"]) == b_owns and sum(by_node["B"].values()) == per_shard * len(b_owns)
        assert set(by_node["A"]) == a_owns and sum(by_node["A"].values()) == per_shard * len(a_owns)
        assert (a.stats.handed_back, b.stats.handed_back) == (len(b_owns), 0)
        assert turns.side_by_side > 1  # a shard's conversations ran side by side
        await b.stop()  # B stops: RabbitMQ hands its shards to A, and A owns them all from its next beat
        await until(a, lambda stats: stats.nodes == 1 and stats.owned == SHARDS, "A owning every shard")
        await publish(5, 6)
        total += 2 * len(conversations)
        await until(a, lambda stats: stats.handled + b.stats.handled == total, "the later messages handled by A")
        assert {who for who, _, _, _ in turns.done[-2 * len(conversations) :]} == {"A"}
        assert a.stats.handed_back == len(b_owns)
    finally:
        await a.stop()
        await b.stop()
        await close_state(a, b)
    for sender, texts in sent.items():
        assert turns.texts(sender) == texts  # each once, in order
    assert len(turns.done) == total and turns.overlaps == []
    assert a.stats.delivered + b.stats.delivered == total  # each handling started once


async def test_a_shard_whose_owner_does_not_consume_is_handed_back_once_per_cool_down(shared_state, amqp_url):
    queue = sharing_queue("no-a")
    assert queue.members is not None
    # another node alive in Redis that never subscribes (starting, or its RabbitMQ connection down)
    other = next(f"outro-{n}" for n in itertools.count() if owned_by(f"outro-{n}", SHARDS, ["no-a"]))
    await Membership(queue.members.redis, queue.members.key, ttl_s=WAIT_S * 4).beat(other)
    shard = min(owned_by(other, SHARDS, ["no-a"]))
    numbers = (f"whatsapp:+5579{n:09d}" for n in itertools.count())
    sender = next(s for s in numbers if queue.config.shard("whatsapp", s) == shard)
    turns = Turns(queue.config)
    queue.config = dataclasses.replace(queue.config, hand_back_cooldown_s=WAIT_S * 4)
    try:
        queue.start(turns.of("A"))
        await until(queue, lambda stats: stats.nodes == 2, "A seeing the other node")
        for n in range(5):
            await queue.publish(sender, f"SM{secrets.token_hex(8)}", {"text": f"mensagem {n}"})
        await until(queue, lambda stats: stats.handled == 5, "the five handled, by A all the same")
    finally:
        await queue.stop()
        await close_state(queue)
    assert turns.texts(sender) == [f"mensagem {n}" for n in range(5)]
    assert queue.stats.handed_back == 1  # then A was the only consumer again, and the cool-down ran
    assert await ready_messages(amqp_url, queue.config.queue("whatsapp", shard)) == 0


async def test_without_redis_answering_nothing_is_handed_back(inbound_env, caplog):
    config = InboundConfig.from_env()
    assert config is not None
    unreachable = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    queue = InboundQueue(
        dataclasses.replace(config, heartbeat_s=0.1, hand_back_cooldown_s=0),
        "whatsapp",
        MemoryAnswered(),
        Membership(unreachable, "teste:inbound-nodes"),
    )
    turns = Turns(queue.config)
    try:
        queue.start(turns.of("A"))
        for n in range(3):
            await queue.publish(MARIA, f"SM{secrets.token_hex(8)}", {"text": f"mensagem {n}"})
        await until(queue, lambda stats: stats.handled == 3, "the three handled")
    finally:
        await queue.stop()
        await unreachable.close()
    assert turns.texts(MARIA) == ["mensagem 0", "mensagem 1", "mensagem 2"]
    assert (queue.stats.nodes, queue.stats.owned, queue.stats.handed_back) == (0, 0, 0)
    unknown = [r for r in caplog.records if "shard owners unknown" in r.getMessage()]
    assert len(unknown) == 1 and unknown[0].levelname == "WARNING"  # once per outage, not once per beat


@pytest.fixture
async def proxy(amqp_url, inbound_env, monkeypatch) -> AsyncIterator[TcpProxy]:
    """RabbitMQ behind a proxy the test controls (INBOUND_AMQP_URL points at it)."""
    proxy = await TcpProxy(amqp_url).up()
    monkeypatch.setenv("INBOUND_AMQP_URL", proxy.url)
    yield proxy
    proxy.resume()
    await proxy.down()


async def test_rabbitmq_unreachable_answers_503_and_the_retry_is_taken(proxy, whatsapp, telegram, twilio, assistant):
    channel, tg = whatsapp(), telegram()
    async with ChannelServer(channel, assistant) as server, ChannelServer(tg, assistant) as tg_server:
        assert await say(server, form(MARIA, "antes")) == 200
        await until(channel.inbound, lambda stats: stats.handled == 1, "the first message handled")
        await proxy.down()  # RabbitMQ gone: connections dropped, new ones refused
        later, update = form(MARIA, "durante"), text_update("oi")
        assert await say(server, later) == 503  # not kept: not answered 2xx...
        assert await say(server, later) == 503  # ...and Twilio's retry is no repeat: refused again, not dropped
        assert await tg_send(tg_server, update) == 503
        assert (channel.inbound.stats.refused, tg.inbound.stats.refused) == (2, 1)
        await proxy.up()
        assert await say(server, later) == 200  # the retry once RabbitMQ is back
        assert await tg_send(tg_server, update) == 200
        await until(channel.inbound, lambda stats: stats.handled == 2, "the retried message handled")
        await until(tg.inbound, lambda stats: stats.handled == 1, "the retried update handled")
    assert bodies(twilio, MARIA) == ["eco: antes", "eco: durante"]
    assert sorted(assistant.texts) == ["antes", "durante", "oi"]


async def test_no_confirm_in_time_answers_503_and_a_late_copy_is_answered_once(proxy, whatsapp, twilio, assistant):
    channel = whatsapp()
    params = form(MARIA, "oi")
    async with ChannelServer(channel, assistant) as server:
        assert await say(server, form(MARIA, "antes")) == 200  # the publisher's connection is open
        await until(channel.inbound, lambda stats: stats.handled == 1, "the first message handled")
        proxy.pause()  # RabbitMQ does not answer: no confirm within INBOUND_PUBLISH_TIMEOUT_S
        assert await say(server, params) == 503
        proxy.resume()  # the held publish reaches RabbitMQ after all
        await until(channel.inbound, lambda stats: stats.handled == 2, "the late copy handled")
        assert await say(server, params) == 200  # Twilio's retry: taken (the id was forgotten), a second copy
        await until(channel.inbound, lambda stats: stats.skipped == 1, "the second copy skipped")
    assert bodies(twilio, MARIA) == ["eco: antes", GREETING]
    assert assistant.texts == ["antes", "oi"]
    assert channel.inbound.stats.refused == 1


async def test_server_stop_finishes_the_message_in_hand_and_leaves_the_next_queued(whatsapp, twilio):
    channel = whatsapp()
    started, release = asyncio.Event(), asyncio.Event()

    async def rasa(message) -> None:
        if message.text == "em andamento":
            started.set()
            await release.wait()
        await message.output_channel.send_response(message.sender_id, {"text": f"eco: {message.text}"})

    server = ChannelServer(channel, rasa)
    await server.__aenter__()
    stopping = None
    try:
        assert await say(server, form(MARIA, "em andamento")) == 200
        assert await say(server, form(MARIA, "a seguinte")) == 200
        await asyncio.wait_for(started.wait(), WAIT_S)
        stopping = asyncio.create_task(server.__aexit__(None, None, None))
        await wait_until(lambda: channel.inbound.stopping, WAIT_S, what="the stop to begin")
        release.set()
        await asyncio.wait_for(stopping, WAIT_S)
    finally:
        release.set()
        if stopping is None:
            await server.__aexit__(None, None, None)
    assert bodies(twilio, MARIA) == ["eco: em andamento"]  # finished, answered, acknowledged
    assert channel.inbound.stats.handled == 1
    successor = whatsapp()
    async with ChannelServer(successor, rasa):
        await until(successor.inbound, lambda stats: stats.handled == 1, "the next message, by the next consumer")
    assert bodies(twilio, MARIA) == ["eco: em andamento", "eco: a seguinte"]
    assert successor.inbound.stats.delivered == 1  # the finished one did not come back


async def test_a_message_that_keeps_failing_is_given_up_and_an_unreadable_one_dropped(whatsapp, amqp_url, monkeypatch):
    monkeypatch.setenv("INBOUND_MAX_DELIVERIES", "3")
    channel = whatsapp()
    queue = channel.inbound
    calls: list[str] = []

    async def handler(inbound: Inbound) -> None:
        calls.append(inbound.id)
        raise RuntimeError("a bug in the turn")

    params = form(MARIA, "oi")
    await queue.publish(MARIA, params["MessageSid"], params)
    connection = await aio_pika.connect(amqp_url)
    try:
        await (await connection.channel()).default_exchange.publish(
            aio_pika.Message(b"{not an envelope"), routing_key=shard_queue(channel, MARIA)
        )
    finally:
        await connection.close()
    queue.start(handler)
    try:
        await until(queue, lambda stats: stats.dropped == 2, "both dropped")
    finally:
        await queue.stop()
    assert calls == [params["MessageSid"]] * 3 and queue.stats.retried == 3 and queue.stats.handled == 0
    assert await ready_messages(amqp_url, shard_queue(channel, MARIA)) == 0


# --- a worker killed mid-message --------------------------------------------------------------------


@contextlib.asynccontextmanager
async def worker_process(mode: str, twilio, tmp_path: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """inbound_worker.py with this test's settings, consuming (its stdout is its account of what it does)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_API_BASE_URL": twilio.url,
        "PYTHONWARNINGS": "ignore",
    }
    log = tmp_path / f"worker-{mode}.log"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "inbound_worker.py"),
            mode,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    try:
        await expect_line(process, "consuming", log)
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def expect_line(process: asyncio.subprocess.Process, prefix: str, log: Path) -> str:
    async def read() -> str:
        assert process.stdout is not None
        while line := (await process.stdout.readline()).decode().strip():
            if line.startswith(prefix):
                return line
        code = await process.wait()
        raise AssertionError(f"the worker exited ({code}) before {prefix!r}: {log.read_text()[-2000:]}")

    try:
        return await asyncio.wait_for(read(), WAIT_S)
    except asyncio.TimeoutError:
        raise AssertionError(f"the worker did not say {prefix!r} in {WAIT_S} s: {log.read_text()[-2000:]}") from None


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)  # no stop, no close, no ack: as a crash or an OOM kill
    await process.wait()


async def test_a_worker_killed_before_replying_loses_nothing_and_answers_once(
    shared_state, whatsapp, twilio, assistant, tmp_path
):
    async with worker_process("hang-before-reply", twilio, tmp_path) as worker:
        standby = whatsapp()  # another Rasa instance: subscribed after the worker, so it waits
        async with ChannelServer(standby, assistant) as server:
            await until(standby.inbound, lambda stats: stats.connections == 1, "the standby subscribed")
            assert await say(server, form(MARIA, "oi")) == 200
            await expect_line(worker, "handling oi", tmp_path / "worker-hang-before-reply.log")
            assert standby.inbound.stats.delivered == 0
            await kill(worker)
            await until(standby.inbound, lambda stats: stats.handled == 1, "the standby handling it")
    assert bodies(twilio, MARIA) == [GREETING]  # answered once, by the instance that took over
    assert assistant.texts == ["oi"]


async def test_a_worker_killed_after_replying_is_not_answered_twice(
    shared_state, whatsapp, twilio, assistant, tmp_path
):
    async with worker_process("hang-after-mark", twilio, tmp_path) as worker:
        standby = whatsapp()
        async with ChannelServer(standby, assistant) as server:
            await until(standby.inbound, lambda stats: stats.connections == 1, "the standby subscribed")
            params = form(MARIA, "oi")
            assert await say(server, params) == 200
            await expect_line(worker, f"marked {params['MessageSid']}", tmp_path / "worker-hang-after-mark.log")
            await kill(worker)  # replied and marked, never acknowledged: RabbitMQ delivers it again
            await until(standby.inbound, lambda stats: stats.skipped == 1, "the redelivery skipped")
    assert bodies(twilio, MARIA) == [WORKER_REPLY + "oi"]  # the dead worker's reply, and no second one
    assert assistant.received == [] and standby.inbound.stats.handled == 0
