"""Conversation analytics (backend.analytics, backend.analytics_consumer, migration 0010).

The events are what bot.tracker_store.MaskingTrackerStore publishes (its own masking, `sender_id`
added). Storage, turns and the summary run on SQLite and, with TEST_DATABASE_URL, PostgreSQL (the
`settings` fixture). The RabbitMQ tests need TEST_AMQP_URL (CI: the machine's RabbitMQ); each uses
its own queue (and exchange), deleted afterwards, so runs sharing a server never meet."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from backend.analytics import InvalidEvent, event_key, parse_event, pseudonym, store_events, summary
from backend.db import create_engine, session_factory
from backend.migrate import downgrade, upgrade
from backend.models import AnalyticsEvent, AnalyticsTurn
from backend.settings import Settings

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, 13, 0, tzinfo=timezone.utc).timestamp()
CPF, BIRTH = "945.807.302-24", "12/03/1985"
AMQP_URL = os.environ.get("TEST_AMQP_URL")
needs_rabbitmq = pytest.mark.skipif(
    not AMQP_URL,
    reason="TEST_AMQP_URL not set (CI sets it to the machine's RabbitMQ, amqp://guest:guest@127.0.0.1:5672/)",
)
WAIT_S = 30  # bound of every wait on the broker or the consumer


# --- the events ------------------------------------------------------------------------------------


def _user(text: str, intent: str, confidence: float, channel: str, at: float, **kwargs: Any):
    from rasa.shared.core.events import UserUttered

    entities = kwargs.pop("entities", [])
    parse_data = {
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [{"name": intent, "confidence": confidence}, {"name": "informar", "confidence": 0.05}],
        "entities": entities,
        "text": text,
    }
    return UserUttered(text, parse_data["intent"], entities, parse_data, timestamp=at, input_channel=channel, **kwargs)


def conversation_events(channel: str = "whatsapp", start: float = T0) -> list:
    """A conversation of five turns: the bank slip (understood); gibberish (nlu_fallback, then
    action_fallback); a CPF and a birth date (understood, but no next step: Rasa's core fallback);
    "actually, the bank slip" in the middle of a form (the message handed back by
    action_trocar_pedido is the same turn); a person (action_contato_atendente)."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        ConversationPaused,
        SessionStarted,
        SlotSet,
        UserUtteranceReverted,
    )

    clock = (start + second for second in itertools.count())

    def action(name: str):
        return ActionExecuted(name, policy="RulePolicy", confidence=1.0, timestamp=next(clock))

    return [
        action("action_session_start"),
        SessionStarted(timestamp=next(clock)),
        action("action_listen"),
        _user("quero a segunda via do boleto", "segunda_via_boleto", 0.93, channel, next(clock)),
        action("action_servico"),
        BotUttered("Segue a linha digitável do boleto.", timestamp=next(clock)),
        action("action_listen"),
        _user("asdf qwer zxcv", "nlu_fallback", 0.41, channel, next(clock)),
        action("action_fallback"),
        BotUttered("Você quis dizer…?", timestamp=next(clock)),
        action("action_listen"),
        _user(
            f"meu cpf é {CPF} e nasci em {BIRTH}",
            "informar",
            0.88,
            channel,
            next(clock),
            entities=[{"entity": "cpf", "value": CPF, "start": 10, "end": 24}],
        ),
        SlotSet("cpf", CPF, timestamp=next(clock)),
        action("action_fallback"),
        UserUtteranceReverted(timestamp=next(clock)),
        action("action_listen"),
        _user("na verdade quero o boleto", "segunda_via_boleto", 0.9, channel, next(clock)),
        action("action_trocar_pedido"),
        action("action_listen"),
        _user(
            "na verdade quero o boleto",
            "segunda_via_boleto",
            0.9,
            channel,
            next(clock),
            metadata={"reinjected": True},
        ),
        action("action_servico"),
        SlotSet("requested_slot", "login", timestamp=next(clock)),
        action("action_listen"),
        _user("quero falar com um atendente", "falar_com_atendente", 0.97, channel, next(clock)),
        action("action_contato_atendente"),
        BotUttered("Seu protocolo é 12345620260105000001.", timestamp=next(clock)),
        ConversationPaused(timestamp=next(clock)),
        action("action_listen"),
    ]


