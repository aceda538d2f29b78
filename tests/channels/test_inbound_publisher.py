"""The webhook's publisher (channels/inbound_publisher.py): the publishes run on a loop of their own, so a
busy caller loop — Rasa's, running NLU and the policies inline — does not hold them past the webhook's
deadline. Against the real RabbitMQ (TEST_AMQP_URL); skipped with the reason otherwise (CI sets it)."""

from __future__ import annotations

import asyncio
import secrets
import time

import aio_pika
import pytest
from amqp_support import AMQP_URL, NO_AMQP, WAIT_S, delete_queues

from channels.inbound_publisher import ThreadedPublisher
from channels.inbound_queue import QUEUE_ARGUMENTS

WEBHOOKS = 40
BLOCK_S = 0.1  # one inline turn of a busy Rasa
DEADLINE_S = 3.0  # far below what 40 publishes need when each waits for several 0.1 s turns of this loop


@pytest.fixture
async def queue_name():
    if not AMQP_URL:
        pytest.skip(NO_AMQP)
    name = f"teste-{secrets.token_hex(6)}.publisher"
    yield name
    await delete_queues(AMQP_URL, [name])


async def busy_loop(stop: asyncio.Event) -> int:
    """Blocks this loop BLOCK_S at a time, as Rasa's turns do; the number of turns it blocked."""
    turns = 0
    while not stop.is_set():
        time.sleep(BLOCK_S)  # noqa: ASYNC251 - blocking the loop is what this simulates
        turns += 1
        await asyncio.sleep(0)
    return turns


async def test_forty_webhooks_on_a_busy_loop_are_all_confirmed_in_time_and_all_queued(queue_name):
    publisher = ThreadedPublisher(AMQP_URL, [queue_name], QUEUE_ARGUMENTS, "test")
    stop = asyncio.Event()
    busy = asyncio.create_task(busy_loop(stop))
    try:
        await asyncio.sleep(0)  # the loop is busy from here on
        results = await asyncio.gather(
            *(
                publisher.publish(aio_pika.Message(f"update {n}".encode()), queue_name, DEADLINE_S)
                for n in range(WEBHOOKS)
            ),
            return_exceptions=True,
        )
    finally:
        stop.set()
        blocked_turns = await busy
        await publisher.close()
    assert blocked_turns > 0  # the loop really was busy while they published
    assert [r for r in results if r is not None] == []  # every webhook could answer 200
    assert sorted(await consumed(queue_name, WEBHOOKS)) == sorted(f"update {n}" for n in range(WEBHOOKS))


async def consumed(queue_name: str, count: int) -> list[str]:
    """The bodies of the first `count` messages of the queue (a consumer: quorum queues with a single
    active consumer refuse basic.get)."""
    connection = await aio_pika.connect(AMQP_URL)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True, arguments=QUEUE_ARGUMENTS)
        bodies: list[str] = []
        async with queue.iterator(timeout=WAIT_S) as messages:
            async for message in messages:
                await message.ack()
                bodies.append(message.body.decode())
                if len(bodies) == count:
                    break
        return bodies
    finally:
        await connection.close()


async def test_after_close_a_publish_starts_the_publisher_again(queue_name):
    publisher = ThreadedPublisher(AMQP_URL, [queue_name], QUEUE_ARGUMENTS, "test")
    await publisher.publish(aio_pika.Message(b"first"), queue_name, DEADLINE_S)
    await publisher.close()
    await publisher.close()  # twice is harmless
    await publisher.publish(aio_pika.Message(b"second"), queue_name, DEADLINE_S)
    await publisher.close()
    assert await consumed(queue_name, 2) == ["first", "second"]
