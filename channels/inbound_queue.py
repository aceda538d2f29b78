"""Durable inbound for WhatsApp and Telegram (INBOUND_AMQP_URL): the webhook answers the provider only
after the update is safe in RabbitMQ, and the update is taken off the queue only after its reply was sent.
Without INBOUND_AMQP_URL nothing here runs: the channels hand the message to `channels.lanes` in the
process, as before (docs/channels.md, "Fila de entrada durável").

Webhook (channels.provider_input.ProviderInput.take, after the signature / secret check):
    seen id (SET NX) -> publish with a publisher confirm -> 200 | 503 (the seen id forgotten: the retry counts)
The publish runs in a thread with an event loop of its own (channels.inbound_publisher), not on Rasa's.

Queues: for each channel, INBOUND_SHARDS (default 32) quorum queues "<INBOUND_QUEUE_PREFIX>.<channel>.<n>"
(prefix default "assistente.inbound"), each declared with `x-single-active-consumer`. A conversation always
goes to the same shard (`InboundConfig.shard`: SHA-256 of channel and sender, stable across processes and
versions of Python), and RabbitMQ gives a shard to one consumer at a time (the others wait as standbys).
That consumer holds up to INBOUND_PREFETCH (default 8) of the shard's messages and puts each in its
conversation's lane: the shard's conversations run side by side, and a conversation's messages one after
the other, in the queue's order, whichever Rasa instance published them (with a prefetch of 1, as before
2026-12-01, a slow turn held every other conversation of its shard). A failed handling is tried again in
hand, not given back to the queue, where it would come after the conversation's next messages, which the
consumer may hold already. Quorum queues: durable by design (replicated on a RabbitMQ cluster, confirmed
once written on a majority), and they count deliveries (`x-delivery-count`), which with the attempts in
hand bounds a message that never gets through (INBOUND_MAX_DELIVERIES, default 5).

Sharing the shards between Rasa instances (with CHANNEL_REDIS_URL): RabbitMQ activates on each shard the
consumer that subscribed first and never moves it, so the oldest instance would process every shard. So
each consumer is a node in Redis (random id per start, heartbeat every 2 s) and each shard has one owner
among the live nodes, by rendezvous hashing (channels.shard_owners). Every node still subscribes to every
shard (a dead node's shards go to a standby at once), each shard on an AMQP channel of its own. A node
given a message of a shard it does not own starts nothing more of that shard, waits for the messages of
the shard it is handling to be settled, then closes the shard's channel and subscribes again, at the back
of the shard's consumers: what it held and did not start goes back to the head of the queue, in order,
and RabbitMQ activates the next consumer, the owner if subscribed (with 3+ nodes, maybe after one more
non-owner did the same). Settling first matters: RabbitMQ 3.10 activates the next consumer as soon as the
active one cancels, even while it holds a message, so a message still running could overlap the next
message of its conversation elsewhere. A standby gets nothing and does nothing; a shard is handed back at
most once per HAND_BACK_COOLDOWN_S (5 s), so a shard whose owner is not subscribed (starting,
reconnecting) costs a channel per 5 s, not per message. Without CHANNEL_REDIS_URL, or while Redis does not
answer, nothing is handed back (as above).

Why 32 shards by default (it was 8): the shards are what the instances share. With 8, rendezvous split
them between two instances 6/2 or worse in 3 starts out of 10; with 32, 11/21 or worse in 1 out of 9. A
quorum queue is a Raft group of its own (a process and files on each RabbitMQ node; an empty one about
25 KB on RabbitMQ 3.10): 2 channels x 32 queues cost little, and beyond that Rasa's event loop, not the
shards, bounds the turns.

Worker (`InboundQueue.start`, run by the blueprint's after_server_start listener once Rasa has a model): the
AMQP side in a thread with an event loop of its own, the handler and the Redis calls on Rasa's loop (`start`
says why):
    delivery -> [shard not owned: hand it back] -> the conversation's lane -> already answered? ack |
    handler (the channel's own process(): Rasa's turn and the channel's sends) -> mark answered (Redis with
    CHANNEL_REDIS_URL) -> ack
A message whose handling was cut (process killed, connection lost: the handling is cancelled with it) is
delivered again and handled again; one whose reply went out and was marked is skipped. The windows left
(docs/channels.md, "Responder uma vez"): the reply sent and the process gone before the mark is stored (one
Redis round trip), or gone mid-turn after part of the reply went out -> that part twice; a network split
this instance notices later than RabbitMQ -> two instances on one message for that while. On server stop
the messages being handled are finished (INBOUND_STOP_TIMEOUT_S) and acknowledged, no new one is started,
and the connection is closed: what was delivered and not acknowledged goes back to the head of its queue
for the next consumer.

The message body is the update as the provider sent it and the signature check accepted it (WhatsApp's
form fields, Telegram's update JSON), in an envelope with the channel, the sender and the provider's id
(`Inbound`); it contains what the user wrote, unmasked, until it is consumed (docs/channels.md).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import aio_pika
import redis.asyncio as aioredis  # type: ignore[import-untyped]
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from redis.exceptions import RedisError  # type: ignore[import-untyped]

from channels.inbound_publisher import ThreadedPublisher
from channels.shard_owners import HEARTBEAT_S, Membership, owned_by
from channels.shared_state import SEEN_MEMORY_SIZE, SEEN_TTL_S, ChannelState, RedisChannelState
from common.amqp import BROKER_ERRORS, CLOSE_TIMEOUT_S, ConnectionLost, close_quietly, describe, redacted

logger = logging.getLogger(__name__)

URL_ENV = "INBOUND_AMQP_URL"
SHARDS_ENV = "INBOUND_SHARDS"
PREFETCH_ENV = "INBOUND_PREFETCH"
QUEUE_PREFIX_ENV = "INBOUND_QUEUE_PREFIX"
PUBLISH_TIMEOUT_ENV = "INBOUND_PUBLISH_TIMEOUT_S"
MAX_DELIVERIES_ENV = "INBOUND_MAX_DELIVERIES"
STOP_TIMEOUT_ENV = "INBOUND_STOP_TIMEOUT_S"

DEFAULT_SHARDS = 32
# messages of a shard a consumer holds at once: the shard's conversations (up to this many) run side by
# side, each conversation's messages one after the other
DEFAULT_PREFETCH = 8
MAX_PREFETCH = 256
MAX_SHARDS = 1024
DEFAULT_QUEUE_PREFIX = "assistente.inbound"
# connect (if needed) + publish + confirm. Twilio waits 15 s for the webhook and does not send an inbound
# message again after a 5xx (unless the URL asks it to): a 503 loses the message. On Rasa's loop the
# publishes waited for its turns (bench-cluster: 5 s gave ~200 503s a phase, 12 s ~120): now on their own
PUBLISH_TIMEOUT_S = 12.0
MAX_DELIVERIES = 5
STOP_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
INITIAL_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
READY_POLL_S = 1.0
HAND_BACK_COOLDOWN_S = 5.0
# a message that waited longer than this in its shard before this consumer took it is logged as a warning
SLOW_WAIT_S = 10.0
PUBLISHED_AT_HEADER = "x-published-at"  # milliseconds since the epoch when the webhook published it

# every declaration (publisher and consumer, every instance) must use exactly these: RabbitMQ refuses a
# declaration whose arguments differ from the queue's (PRECONDITION_FAILED)
QUEUE_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum", "x-single-active-consumer": True}
FORMAT = 1

# a connection that cannot be opened or was lost, a publish not confirmed in time


class InboundSettingsError(ValueError):
    """An INBOUND_* setting that cannot work (the Rasa server refuses to start with it)."""


class PublishFailed(Exception):
    """RabbitMQ did not take the update (unreachable, refused, or no confirm in time): answer 503."""


@dataclass(frozen=True)
class InboundConfig:
    url: str
    shards: int = DEFAULT_SHARDS
    prefetch: int = DEFAULT_PREFETCH
    queue_prefix: str = DEFAULT_QUEUE_PREFIX
    publish_timeout_s: float = PUBLISH_TIMEOUT_S
    max_deliveries: int = MAX_DELIVERIES
    stop_timeout_s: float = STOP_TIMEOUT_S
    initial_backoff_s: float = INITIAL_BACKOFF_S
    max_backoff_s: float = MAX_BACKOFF_S
    heartbeat_s: float = HEARTBEAT_S
    hand_back_cooldown_s: float = HAND_BACK_COOLDOWN_S

    def __post_init__(self) -> None:
        if not self.url.startswith(("amqp://", "amqps://")):
            raise InboundSettingsError(f"{URL_ENV} must be an amqp:// or amqps:// URL")
        if not 1 <= self.shards <= MAX_SHARDS:
            raise InboundSettingsError(f"{SHARDS_ENV} must be between 1 and {MAX_SHARDS}")
        if not 1 <= self.prefetch <= MAX_PREFETCH:
            raise InboundSettingsError(f"{PREFETCH_ENV} must be between 1 and {MAX_PREFETCH}")
        if not self.queue_prefix:
            raise InboundSettingsError(f"{QUEUE_PREFIX_ENV} must not be empty")
        if self.publish_timeout_s <= 0 or self.stop_timeout_s < 0 or self.max_deliveries < 1:
            raise InboundSettingsError("INBOUND_* timeouts must be positive and deliveries at least 1")
        if self.heartbeat_s <= 0 or self.hand_back_cooldown_s < 0:
            raise InboundSettingsError("the heartbeat must be positive and the hand-back cool-down not negative")

    def __repr__(self) -> str:
        return (
            f"InboundConfig(url={redacted(self.url)!r}, shards={self.shards}, prefetch={self.prefetch}, "
            f"queue_prefix={self.queue_prefix!r})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> InboundConfig | None:
        """None without INBOUND_AMQP_URL (the in-process path)."""
        environ = os.environ if environ is None else environ
        url = (environ.get(URL_ENV) or "").strip()
        if not url:
            return None

        def number(name: str, default: float, kind: Callable[[str], Any] = float) -> Any:
            raw = (environ.get(name) or "").strip()
            try:
                return kind(raw) if raw else default
            except ValueError:
                raise InboundSettingsError(f"{name} must be a number") from None

        return cls(
            url=url,
            shards=number(SHARDS_ENV, DEFAULT_SHARDS, int),
            prefetch=number(PREFETCH_ENV, DEFAULT_PREFETCH, int),
            queue_prefix=(environ.get(QUEUE_PREFIX_ENV) or "").strip() or DEFAULT_QUEUE_PREFIX,
            publish_timeout_s=number(PUBLISH_TIMEOUT_ENV, PUBLISH_TIMEOUT_S),
            max_deliveries=number(MAX_DELIVERIES_ENV, MAX_DELIVERIES, int),
            stop_timeout_s=number(STOP_TIMEOUT_ENV, STOP_TIMEOUT_S),
        )

    def shard(self, channel: str, sender: str) -> int:
        """The conversation's shard: the same in every process (not Python's salted hash())."""
        digest = hashlib.sha256(f"{channel}\n{sender}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.shards

    def queue(self, channel: str, shard: int) -> str:
        return f"{self.queue_prefix}.{channel}.{shard}"

    def queues(self, channel: str) -> list[str]:
        return [self.queue(channel, shard) for shard in range(self.shards)]


@dataclass(frozen=True)
class Inbound:
    """One update in the queue: the channel, the conversation, the provider's id (MessageSid, update_id)
    and the payload as the provider sent it."""

    channel: str
    sender: str
    id: str
    payload: Any

    def encode(self) -> bytes:
        body = {"v": FORMAT, "channel": self.channel, "sender": self.sender, "id": self.id, "payload": self.payload}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, body: bytes) -> Inbound:
        """ValueError for anything that is not an envelope of this format."""
        data = json.loads(body)
        if not isinstance(data, dict) or data.get("v") != FORMAT:
            raise ValueError("not an inbound envelope")
        fields = (data.get("channel"), data.get("sender"), data.get("id"))
        if not all(isinstance(value, str) and value for value in fields) or "payload" not in data:
            raise ValueError("an inbound envelope without channel, sender, id or payload")
        channel, sender, message_id = fields
        return cls(str(channel), str(sender), str(message_id), data["payload"])


# ---------------------------------------------------------------------------------------------------
# what was answered already


class AnsweredMarks(Protocol):
    async def answered(self, message_id: str) -> bool: ...

    async def mark(self, message_id: str) -> None: ...


class MemoryAnswered:
    """This process only (no CHANNEL_REDIS_URL): covers a redelivery to the same process (a lost
    connection, a publish retried after its confirm timed out), not a process that died."""

    def __init__(self, ttl_s: float = SEEN_TTL_S, size: int = SEEN_MEMORY_SIZE) -> None:
        self.ttl_s, self.size = ttl_s, size
        self._marks: dict[str, float] = {}

    async def answered(self, message_id: str) -> bool:
        stamp = self._marks.get(message_id)
        return stamp is not None and time.monotonic() - stamp <= self.ttl_s

    async def mark(self, message_id: str) -> None:
        self._marks.pop(message_id, None)
        self._marks[message_id] = time.monotonic()
        while len(self._marks) > self.size:
            del self._marks[next(iter(self._marks))]


class RedisAnswered:
    """<CHANNEL_STATE_PREFIX>answered:<channel>:<id>, kept as long as the seen ids (24 h)."""

    def __init__(self, redis: aioredis.Redis, prefix: str, ttl_s: float = SEEN_TTL_S) -> None:
        self.redis, self.prefix, self.ttl_s = redis, prefix, ttl_s

    async def answered(self, message_id: str) -> bool:
        return bool(await self.redis.exists(self.prefix + message_id))

    async def mark(self, message_id: str) -> None:
        await self.redis.set(self.prefix + message_id, "1", px=max(1, int(self.ttl_s * 1000)))


def answered_marks(state: ChannelState, channel: str) -> AnsweredMarks:
    if isinstance(state, RedisChannelState):
        return RedisAnswered(state.redis, f"{state.prefix}answered:{channel}:")
    return MemoryAnswered()


# ---------------------------------------------------------------------------------------------------
# the queue


@dataclass
class InboundStats:
    """Counts since the process started (logs; the tests wait on them)."""

    published: int = 0
    refused: int = 0  # publishes that failed: the webhook answered 503
    connections: int = 0  # consumer connections that got as far as consuming
    delivered: int = 0  # handlings started (redeliveries included; not what was held and given back)
    handled: int = 0  # handled, marked and acknowledged
    skipped: int = 0  # answered already: acknowledged without handling
    retried: int = 0  # the handler raised: given back to the queue
    dropped: int = 0  # unreadable, or given up after max_deliveries
    nodes: int = 0  # live consumers of the channel in Redis at the last heartbeat (0: not known)
    owned: int = 0  # shards this node owns among them (0: not known, nothing is handed back)
    handed_back: int = 0  # shards this node was given, did not own, and handed back to RabbitMQ


Handler = Callable[[Inbound], Coroutine[Any, Any, None]]
T = TypeVar("T")


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def random_node_id() -> str:
    return uuid.uuid4().hex


@dataclass
class _Held:
    """A message RabbitMQ gave to this consumer and that is not settled yet."""

    message: AbstractIncomingMessage
    inbound: Inbound | None  # None: unreadable
    arrived_at: float  # time.time() when RabbitMQ's delivery reached this process


@dataclass
class _Shard:
    """One shard's queue as this consumer holds it: an AMQP channel of its own (closing it gives back what
    it holds), its subscription, and the messages in hand, one lane per conversation."""

    index: int
    name: str
    channel: AbstractChannel | None = None
    lanes: dict[str, collections.deque[_Held]] = field(default_factory=dict)
    running: int = 0  # messages being handled (started and not settled)
    idle: asyncio.Event = field(default_factory=asyncio.Event)  # set while running == 0
    draining: bool = False  # being handed back: nothing new starts
    reopening: bool = False  # the channel is closed on purpose (its close is no lost connection)
    generation: int = 0  # one more at each subscription: a lane of an earlier one starts nothing
    handed_back_at: float = float("-inf")  # time.monotonic()

    def __post_init__(self) -> None:
        self.idle.set()


def _deliveries_before(message: AbstractIncomingMessage) -> int:
    """How many times RabbitMQ delivered this message before (quorum queues count them)."""
    count = (message.headers or {}).get("x-delivery-count")
    if isinstance(count, int):
        return count
    return 1 if message.redelivered else 0


class _Session:
    """One consumer connection: the handler, the tasks it runs (lanes, hand-backs) and how it ended."""

    def __init__(self, connection: AbstractConnection, handler: Handler) -> None:
        self.connection, self.handler = connection, handler
        self.ended: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
        self.tasks: set[asyncio.Task] = set()

    def end(self, exc: BaseException) -> None:
        if not self.ended.done():
            self.ended.set_result(exc)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.end(task.exception())  # type: ignore[arg-type]

    async def cancel_all(self) -> None:
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class InboundQueue:
    """One channel's shard queues: `publish` (the webhook) and the consumer (`start` / `stop`).
    `members`: the channel's consumers in Redis, to share the shards with the other instances (None: this
    node processes whatever RabbitMQ gives it); `node_ids` makes the node's id at each start."""

    def __init__(
        self,
        config: InboundConfig,
        channel: str,
        answered: AnsweredMarks,
        members: Membership | None = None,
        node_ids: Callable[[], str] = random_node_id,
    ) -> None:
        self.config, self.channel, self.answered = config, channel, answered
        self.members, self.node_ids = members, node_ids
        self.node = ""
        self._owned: frozenset[int] | None = None  # None: unknown, nothing is handed back
        self._members_failing = False
        self.stats = InboundStats()
        self._publisher = ThreadedPublisher(
            config.url, config.queues(channel), QUEUE_ARGUMENTS, f"inbound queue ({channel})"
        )
        # the consumer: a thread with an event loop of its own (see `start`); the handler runs on `_home`
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._home: asyncio.AbstractEventLoop | None = None
        self._done: concurrent.futures.Future[None] | None = None
        self._stopping = threading.Event()
        self._stop_signal = asyncio.Event()  # made again in the consumer's loop at each start; set with _stopping
        self._waiters: set[asyncio.Future[None]] = set()  # wait_for() calls, in their own loop
        self._consuming = False

    # --- publishing (the webhook) ----------------------------------------------------------------

    async def publish(self, sender: str, message_id: Any, payload: Any) -> None:
        """Puts the update on its conversation's shard, persistent, and waits for RabbitMQ's confirm;
        PublishFailed when RabbitMQ did not take it within publish_timeout_s."""
        given = str(message_id) if message_id not in (None, "") else ""
        inbound = Inbound(self.channel, sender, given or uuid.uuid4().hex, payload)
        queue = self.config.queue(self.channel, self.config.shard(self.channel, sender))
        message = aio_pika.Message(
            inbound.encode(),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type="application/json",
            type=self.channel,
            headers={PUBLISHED_AT_HEADER: int(time.time() * 1000)},
        )
        try:
            # in the publisher's own thread and loop (channels.inbound_publisher says why)
            await self._publisher.publish(message, queue, self.config.publish_timeout_s)
        except BROKER_ERRORS as exc:
            self.stats.refused += 1
            logger.error("inbound queue (%s): RabbitMQ did not take update %s (%s)", self.channel, given, describe(exc))
            raise PublishFailed(describe(exc)) from exc
        self.stats.published += 1

    # --- consuming (the worker) ------------------------------------------------------------------

    def start(self, handler: Handler, ready: Callable[[], bool] | None = None) -> None:
        """Consumes the channel's shards in the background until `stop()`; `ready()` (Rasa has a model)
        is waited for first, so that no message is taken that Rasa would ignore.

        The AMQP side (deliveries, acknowledgements, the hand-back's cancel and subscribe) runs in a thread
        with an event loop of its own; `handler`, the answered marks and the membership run on the caller's
        loop (Rasa's), where the channel's clients live. Why: on Rasa's loop, busy with NLU and the
        policies, aio-pika took the deliveries in so slowly that a node handled one message at a time
        (bench-cluster 2026-11-30 21:47 UTC: up to 60 s in the queue, RabbitMQ showing 26 messages
        delivered and not yet read; tests/channels/test_inbound_queue.py, the busy-loop test)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._home = asyncio.get_running_loop()
        self._stopping = threading.Event()
        self.node = self.node_ids()
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            try:  # asyncio.run: what is left pending at the end is cancelled, the loop closed
                asyncio.run(self._run(handler, ready))
                done.set_result(None)
            except BaseException as exc:  # noqa: BLE001 - handed to stop()
                done.set_exception(exc)

        self._done = done
        self._thread = threading.Thread(target=run, name=f"inbound-{self.channel}-consumer", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Finishes the messages in hand (at most stop_timeout_s), leaves the rest in the queue, closes
        the connections."""
        self._stopping.set()
        loop, thread, done = self._loop, self._thread, self._done
        if done is not None and thread is not None:
            if loop is not None:  # None: not running yet, and it checks _stopping when it starts
                try:
                    loop.call_soon_threadsafe(self._signal_stop)
                except RuntimeError:  # the consumer's loop is closed already
                    pass
            try:
                await asyncio.wrap_future(done)
            finally:
                await asyncio.get_running_loop().run_in_executor(None, thread.join, CLOSE_TIMEOUT_S)
                self._loop = self._thread = self._done = None
        await self._publisher.close()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def wait_for(self, predicate: Callable[[InboundStats], bool]) -> None:
        """Returns once `predicate(self.stats)` holds (checked after every change); bound it with
        asyncio.wait_for. Any loop may wait (the counts change in the consumer's thread)."""
        loop = asyncio.get_running_loop()
        while True:
            changed = loop.create_future()
            self._waiters.add(changed)
            try:
                if predicate(self.stats):
                    return
                await changed
            finally:
                self._waiters.discard(changed)

    async def _notify(self) -> None:
        for waiter in list(self._waiters):
            try:
                waiter.get_loop().call_soon_threadsafe(_wake, waiter)
            except RuntimeError:  # its loop is closed: nobody waits there any more
                self._waiters.discard(waiter)

    def _signal_stop(self) -> None:
        self._stop_signal.set()

    async def _at_home(self, work: Coroutine[Any, Any, T]) -> T:
        """Runs `work` (a coroutine) on the caller's loop and waits for it here; cancelled with it."""
        if self._home is None:
            raise RuntimeError("the inbound queue's consumer was not started")
        future = asyncio.run_coroutine_threadsafe(work, self._home)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def _sleep(self, seconds: float) -> bool:
        """Waits `seconds`; True when asked to stop meanwhile."""
        try:
            await asyncio.wait_for(self._stop_signal.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True

    async def _run(self, handler: Handler, ready: Callable[[], bool] | None) -> None:
        """In the consumer's thread."""
        self._loop = asyncio.get_running_loop()
        self._stop_signal = asyncio.Event()
        if self._stopping.is_set():
            self._stop_signal.set()

        async def at_home(inbound: Inbound) -> None:
            await self._at_home(handler(inbound))

        if ready is not None and not ready():
            logger.warning("inbound queue (%s): Rasa has no model loaded; consuming once it has", self.channel)
            while not ready():
                if await self._sleep(READY_POLL_S):
                    return
        delay = self.config.initial_backoff_s
        while not self._stopping.is_set():
            try:
                await self._consume(at_home)
            except Exception as exc:  # logged below; the consumer must outlive any failure
                if self._stopping.is_set():
                    break
                if self._consuming:  # it worked for a while: start the backoff again
                    delay = self.config.initial_backoff_s
                self._consuming = False
                broker = isinstance(exc, BROKER_ERRORS)
                logger.warning(
                    "inbound queue (%s): %s (%s); consuming again in %.1f s",
                    self.channel,
                    "RabbitMQ unavailable" if broker else "consumer failed",
                    describe(exc),
                    delay,
                    exc_info=not broker,
                )
                if await self._sleep(delay):
                    break
                delay = min(delay * 2, self.config.max_backoff_s)
        logger.info("inbound queue (%s): consumer stopped", self.channel, extra={"stats": vars(self.stats)})

    async def _consume(self, handler: Handler) -> None:
        """One connection: every shard of the channel consumed until stop (returns) or a failure (raises)."""
        connection = await aio_pika.connect(self.config.url, timeout=CONNECT_TIMEOUT_S)
        session = _Session(connection, handler)
        connection.close_callbacks.add(
            lambda _sender, exc=None: session.end(ConnectionLost(str(exc or "connection closed")))
        )
        stop_wait = asyncio.ensure_future(self._stop_signal.wait())
        membership: asyncio.Task | None = None
        shards = [_Shard(index, name) for index, name in enumerate(self.config.queues(self.channel))]
        try:
            for shard in shards:
                await self._open_shard(session, shard)
            if self.members is not None:  # subscribed everywhere first: a node that joins can take over
                membership = asyncio.create_task(self._keep_membership(self.members))
            self._consuming = True
            self.stats.connections += 1
            logger.info(
                "inbound queue (%s): consuming %d shard(s) on %s",
                self.channel,
                len(shards),
                redacted(self.config.url),
            )
            await self._notify()
            waits: set[asyncio.Future[Any]] = {session.ended, stop_wait}
            if membership is not None:
                waits.add(membership)
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if self._stopping.is_set():
                # the messages being handled are finished (none starts now); the others go back to their
                # queues when the connection closes
                idle = [asyncio.ensure_future(shard.idle.wait()) for shard in shards]
                try:
                    await asyncio.wait(idle, timeout=self.config.stop_timeout_s)
                finally:
                    for wait in idle:
                        wait.cancel()
                return
            if membership is not None and membership.done():
                membership.result()  # raises what stopped it
            raise session.ended.result() if session.ended.done() else ConnectionLost("the membership stopped")
        finally:
            stop_wait.cancel()
            if membership is not None:
                membership.cancel()  # leaves the membership: the others own this node's shards
                await asyncio.gather(membership, return_exceptions=True)
            # a handling cut here (connection lost, stop timeout) is not acknowledged: RabbitMQ delivers
            # the message again, to whichever consumer has the shard next
            await session.cancel_all()
            await close_quietly(connection, f"inbound queue ({self.channel})")

    async def _open_shard(self, session: _Session, shard: _Shard) -> None:
        """A channel for the shard, its prefetch, and the subscription (at the back of the shard's consumers)."""
        channel = await session.connection.channel(publisher_confirms=False)

        def closed(_sender: Any, exc: BaseException | None = None) -> None:
            if not shard.reopening:
                session.end(ConnectionLost(f"shard {shard.index}'s channel closed ({exc or 'no reason given'})"))

        channel.close_callbacks.add(closed)
        # per consumer: at most `prefetch` messages of the shard in hand, one conversation's one at a time
        await channel.set_qos(prefetch_count=self.config.prefetch)
        queue = await channel.declare_queue(shard.name, durable=True, arguments=QUEUE_ARGUMENTS)
        shard.channel = channel
        shard.generation += 1
        await queue.consume(functools.partial(self._arrive, session, shard, shard.generation))

    async def _arrive(
        self, session: _Session, shard: _Shard, generation: int, message: AbstractIncomingMessage
    ) -> None:
        """A delivery: into its conversation's lane (started at once when the lane is free). Left in hand,
        not started, while stopping or handing the shard back: it goes back to the queue with the channel."""
        arrived_at = time.time()
        if self._stopping.is_set() or shard.draining or generation != shard.generation:
            return
        if self._hand_back_due(shard):
            shard.draining = True
            session.spawn(self._hand_back(session, shard))
            return
        try:
            inbound: Inbound | None = Inbound.decode(message.body)
        except ValueError as exc:
            logger.error("inbound queue (%s): unreadable message dropped (%s)", self.channel, exc)
            inbound = None
        key = inbound.sender if inbound is not None else f"\0unreadable {message.delivery_tag}"
        lane = shard.lanes.get(key)
        if lane is None:
            lane = shard.lanes[key] = collections.deque()
            session.spawn(self._run_lane(session, shard, key, lane))
        lane.append(_Held(message, inbound, arrived_at))

    async def _run_lane(self, session: _Session, shard: _Shard, key: str, lane: collections.deque[_Held]) -> None:
        """One conversation's messages in hand, one after the other, in the order RabbitMQ gave them."""
        generation = shard.generation
        try:
            while lane and not shard.draining and generation == shard.generation and not self._stopping.is_set():
                held = lane.popleft()
                shard.running += 1
                shard.idle.clear()
                try:
                    await self._handle(held, session.handler)
                finally:
                    shard.running -= 1
                    if shard.running == 0:
                        shard.idle.set()
        finally:
            if shard.lanes.get(key) is lane:
                del shard.lanes[key]

    async def _handle(self, held: _Held, handler: Handler) -> None:
        message, inbound = held.message, held.inbound
        self.stats.delivered += 1
        if inbound is None:
            await self._drop(message)
            return
        if await self._already_answered(inbound):
            logger.info("inbound queue (%s): update %s was answered already", self.channel, inbound.id)
            await message.ack()
            self.stats.skipped += 1
            await self._notify()
            return
        # tried again here, in hand: given back to the queue it would come after the conversation's next
        # messages, which this consumer may hold already
        deliveries = _deliveries_before(message)
        while True:
            if deliveries >= self.config.max_deliveries:
                logger.error(
                    "inbound queue (%s): update %s dropped after %d attempts", self.channel, inbound.id, deliveries
                )
                await self._drop(message)
                return
            taken = time.time()
            try:
                await handler(inbound)
                break
            except Exception:
                logger.exception(
                    "inbound queue (%s): handling update %s failed; trying again", self.channel, inbound.id
                )
                deliveries += 1
                self.stats.retried += 1
                await self._notify()
        await self._mark_answered(inbound)
        await message.ack()
        self.stats.handled += 1
        self._log_times(held, inbound, taken)
        await self._notify()

    def _log_times(self, held: _Held, inbound: Inbound, taken: float) -> None:
        """How long the update waited in its shard and how long its handling took."""
        published = (held.message.headers or {}).get(PUBLISHED_AT_HEADER)
        in_queue = held.arrived_at - published / 1000 if isinstance(published, int) else float("nan")
        in_process = taken - held.arrived_at
        handled = time.time() - taken
        level = logging.WARNING if in_queue + in_process > SLOW_WAIT_S else logging.INFO
        logger.log(
            level,
            "inbound queue (%s): update %s of shard %d waited %.1f s in RabbitMQ and %.1f s here, handled in %.1f s",
            self.channel,
            inbound.id,
            self.config.shard(inbound.channel, inbound.sender),
            in_queue,
            in_process,
            handled,
        )

    async def _drop(self, message: AbstractIncomingMessage) -> None:
        await message.reject(requeue=False)
        self.stats.dropped += 1
        await self._notify()

    # --- sharing the shards (see the module's docstring) -----------------------------------------

    async def _hand_back(self, session: _Session, shard: _Shard) -> None:
        """Gives a shard this node does not own back to RabbitMQ: once the messages being handled are
        settled, closes the shard's channel (what it holds and did not start goes back to the head of the
        queue, in order, and RabbitMQ activates the shard's next consumer) and subscribes again, at the back."""
        await shard.idle.wait()
        shard.reopening = True
        try:
            if shard.channel is not None:
                await shard.channel.close()
            shard.lanes.clear()
            shard.handed_back_at = time.monotonic()
            shard.draining = False
            await self._open_shard(session, shard)
        finally:
            shard.reopening = False
        self.stats.handed_back += 1
        logger.debug("inbound queue (%s): shard %d handed back to its owner", self.channel, shard.index)
        await self._notify()

    def _hand_back_due(self, shard: _Shard) -> bool:
        if self._owned is None or shard.index in self._owned or self._stopping.is_set():
            return False
        return time.monotonic() - shard.handed_back_at >= self.config.hand_back_cooldown_s

    async def _keep_membership(self, members: Membership) -> None:
        """While this connection consumes: says every heartbeat_s that this node is alive and works out
        the shards it owns; when the connection ends or the server stops, leaves."""
        try:
            while True:
                await self._beat(members)
                if await self._sleep(self.config.heartbeat_s):
                    return
        finally:
            await self._own(None, 0)
            try:
                await asyncio.wait_for(self._at_home(members.leave(self.node)), CLOSE_TIMEOUT_S)
            except (RedisError, OSError, asyncio.TimeoutError) as exc:
                logger.warning("inbound queue (%s): could not leave the shard owners (%s)", self.channel, describe(exc))

    async def _beat(self, members: Membership) -> None:
        try:
            live = await asyncio.wait_for(self._at_home(members.beat(self.node)), members.ttl_s)
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            if not self._members_failing:  # once per outage
                logger.warning(
                    "inbound queue (%s): shard owners unknown (Redis: %s); this node keeps what RabbitMQ gives it",
                    self.channel,
                    describe(exc),
                )
            self._members_failing = True
            await self._own(None, 0)
            return
        self._members_failing = False
        await self._own(owned_by(self.node, self.config.shards, live), len(set(live) | {self.node}))

    async def _own(self, owned: frozenset[int] | None, nodes: int) -> None:
        if owned == self._owned and nodes == self.stats.nodes:
            return
        self._owned = owned
        self.stats.owned, self.stats.nodes = len(owned or ()), nodes
        if owned is not None:
            logger.info(
                "inbound queue (%s): this node owns %d of %d shards (%d nodes alive)",
                self.channel,
                len(owned),
                self.config.shards,
                nodes,
            )
        await self._notify()

    async def _already_answered(self, inbound: Inbound) -> bool:
        """Checked on every delivery, not only on redeliveries: a publish whose confirm timed out may
        have reached the queue after all, and its retry is a second copy of the same update."""
        try:
            return await self._at_home(self.answered.answered(inbound.id))
        except (RedisError, OSError) as exc:
            logger.warning("inbound queue (%s): could not check update %s (%s)", self.channel, inbound.id, exc)
            return False

    async def _mark_answered(self, inbound: Inbound) -> None:
        try:
            await self._at_home(self.answered.mark(inbound.id))
        except (RedisError, OSError) as exc:
            logger.warning("inbound queue (%s): could not mark update %s (%s)", self.channel, inbound.id, exc)


def inbound_queue(channel: str, state: ChannelState, environ: Mapping[str, str] | None = None) -> InboundQueue | None:
    """The channel's queue from the environment; None without INBOUND_AMQP_URL."""
    config = InboundConfig.from_env(environ)
    if config is None:
        return None
    if not isinstance(state, RedisChannelState):
        logger.warning(
            "inbound queue (%s): without CHANNEL_REDIS_URL, what was answered is remembered only by this "
            "process: a message redelivered after a restart may be answered twice",
            channel,
        )
    members = None
    if isinstance(state, RedisChannelState):
        members = Membership(state.redis, f"{state.prefix}inbound-nodes:{config.queue_prefix}.{channel}")
    return InboundQueue(config, channel, answered_marks(state, channel), members)