# (channel, intent, confidence, fallback, handoff) of each turn of conversation_events()
EXPECTED_TURNS = [
    ("segunda_via_boleto", 0.93, False, False),
    ("nlu_fallback", 0.41, True, False),
    ("informar", 0.88, True, False),
    ("segunda_via_boleto", 0.9, False, False),
    ("falar_com_atendente", 0.97, False, True),
]


def published(sender_id: str, channel: str = "whatsapp", start: float = T0) -> list[dict[str, Any]]:
    """What MaskingTrackerStore.save() hands the event broker for that conversation."""
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.tracker_store import masked_events

    tracker = DialogueStateTracker.from_events(sender_id, conversation_events(channel, start))
    return [{"sender_id": sender_id, **event} for event in masked_events(tracker, 0)]


def unmasked(sender_id: str) -> list[dict[str, Any]]:
    """The same events as Rasa's own stores publish them (no masking)."""
    return [{"sender_id": sender_id, **event.as_dict()} for event in conversation_events()]


async def _store(sessions, events: Sequence[dict[str, Any]]):
    async with sessions() as session:
        stored = await store_events(session, [parse_event(json.dumps(event).encode()) for event in events])
        await session.commit()
    return stored


async def _turns(sessions, sender_id: str) -> list[tuple]:
    async with sessions() as session:
        rows = await session.execute(
            select(
                AnalyticsTurn.channel,
                AnalyticsTurn.intent,
                AnalyticsTurn.confidence,
                AnalyticsTurn.fallback,
                AnalyticsTurn.handoff,
            )
            .where(AnalyticsTurn.sender_id == sender_id)
            .order_by(AnalyticsTurn.timestamp)
        )
        return [tuple(row) for row in rows]


async def _count(sessions, model, sender_id: str | None = None) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(model)
        if sender_id is not None:
            query = query.where(model.sender_id == sender_id)
        return (await session.execute(query)).scalar_one()


def _expected(channel: str = "whatsapp") -> list[tuple]:
    return [(channel, *turn) for turn in EXPECTED_TURNS]


# --- storage ---------------------------------------------------------------------------------------


async def test_the_same_event_delivered_again_is_stored_once(sessions):
    events = published("conversa-dup")
    first = await _store(sessions, events)
    assert (first.events, first.turns, first.duplicates) == (len(events), 5, 0)

    again = await _store(sessions, [*events, events[3]])  # everything again, one event twice in a batch
    assert (again.events, again.turns, again.duplicates) == (0, 0, len(events) + 1)
    assert await _count(sessions, AnalyticsEvent, "conversa-dup") == len(events)
    assert await _count(sessions, AnalyticsTurn, "conversa-dup") == 5
    assert await _turns(sessions, "conversa-dup") == _expected()


async def test_the_key_is_the_event_as_published_whatever_the_order_of_its_keys():
    event = published("conversa-chave")[3]
    reordered = dict(reversed(list(event.items())))
    assert json.dumps(reordered) != json.dumps(event)
    assert event_key(reordered) == event_key(event) == parse_event(json.dumps(reordered).encode()).key
    assert event_key({**event, "timestamp": event["timestamp"] + 0.001}) != event_key(event)
    assert event_key({**event, "sender_id": "outra"}) != event_key(event)


