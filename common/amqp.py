"""What the RabbitMQ clients of this project (backend/analytics_consumer.py, channels/inbound_queue.py)
say the same way: the broker URL without its password, the errors that mean "the broker is not
there", and an error in one log-safe line."""

from __future__ import annotations

import asyncio

from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from yarl import URL


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
