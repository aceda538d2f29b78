"""RabbitMQ for the inbound queue's tests: TEST_AMQP_URL (skip reason when unset), the queues of a test's
prefix (counted, deleted), and a TCP proxy in front of RabbitMQ that a test takes down, brings back or
pauses."""

from __future__ import annotations

import asyncio
import contextlib
import os

import aio_pika
from yarl import URL

AMQP_URL = os.environ.get("TEST_AMQP_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
NO_AMQP = (
    "TEST_AMQP_URL not set (CI sets it to the machine's RabbitMQ, amqp://guest:guest@127.0.0.1:5672/): "
    "the durable inbound queue is not tested"
)
NO_REDIS = (
    "TEST_REDIS_URL not set (CI sets it to the machine's Redis): the inbound queue's answered marks across "
    "processes are not tested"
)
WAIT_S = 30


async def ready_messages(url: str, queue: str) -> int:
    """Messages waiting in the queue (not the delivered, unacknowledged ones)."""
    connection = await aio_pika.connect(url, timeout=WAIT_S)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0
    finally:
        await connection.close()


async def delete_queues(url: str, queues: list[str]) -> None:
    connection = await aio_pika.connect(url, timeout=WAIT_S)
    try:
        channel = await connection.channel()
        for name in queues:
            await channel.queue_delete(name)
    finally:
        await connection.close()


class TcpProxy:
    """A TCP proxy in front of RabbitMQ, always on the same port: `down()` drops every connection (no AMQP
    close, as when the network or the broker fails) and refuses new ones until `up()`; `pause()` holds
    the bytes both ways (a broker that does not answer) until `resume()`, which passes them on."""

    def __init__(self, url: str) -> None:
        parsed = URL(url)
        self.host, self.port = parsed.host or "127.0.0.1", parsed.port or 5672
        self.target = parsed
        self.listen_port = 0
        self.server: asyncio.AbstractServer | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.flowing = asyncio.Event()
        self.flowing.set()

    @property
    def url(self) -> str:
        return str(self.target.with_host("127.0.0.1").with_port(self.listen_port))

    async def up(self) -> TcpProxy:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)
        self.listen_port = self.server.sockets[0].getsockname()[1]
        return self

    async def down(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    def pause(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            writer.transport.abort()
            return
        self.writers += [writer, upstream_writer]

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    await self.flowing.wait()
                    target.write(data)
                    await target.drain()
            target.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