async def test_events_become_turns_with_intent_channel_fallback_and_handoff(sessions):
    await _store(sessions, published("conversa-turnos", channel="telegram"))
    assert await _turns(sessions, "conversa-turnos") == _expected("telegram")
    async with sessions() as session:
        kinds = (
            await session.execute(
                select(AnalyticsEvent.type, AnalyticsEvent.name)
                .where(AnalyticsEvent.sender_id == "conversa-turnos")
                .order_by(AnalyticsEvent.timestamp)
            )
        ).all()
    assert kinds[:5] == [
        ("action", "action_session_start"),
        ("session_started", None),
        ("action", "action_listen"),
        ("user", "segunda_via_boleto"),
        ("action", "action_servico"),
    ]
    assert ("slot", "requested_slot") in kinds


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_turns_do_not_depend_on_the_order_the_events_arrive_in(sessions, seed):
    """A redelivery can bring an event after later ones; one at a time, shuffled, the turns end the same."""
    sender = f"conversa-ordem-{seed}"
    events = published(sender)
    random.Random(seed).shuffle(events)  # noqa: S311 - a reproducible order, not a secret
    for event in events:
        await _store(sessions, [event])
    assert await _turns(sessions, sender) == _expected()


async def test_nothing_personal_is_stored_even_from_unmasked_events(sessions):
    """No text and no value is kept: the CPF and the birth date of the conversation are nowhere,
    not even when the events come unmasked (as Rasa's own stores would publish them)."""
    await _store(sessions, published("conversa-mascarada"))
    await _store(sessions, unmasked("conversa-crua"))
    assert await _turns(sessions, "conversa-crua") == _expected()
    async with sessions() as session:
        rows = [
            *(await session.execute(select(AnalyticsEvent.__table__))).mappings(),
            *(await session.execute(select(AnalyticsTurn.__table__))).mappings(),
        ]
    dumped = json.dumps([dict(row) for row in rows], default=str, ensure_ascii=False)
    for secret in (CPF, "94580730224", "807.302", BIRTH, "asdf qwer", "quero falar", "boleto."):
        assert secret not in dumped
    # the birth year as a number of its own (a timestamp's digits, "12:00:30.819850", may hold 1985)
    assert not re.search(r"(?<![\d.])1985(?!\d)", dumped)
    assert any(row.get("type") == "user" and row["data"]["entities"] == ["cpf"] for row in rows)  # names only


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        json.dumps({"event": "user", "timestamp": T0}).encode(),
        json.dumps({"sender_id": "s", "timestamp": T0}).encode(),
        json.dumps({"sender_id": "s", "event": "user"}).encode(),
        json.dumps({"sender_id": "s", "event": "user", "timestamp": True}).encode(),
        json.dumps({"sender_id": "s", "event": "user", "timestamp": 1e300}).encode(),
        json.dumps({"sender_id": "s" * 256, "event": "user", "timestamp": T0}).encode(),
    ],
)
async def test_what_is_not_an_event_is_refused(body):
    with pytest.raises(InvalidEvent):
        parse_event(body)


async def test_summary_counts_conversations_turns_fallbacks_handoffs_and_intents(sessions):
    since = datetime.fromtimestamp(T0, timezone.utc) - timedelta(hours=1)
    await _store(sessions, published("resumo-1", channel="whatsapp"))
    await _store(sessions, published("resumo-2", channel="telegram", start=T0 + 600))
    await _store(sessions, published("resumo-antiga", start=T0 - 10 * 86400))  # before `since`: not counted
    async with sessions() as session:
        result = await summary(session, since, until=since + timedelta(days=1), top=3)
        later = await summary(session, since + timedelta(minutes=65))  # only resumo-2 (from T0 + 10 min)
        empty = await summary(session, since + timedelta(days=30))
    assert (result.conversations, result.sessions, result.turns) == (2, 2, 10)
    assert (result.fallbacks, result.fallback_rate, result.handoffs) == (4, 0.4, 2)
    assert result.top_intents == [("segunda_via_boleto", 4), ("falar_com_atendente", 2), ("informar", 2)]
    assert result.channels == {"telegram": 5, "whatsapp": 5}
    assert (later.conversations, later.turns, later.channels) == (1, 5, {"telegram": 5})
    assert (empty.conversations, empty.turns, empty.fallback_rate, empty.top_intents) == (0, 0, 0.0, [])


