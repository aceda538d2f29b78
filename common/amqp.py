"""What the RabbitMQ clients of this project (backend/analytics_consumer.py, channels/inbound_queue.py,
channels/inbound_publisher.py) say and do the same way: the broker URL without its password, the errors
that mean "the broker is not there", an error in one log-safe line, and closing a connection without
waiting long for a broker that does not answer."""

from __future__ import annotations

import asyncio
import logging

from aio_pika.abc import AbstractConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from yarl import URL

logger = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 5.0


class ConnectionLost(ConnectionError):
    """RabbitMQ closed a consumer's connection or channel."""


BROKER_ERRORS: tuple[type[BaseException], ...] = (*CONNECTION_EXCEPTIONS, asyncio.TimeoutError)


def redacted(url: str) -> str:
    """The broker URL without its password (for logs)."""
    parsed = URL(url)
    return str(parsed.with_password("***")) if parsed.password else str(parsed)


def describe(exc: BaseException) -> str:
    """The error's type and its first 200 characters, on one line."""
    detail = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


async def close_quietly(connection: AbstractConnection, who: str) -> None:
    """Closes `connection` (what a consumer held and did not acknowledge goes back to its queue); a broker
    that is gone or silent costs at most CLOSE_TIMEOUT_S and a debug line, never an exception."""
    if connection.is_closed:
        return
    try:
        await asyncio.wait_for(connection.close(), CLOSE_TIMEOUT_S)
    except BROKER_ERRORS as exc:
        logger.debug("%s: closing the connection failed (%s)", who, describe(exc))
