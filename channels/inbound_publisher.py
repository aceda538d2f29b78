"""The webhook's side of the durable inbound queue (channels.inbound_queue): puts an update on RabbitMQ,
with a publisher confirm, from a thread and an event loop of its own.

Why a thread of its own: aio-pika serialises the publishes of one channel (write, drain, then the next
publish) and every step needs a turn of the event loop it runs on. On Rasa's loop, where NLU and the
policies run inline, one turn takes tens to hundreds of milliseconds under load, so the publishes of a
busy node queued behind each other past the webhook's deadline while RabbitMQ confirmed in milliseconds
(bench-cluster 2026-11-30 18:44 UTC: about 120 "did not take update (TimeoutError)" per phase, each a 503,
with REST on the same loop answering in 3 s; 19:37 UTC, with this thread: none). Here the publish runs on a
loop that does nothing else; the webhook's handler waits for one turn of Rasa's loop to be resumed.

The connection and its channel are made on the first publish and kept; a publish that failed or was not
confirmed in time drops them (closed in the background), and the next publish opens new ones. Every
aio-pika object here lives only in the publisher's loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Sequence

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection

from common.amqp import BROKER_ERRORS, close_quietly, describe

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class ThreadedPublisher:
    """Publishes persistent messages to queues declared with `arguments`, from its own thread."""

    def __init__(self, url: str, queues: Sequence[str], arguments: dict, name: str) -> None:
        self.url, self.queues, self.arguments, self.name = url, list(queues), dict(arguments), name
        self._start_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # only touched in the publisher's loop
        self._publisher: tuple[AbstractConnection, AbstractChannel] | None = None
        self._opening: asyncio.Lock | None = None
        self._closing: set[asyncio.Future] = set()

    async def publish(self, message: aio_pika.Message, queue: str, timeout_s: float) -> None:
        """Returns once RabbitMQ confirmed `message` on `queue`; raises one of BROKER_ERRORS otherwise
        (asyncio.TimeoutError after `timeout_s`). The caller's loop is not used by the publish itself."""
        loop = self._running_loop()
        done = asyncio.run_coroutine_threadsafe(self._publish(message, queue), loop)
        try:
            await asyncio.wait_for(asyncio.wrap_future(done), timeout_s)
        except BROKER_ERRORS:
            done.cancel()  # the publish stops in its loop too
            asyncio.run_coroutine_threadsafe(self._drop(), loop)
            raise
        except BaseException:  # the webhook itself was cancelled: the connection is not at fault
            done.cancel()
            raise

    async def close(self) -> None:
        """Closes the connection and stops the thread (a later publish starts them again)."""
        with self._start_lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            closed = asyncio.run_coroutine_threadsafe(self._close_all(), loop)
            await asyncio.wait_for(asyncio.wrap_future(closed), STOP_TIMEOUT_S)
        except BROKER_ERRORS as exc:  # asyncio.TimeoutError is one of them
            logger.debug("%s publisher: closing failed (%s)", self.name, describe(exc))
        except RuntimeError as exc:  # the loop stopped meanwhile
            logger.debug("%s publisher: closing failed (%s)", self.name, describe(exc))
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.get_running_loop().run_in_executor(None, thread.join, STOP_TIMEOUT_S)

    # --- in the publisher's thread -----------------------------------------------------------------

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._start_lock:
            if self._loop is not None and self._thread is not None and self._thread.is_alive():
                return self._loop
            loop = asyncio.new_event_loop()
            started = concurrent.futures.Future()  # type: ignore[var-annotated]

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set_result, None)
                try:
                    loop.run_forever()
                finally:
                    loop.close()

            thread = threading.Thread(target=run, name=f"{self.name}-publisher", daemon=True)
            thread.start()
            started.result(timeout=STOP_TIMEOUT_S)
            self._loop, self._thread = loop, thread
            return loop

    async def _publish(self, message: aio_pika.Message, queue: str) -> None:
        channel = await self._channel()
        # mandatory + on_return_raises: a message no queue took is an error, not a silent loss
        await channel.default_exchange.publish(message, routing_key=queue, mandatory=True)

    async def _channel(self) -> AbstractChannel:
        if self._opening is None:  # made in this loop, the only one it is used in
            self._opening = asyncio.Lock()
        async with self._opening:  # one connection at a time, however many publishes wait for it
            if self._publisher is not None:
                connection, channel = self._publisher
                if not (connection.is_closed or channel.is_closed):
                    return channel
                self._discard(connection)
                self._publisher = None
            connection = await aio_pika.connect(self.url, timeout=CONNECT_TIMEOUT_S)
            try:
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                for name in self.queues:  # so that no update waits for a consumer to declare its queue
                    await channel.declare_queue(name, durable=True, arguments=self.arguments)
            except BaseException:
                self._discard(connection)
                raise
            self._publisher = connection, channel
            return channel

    async def _drop(self) -> None:
        if self._publisher is not None:
            self._discard(self._publisher[0])
            self._publisher = None

    def _discard(self, connection: AbstractConnection) -> None:
        closing = asyncio.ensure_future(close_quietly(connection, f"{self.name} publisher"))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def _close_all(self) -> None:
        await self._drop()
        self._opening = None  # bound to this loop; a publish after close() runs on a new one
        await asyncio.gather(*self._closing, return_exceptions=True)