async def test_retention_deletes_old_analytics_and_keeps_new(settings, sessions):
    from backend.retention import purge

    now = datetime.fromtimestamp(T0, timezone.utc).replace(tzinfo=None)
    await _store(sessions, published("retencao-velha", start=T0 - 200 * 86400))
    await _store(sessions, published("retencao-nova", start=T0 - 10 * 86400))
    env = {"DATABASE_URL": settings.database_url, "VAR_DIR": str(settings.var_dir)}
    events = await _count(sessions, AnalyticsEvent, "retencao-velha")

    dry = await purge(settings, 180, env=env, now=now, dry_run=True)
    assert (dry.analytics_events, dry.analytics_turns) == (events, 5)
    assert await _count(sessions, AnalyticsEvent, "retencao-velha") == events

    deleted = await purge(settings, 180, env=env, now=now)
    assert (deleted.analytics_events, deleted.analytics_turns) == (events, 5)
    assert await _count(sessions, AnalyticsEvent, "retencao-velha") == 0
    assert await _count(sessions, AnalyticsTurn, "retencao-velha") == 0
    assert await _count(sessions, AnalyticsTurn, "retencao-nova") == 5
    again = await purge(settings, 180, env=env, now=now)
    assert (again.analytics_events, again.analytics_turns) == (0, 0)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not os.environ.get("TEST_DATABASE_URL"),
                reason="set TEST_DATABASE_URL=postgresql://... to migrate PostgreSQL too",
            ),
        ),
    ],
)
async def test_migration_0010_creates_and_drops_the_analytics_tables(tmp_path, backend):
    from postgres_support import fresh_database

    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / 'migrated.db'}"
        else:
            url = stack.enter_context(fresh_database(os.environ["TEST_DATABASE_URL"], "analytics_migration"))
        settings = Settings(database_url=url, var_dir=tmp_path)
        upgrade(settings, "0010")
        assert {"analytics_events", "analytics_turns"} <= _tables(settings.sync_database_url)
        downgrade(settings, "0009")
        assert not {"analytics_events", "analytics_turns"} & _tables(settings.sync_database_url)
        upgrade(settings, "0010")
        assert {"analytics_events", "analytics_turns"} <= _tables(settings.sync_database_url)


# --- RabbitMQ --------------------------------------------------------------------------------------


@pytest.fixture
def amqp_url() -> str:
    if not AMQP_URL:
        pytest.skip("TEST_AMQP_URL not set (CI sets it to the machine's RabbitMQ, amqp://guest:guest@127.0.0.1:5672/)")
    return AMQP_URL


@pytest.fixture
async def queue(amqp_url) -> AsyncIterator[str]:
    """A queue (and an exchange of the same name, if a test makes one) of this test only."""
    import aio_pika

    name = f"analytics_test_{uuid.uuid4().hex}"
    yield name
    connection = await aio_pika.connect(amqp_url, timeout=WAIT_S)
    try:
        channel = await connection.channel()
        await channel.queue_delete(name)
        await channel.queue_delete(f"{name}_inspect")
        await channel.exchange_delete(name)
    finally:
        await connection.close()


async def _publish(url: str, queue: str, bodies: Sequence[bytes]) -> None:
    """Publishes to the queue, each message confirmed by the broker before this returns."""
    import aio_pika

    connection = await aio_pika.connect(url, timeout=WAIT_S)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(queue, durable=True)
        for body in bodies:
            await channel.default_exchange.publish(
                aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=queue
            )
    finally:
        await connection.close()


async def _ready_messages(url: str, queue: str) -> int:
    """Messages waiting in the queue (not the delivered, unacknowledged ones)."""
    import aio_pika

    connection = await aio_pika.connect(url, timeout=WAIT_S)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True, passive=True)
        return declared.declaration_result.message_count
    finally:
        await connection.close()


def _bodies(events: Sequence[dict[str, Any]]) -> list[bytes]:
    return [json.dumps(event).encode() for event in events]


