"""Asking a neighbour process whether it is healthy, for the health endpoints of the action server
(bot/action_server.py asks the backend) and of Rasa (bot/rasa_health.py asks the action server).

HealthProbe(url).ok(): True when GET `url` answers 200 within `timeout_s`. The answer is kept for
`ttl_s`, and callers that ask while a probe is running wait for that probe: a storm of health
checks (a load balancer, several probes, a user hammering the page) costs the neighbour at most
one request every `ttl_s`. No credential is sent: every health endpoint is open by design
(docs/security.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiohttp

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0
PROBE_TTL_S = 2.0


class HealthProbe:
    def __init__(
        self,
        url: str,
        timeout_s: float = PROBE_TIMEOUT_S,
        ttl_s: float = PROBE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.ttl_s = ttl_s
        self.clock = clock
        self._result: tuple[float, bool] | None = None  # (when it was measured, whether it was 200)
        self._pending: asyncio.Task[bool] | None = None
        self.probes = 0  # requests actually sent (the tests count them)

    async def ok(self) -> bool:
        if self._result is not None and self.clock() - self._result[0] < self.ttl_s:
            return self._result[1]
        loop = asyncio.get_running_loop()
        task = self._pending
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._pending = loop.create_task(self._probe())
        # shielded: a caller that gives up (its client went away) does not cancel the others' answer
        return await asyncio.shield(task)

    async def _probe(self) -> bool:
        self.probes += 1
        healthy = False
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout_s)
            async with aiohttp.ClientSession(timeout=timeout) as session, session.get(self.url) as resp:
                healthy = resp.status == 200
                if not healthy:
                    logger.info("health probe: %s answered %s", self.url, resp.status)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            logger.info("health probe: %s did not answer (%s)", self.url, type(exc).__name__)
        self._result = (self.clock(), healthy)
        return healthy
