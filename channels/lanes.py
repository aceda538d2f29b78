"""Per-conversation ordering: jobs with the same key run one after the other, in the order
they were submitted; jobs of different keys run concurrently. A key's worker task exists only
while it has work, so idle conversations cost nothing."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


class Lanes:
    def __init__(self) -> None:
        self._queues: dict[str, deque[tuple[Job, asyncio.Future]]] = {}
        self._workers: dict[str, asyncio.Task] = {}

    def submit(self, key: str, job: Job) -> asyncio.Future:
        """Queues `job` behind the key's earlier jobs; the future gets its result or error."""
        future = asyncio.get_running_loop().create_future()
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            self._workers[key] = asyncio.create_task(self._work(key, queue))
        queue.append((job, future))
        return future

    async def run(self, key: str, job: Job) -> Any:
        """Submits and waits; the job still runs if the caller gives up waiting."""
        return await asyncio.shield(self.submit(key, job))

    def busy(self) -> int:
        return len(self._workers)

    async def drain(self) -> None:
        """Waits until every queued job has run (tests, shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def _work(self, key: str, queue: deque) -> None:
        try:
            while queue:
                job, future = queue.popleft()
                try:
                    result = await job()
                except asyncio.CancelledError:
                    if not future.done():
                        future.cancel()
                    raise
                except Exception as exc:  # noqa: BLE001 - handed to whoever waits
                    if not future.done():
                        future.set_exception(exc)
                        future.add_done_callback(_retrieve)
                else:
                    if not future.done():
                        future.set_result(result)
        finally:
            if queue:  # only when cancelled (shutting down): nobody will run these
                for _, pending in queue:
                    pending.cancel()
            # no await between the emptiness check and this: a submit() cannot slip in between
            self._queues.pop(key, None)
            self._workers.pop(key, None)


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()  # marks it retrieved; the job logs its own errors