def _consumer(url: str, queue: str, sessions, cls=None):
    from backend.analytics_consumer import AnalyticsConsumer, ConsumerConfig

    config = ConsumerConfig(broker_url=url, queue=queue, prefetch=10, initial_backoff_s=0.05, max_backoff_s=0.2)
    return (cls or AnalyticsConsumer)(config, sessions)


async def _until(consumer, predicate: Callable[[Any], bool]) -> None:
    await asyncio.wait_for(consumer.wait_for(predicate), WAIT_S)


@contextlib.asynccontextmanager
async def _running(consumer) -> AsyncIterator[asyncio.Task]:
    task = asyncio.create_task(consumer.run())
    try:
        yield task
    finally:
        consumer.stop()
        await asyncio.wait_for(task, WAIT_S)


@pytest.fixture
async def sqlite_sessions(sqlite_settings) -> AsyncIterator[Any]:
    engine = create_engine(sqlite_settings)
    yield session_factory(engine)
    await engine.dispose()


@needs_rabbitmq
async def test_the_consumer_stores_each_published_event_once(amqp_url, queue, sqlite_sessions):
    events = published("fila-1")
    # every event twice (a publisher that retried), and one message that is no event
    await _publish(amqp_url, queue, [*_bodies(events), *_bodies(events), b"{not json"])
    consumer = _consumer(amqp_url, queue, sqlite_sessions)
    async with _running(consumer):
        await _until(consumer, lambda stats: stats.acknowledged + stats.rejected == 2 * len(events) + 1)
    assert (consumer.stats.stored, consumer.stats.duplicates, consumer.stats.rejected) == (len(events), len(events), 1)
    assert await _count(sqlite_sessions, AnalyticsEvent, "fila-1") == len(events)
    assert await _turns(sqlite_sessions, "fila-1") == _expected()
    assert await _ready_messages(amqp_url, queue) == 0


class TcpProxy:
    """A TCP proxy in front of RabbitMQ that a test can cut: every open connection dropped, as when
    the network fails (no AMQP close, no ack)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connections: list[asyncio.StreamWriter] = []
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        self.connections += [writer, upstream_writer]

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    target.write(data)
                    await target.drain()
            target.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def cut(self) -> None:
        for writer in self.connections:
            writer.transport.abort()
        self.connections.clear()

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@contextlib.asynccontextmanager
async def _proxied(url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    from yarl import URL

    parsed = URL(url)
    proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5672)
    port = await proxy.start()
    try:
        yield proxy, str(parsed.with_host("127.0.0.1").with_port(port))
    finally:
        await proxy.close()


@needs_rabbitmq
async def test_a_consumer_lost_between_commit_and_ack_leaves_nothing_twice(amqp_url, queue, sqlite_sessions):
    """The consumer commits, then the connection dies before the ack: RabbitMQ delivers the events
    again to the next consumer, which stores nothing new and acknowledges them."""
    from backend.analytics_consumer import AnalyticsConsumer

    committed = asyncio.Event()

    class DiesBeforeAck(AnalyticsConsumer):
        async def acknowledge(self, messages):
            committed.set()
            await asyncio.Event().wait()  # never acknowledges

    events = published("fila-2")
    await _publish(amqp_url, queue, _bodies(events))
    async with _proxied(amqp_url) as (proxy, proxied_url):
        dying = _consumer(proxied_url, queue, sqlite_sessions, DiesBeforeAck)
        task = asyncio.create_task(dying.run())
        await asyncio.wait_for(committed.wait(), WAIT_S)
        stored_first = await _count(sqlite_sessions, AnalyticsEvent, "fila-2")
        assert 0 < stored_first <= 10  # one batch (prefetch 10), committed
        proxy.cut()  # the consumer is gone: no ack ever reaches RabbitMQ
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, WAIT_S)

    consumer = _consumer(amqp_url, queue, sqlite_sessions)
    async with _running(consumer):
        await _until(consumer, lambda stats: stats.acknowledged == len(events))
    assert consumer.stats.duplicates == stored_first  # the committed batch came back and added nothing
    assert consumer.stats.stored == len(events) - stored_first
    assert await _count(sqlite_sessions, AnalyticsEvent, "fila-2") == len(events)
    assert await _turns(sqlite_sessions, "fila-2") == _expected()
    assert await _ready_messages(amqp_url, queue) == 0


@needs_rabbitmq
async def test_the_consumer_reconnects_after_losing_rabbitmq(amqp_url, queue, sqlite_sessions):
    first, second = published("fila-3a"), published("fila-3b")
    async with _proxied(amqp_url) as (proxy, proxied_url):
        consumer = _consumer(proxied_url, queue, sqlite_sessions)
        async with _running(consumer):
            await _until(consumer, lambda stats: stats.connections == 1)
            await _publish(amqp_url, queue, _bodies(first))
            await _until(consumer, lambda stats: stats.acknowledged == len(first))
            proxy.cut()
            await _until(consumer, lambda stats: stats.connections == 2)
            await _publish(amqp_url, queue, _bodies(second))
            await _until(consumer, lambda stats: stats.acknowledged == len(first) + len(second))
    assert await _turns(sqlite_sessions, "fila-3a") == _expected()
    assert await _turns(sqlite_sessions, "fila-3b") == _expected()
    assert consumer.stats.duplicates == 0


COMMAND_HMAC_SECRET = "segredo-dos-testes-de-analytics"
FILA_4 = pseudonym("fila-4", COMMAND_HMAC_SECRET.encode())  # how the command names the conversation


def _consumer_process(settings: Settings, url: str, queue: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "EVENT_BROKER_URL": url,
        "EVENT_QUEUE": queue,
        "EVENT_PREFETCH": "50",
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "PYTHONWARNINGS": "ignore",
        "DATA_HMAC_SECRET": COMMAND_HMAC_SECRET,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "backend.analytics_consumer"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _line_with(process: subprocess.Popen, needle: str) -> str:
    """The first line of the process's log (stderr) that contains `needle`."""

    def read() -> str:
        assert process.stderr is not None
        for line in process.stderr:
            if needle in line:
                return line
        raise AssertionError(f"the consumer exited ({process.wait()}) without logging {needle!r}")

    return await asyncio.wait_for(asyncio.to_thread(read), WAIT_S)


