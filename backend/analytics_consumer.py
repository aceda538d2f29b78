"""`python -m backend.analytics_consumer`: stores the conversation events Rasa publishes to RabbitMQ
(backend.analytics; docs/deploy.md, "Analytics").

Settings (environment): EVENT_BROKER_URL (amqp://user:password@host:5672/vhost, required),
EVENT_QUEUE (default rasa_events: the queue Rasa's endpoints.yml `event_broker.queues` names),
EVENT_PREFETCH (default 100), DATABASE_URL (the backend's; migrated first: python -m backend.migrate).

Delivery: at least once, stored once. The queue is declared durable (as Rasa declares it, so
either may start first); up to EVENT_PREFETCH messages are in flight; each batch is stored in one
transaction and its messages are acknowledged only after the commit. A consumer that dies between
the commit and the ack gets the same messages again and stores nothing new (backend.analytics:
unique key, INSERT ... ON CONFLICT DO NOTHING). A message that is not an event is rejected (dropped,
logged without its content); the database down, the batch waits and is retried (1 s, 2 s... 30 s)
without acknowledging anything. A lost connection to RabbitMQ is reopened with the same backoff.
SIGTERM or SIGINT: the batch in hand is finished (stored and acknowledged), the rest is left to
RabbitMQ, which delivers it again to the next consumer; exit code 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from sqlalchemy import inspect
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from backend.analytics import EventRecord, InvalidEvent, Stored, parse_event, store_events
from backend.db import create_engine, session_factory
from backend.settings import Settings, SettingsError
from common.amqp import BROKER_ERRORS, ConnectionLost, close_quietly, describe, redacted

logger = logging.getLogger("backend.analytics_consumer")  # also when run as __main__

DEFAULT_QUEUE = "rasa_events"
DEFAULT_PREFETCH = 100
CONNECT_TIMEOUT_S = 10
INITIAL_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
TABLES = ("analytics_events", "analytics_turns")

# a connection that cannot be opened or was lost: open a new one after a while
# what one message's data can make the database refuse (the others are the database's own trouble)
MESSAGE_ERRORS = (DataError, IntegrityError)


class _Stopping(Exception):
    """Asked to stop while waiting for the database: leave the batch unacknowledged."""


class _Unstorable(Exception):
    """The database refused the batch because of its data."""


@dataclass(frozen=True)
class ConsumerConfig:
    broker_url: str
    queue: str = DEFAULT_QUEUE
    prefetch: int = DEFAULT_PREFETCH
    initial_backoff_s: float = INITIAL_BACKOFF_S
    max_backoff_s: float = MAX_BACKOFF_S

    def __post_init__(self) -> None:
        if not self.broker_url.startswith(("amqp://", "amqps://")):
            raise SettingsError("EVENT_BROKER_URL must be an amqp:// or amqps:// URL")
        if not self.queue:
            raise SettingsError("EVENT_QUEUE must not be empty")
        if not 1 <= self.prefetch <= 10_000:
            raise SettingsError("EVENT_PREFETCH must be between 1 and 10000")

    def __repr__(self) -> str:
        url = redacted(self.broker_url)
        return f"ConsumerConfig(broker_url={url!r}, queue={self.queue!r}, prefetch={self.prefetch})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsumerConfig:
        env = os.environ if env is None else env
        url = env.get("EVENT_BROKER_URL", "").strip()
        if not url:
            raise SettingsError("EVENT_BROKER_URL is not set (amqp://user:password@host:5672/)")
        try:
            prefetch = int(env.get("EVENT_PREFETCH") or DEFAULT_PREFETCH)
        except ValueError:
            raise SettingsError("EVENT_PREFETCH must be a number") from None
        return cls(broker_url=url, queue=env.get("EVENT_QUEUE", "").strip() or DEFAULT_QUEUE, prefetch=prefetch)


@dataclass
class ConsumerStats:
    """Counts since the consumer started (logged at the end; the tests wait on them)."""

    connections: int = 0
    delivered: int = 0  # messages received, redeliveries included
    acknowledged: int = 0
    stored: int = 0  # new events
    turns: int = 0
    duplicates: int = 0  # events already stored (a redelivery)
    rejected: int = 0  # not events: dropped


class AnalyticsConsumer:
    """Reads the event queue into the analytics tables until `stop()` (see the module's docstring)."""

    def __init__(self, config: ConsumerConfig, sessions: sessionmaker, pseudonym_key: bytes | None = None) -> None:
        self.config = config
        self.sessions = sessions
        self.pseudonym_key = pseudonym_key  # conversation ids stored as their HMAC (analytics.parse_event)
        self.stats = ConsumerStats()
        self._stopping = asyncio.Event()
        self._changed = asyncio.Condition()
        self._consuming = False

    def stop(self) -> None:
        """Finish the batch in hand and return from `run()` (safe from a signal handler)."""
        self._stopping.set()

    async def wait_for(self, predicate: Callable[[ConsumerStats], bool]) -> None:
        """Returns once `predicate(self.stats)` holds (checked after every connection and batch);
        bound it with asyncio.wait_for."""
        async with self._changed:
            await self._changed.wait_for(lambda: predicate(self.stats))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _sleep(self, seconds: float) -> bool:
        """Waits `seconds`; True when asked to stop meanwhile."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    async def run(self) -> None:
        delay = self.config.initial_backoff_s
        while not self._stopping.is_set():
            try:
                await self._consume()
            except _Stopping:
                break
            except BROKER_ERRORS as exc:
                if self._stopping.is_set():
                    break
                if self._consuming:  # it worked for a while: start the backoff again
                    delay = self.config.initial_backoff_s
                self._consuming = False
                logger.warning(
                    "analytics consumer: RabbitMQ unavailable (%s); retrying in %.0f s", describe(exc), delay
                )
                if await self._sleep(delay):
                    break
                delay = min(delay * 2, self.config.max_backoff_s)
        logger.info("analytics consumer stopped", extra={"stats": vars(self.stats)})

    async def _consume(self) -> None:
        """One connection: consumes until asked to stop; raises when the connection goes."""
        loop = asyncio.get_running_loop()
        connection = await aio_pika.connect(self.config.broker_url, timeout=CONNECT_TIMEOUT_S)
        lost: asyncio.Future[Any] = loop.create_future()

        def on_close(_sender: Any, exc: BaseException | None = None) -> None:
            if not lost.done():
                lost.set_result(exc)

        connection.close_callbacks.add(on_close)
        stop_wait = asyncio.ensure_future(self._stopping.wait())
        try:
            channel = await connection.channel()
            channel.close_callbacks.add(on_close)
            await channel.set_qos(prefetch_count=self.config.prefetch)
            queue = await channel.declare_queue(self.config.queue, durable=True)
            inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await queue.consume(inbox.put)
            self._consuming = True
            self.stats.connections += 1
            logger.info("analytics consumer: consuming %s on %s", self.config.queue, redacted(self.config.broker_url))
            await self._notify()
            while not (self._stopping.is_set() or lost.done()):
                getter = asyncio.ensure_future(inbox.get())
                await asyncio.wait({getter, lost, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    break
                batch = [getter.result()]
                while len(batch) < self.config.prefetch and not inbox.empty():
                    batch.append(inbox.get_nowait())
                await self._handle(batch)
            if lost.done() and not self._stopping.is_set():
                raise ConnectionLost(str(lost.result() or "connection closed"))
        finally:
            stop_wait.cancel()
            # what was delivered and not acknowledged goes back to the queue when the channel closes
            await close_quietly(connection, "analytics consumer")

    async def _handle(self, batch: Sequence[AbstractIncomingMessage]) -> None:
        self.stats.delivered += len(batch)
        records: list[tuple[AbstractIncomingMessage, EventRecord]] = []
        for message in batch:
            try:
                records.append((message, parse_event(message.body, pseudonym_key=self.pseudonym_key)))
            except InvalidEvent as exc:
                await self._reject(message, str(exc))
        if records:
            try:
                stored = await self._store([record for _, record in records])
            except _Unstorable:
                if len(records) == 1:
                    await self._reject(records[0][0], "refused by the database")
                else:  # find the culprit: one by one
                    for message, record in records:
                        await self._handle_one(message, record)
            else:
                self._count(stored)
                await self.acknowledge([message for message, _ in records])
        await self._notify()

    async def _handle_one(self, message: AbstractIncomingMessage, record: EventRecord) -> None:
        try:
            stored = await self._store([record])
        except _Unstorable:
            await self._reject(message, "refused by the database")
        else:
            self._count(stored)
            await self.acknowledge([message])

    def _count(self, stored: Stored) -> None:
        self.stats.stored += stored.events
        self.stats.turns += stored.turns
        self.stats.duplicates += stored.duplicates

    async def _store(self, records: Sequence[EventRecord]) -> Stored:
        """Stores and commits, waiting out a database that does not answer."""
        delay = self.config.initial_backoff_s
        while True:
            try:
                async with self.sessions() as session:
                    stored = await store_events(session, records)
                    await session.commit()
                return stored
            except MESSAGE_ERRORS as exc:
                logger.error("analytics consumer: the database refused a batch (%s)", type(exc).__name__)
                raise _Unstorable() from exc
            except (SQLAlchemyError, OSError, asyncio.TimeoutError) as exc:
                logger.warning(
                    "analytics consumer: database unavailable (%s); retrying in %.0f s", describe(exc), delay
                )
                if await self._sleep(delay):
                    raise _Stopping() from exc
                delay = min(delay * 2, self.config.max_backoff_s)

    async def acknowledge(self, messages: Sequence[AbstractIncomingMessage]) -> None:
        """Acknowledges messages whose events are committed."""
        for message in messages:
            await message.ack()
        self.stats.acknowledged += len(messages)

    async def _reject(self, message: AbstractIncomingMessage, reason: str) -> None:
        # never the body: it is a conversation (masked, but still a conversation)
        logger.error("analytics consumer: message rejected (%s)", reason, extra={"delivery_tag": message.delivery_tag})
        await message.reject(requeue=False)
        self.stats.rejected += 1


async def missing_tables(sessions: sessionmaker) -> list[str]:
    """The analytics tables the database lacks (not migrated yet)."""
    async with sessions() as session:
        connection = await session.connection()
        present = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    return [table for table in TABLES if table not in present]


async def serve(config: ConsumerConfig, settings: Settings) -> int:
    engine = create_engine(settings)
    sessions = session_factory(engine)
    try:
        try:
            missing = await missing_tables(sessions)
        except (SQLAlchemyError, OSError) as exc:
            logger.error("analytics consumer: database unavailable (%s)", describe(exc))
            return 1
        if missing:
            logger.error(
                "analytics consumer: tables %s missing: run `python -m backend.migrate` first", ", ".join(missing)
            )
            return 1
        consumer = AnalyticsConsumer(config, sessions, pseudonym_key=settings.data_hmac_secret)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, consumer.stop)
        await consumer.run()
        return 0
    finally:
        await engine.dispose()


def main() -> int:
    from common.logs import configure_logging

    configure_logging()
    try:
        config = ConsumerConfig.from_env()
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"python -m backend.analytics_consumer: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    return asyncio.run(serve(config, settings))


if __name__ == "__main__":
    sys.exit(main())