async def _eventually(check: Callable[[], Any], what: str) -> None:
    """Polls a state only the broker or another process holds (no event to wait on), bounded."""
    deadline = time.monotonic() + WAIT_S
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@needs_rabbitmq
async def test_the_command_killed_before_committing_is_restarted_and_stores_everything_once(
    amqp_url, queue, sqlite_settings, sqlite_sessions
):
    """`python -m backend.analytics_consumer`, SIGKILLed while its batch waits for the database
    (delivered, not committed, not acknowledged): the next one stores everything once; SIGTERM
    stops it cleanly (exit 0)."""
    events = published("fila-4")
    first = _consumer_process(sqlite_settings, amqp_url, queue)
    try:
        await _line_with(first, "consuming")
        blocker = sqlite3.connect(sqlite_settings.var_dir / "backend.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # the consumer's write transaction waits
        try:
            await _publish(amqp_url, queue, _bodies(events))
            # delivered to the consumer (nothing ready in the queue), nothing stored
            await _eventually(lambda: _is(_ready_messages(amqp_url, queue), 0), "the delivery")
            first.kill()
            first.wait(WAIT_S)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert await _count(sqlite_sessions, AnalyticsEvent, FILA_4) == 0
        # nothing was acknowledged: every message is back in the queue
        await _eventually(lambda: _is(_ready_messages(amqp_url, queue), len(events)), "the messages back")
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(WAIT_S)
        first.stderr.close()

    second = _consumer_process(sqlite_settings, amqp_url, queue)
    try:
        await _line_with(second, "consuming")
        await _eventually(lambda: _is(_count(sqlite_sessions, AnalyticsTurn, FILA_4), 5), "the turns")
        await _eventually(lambda: _is(_ready_messages(amqp_url, queue), 0), "an empty queue")
        second.send_signal(signal.SIGTERM)
        assert second.wait(WAIT_S) == 0
        assert "analytics consumer stopped" in await _line_with(second, "stopped")
    finally:
        if second.poll() is None:
            second.kill()
            second.wait(WAIT_S)
        second.stderr.close()
    assert await _count(sqlite_sessions, AnalyticsEvent, FILA_4) == len(events)
    assert await _turns(sqlite_sessions, FILA_4) == _expected()


async def _is(awaitable, expected) -> bool:
    return await awaitable == expected


# The endpoints.yml section scripts/stack.py writes when EVENT_BROKER_URL is set (docs/deploy.md,
# "Analytics"); the password stays a reference Rasa resolves from its environment.
EVENT_BROKER_SECTION = """
event_broker:
  type: pika
  url: {url}
  port: {port}
  username: {username}
  password: ${{EVENT_BROKER_PASSWORD}}
  queues:
    - {queue}
  exchange_name: {exchange}
"""


@needs_rabbitmq
async def test_rasas_pika_broker_configured_by_endpoints_feeds_the_consumer_masked_events(
    amqp_url, queue, sqlite_sessions, tmp_path, monkeypatch
):
    """Rasa's own PikaEventBroker, read from an endpoints.yml like the stack's, publishes what
    MaskingTrackerStore saves to the queue the consumer reads — masked: no CPF reaches RabbitMQ."""
    import aio_pika
    from rasa.core.brokers.broker import EventBroker
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from yarl import URL

    from bot.tracker_store import MaskingTrackerStore

    parsed = URL(amqp_url)
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        EVENT_BROKER_SECTION.format(
            url=str(parsed.with_user(None)),
            port=parsed.port or 5672,
            username=parsed.raw_user or "guest",
            queue=queue,
            exchange=queue,  # not Rasa's default exchange, which every Rasa on this server shares
        )
    )
    monkeypatch.setenv("EVENT_BROKER_PASSWORD", parsed.raw_password or "guest")
    config = AvailableEndpoints.read_endpoints(str(endpoints)).event_broker
    assert config.kwargs["password"] == (parsed.password or "guest")  # ${VAR} resolved by Rasa

    broker = await EventBroker.create(config)
    inspect_queue = f"{queue}_inspect"  # a second queue on the same (fanout) exchange, read raw
    connection = await aio_pika.connect(amqp_url, timeout=WAIT_S)
    try:
        channel = await connection.channel()
        raw = await channel.declare_queue(inspect_queue, durable=True)
        await raw.bind(queue)
        store = MaskingTrackerStore(
            Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"), event_broker=broker
        )
        await store.save(DialogueStateTracker.from_events("fila-rasa", conversation_events()))

        count = len(conversation_events())
        consumer = _consumer(amqp_url, queue, sqlite_sessions)
        async with _running(consumer):
            await _until(consumer, lambda stats: stats.acknowledged == count)
        assert consumer.stats.stored == count
        assert await _turns(sqlite_sessions, "fila-rasa") == _expected()

        bodies = []  # the same messages, as they were in RabbitMQ
        while (message := await raw.get(no_ack=True, fail=False, timeout=WAIT_S)) is not None:
            bodies.append(message.body.decode())
        assert len(bodies) == count
        assert any("[cpf]" in body for body in bodies)
        assert not any(CPF in body or BIRTH in body or re.search(r"(?<![\d.])1985(?!\d)", body) for body in bodies)
    finally:
        await broker.close()
        await connection.close()


def test_the_consumer_names_a_conversation_by_a_pseudonym_not_the_phone_number():
    event = {"sender_id": "whatsapp:+5579998110001", "event": "user", "timestamp": 1_790_000_000.0}
    key = b"k" * 32
    named = parse_event(json.dumps(event).encode(), pseudonym_key=key)
    assert "5579998110001" not in named.sender_id
    assert named.sender_id == parse_event(json.dumps(event).encode(), pseudonym_key=key).sender_id  # stable
    assert named.sender_id != parse_event(json.dumps(event).encode(), pseudonym_key=b"x" * 32).sender_id
