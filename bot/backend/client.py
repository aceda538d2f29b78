"""The one HTTP client the bot reaches the backend with (only through the typed wrappers of
bot.backend: one module per resource).

- one pooled aiohttp session per process;
- one deadline on every call, retries included (BACKEND_TIMEOUT_S, default 6 s);
- retries (with a short back-off) only where it is safe: when the connection could not be
  made, or for idempotent GETs that timed out;
- BackendUnavailable when the backend cannot answer, so actions can tell the user in Portuguese;
- the service credential on every call: `Authorization: Bearer <BACKEND_SERVICE_TOKEN>` (the
  backend answers no one else; see backend/api/service_auth.py). scripts/stack.py passes the
  same value to the backend and to the action server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:8080"
RETRY_DELAYS = (0.2, 0.6)
DEFAULT_DEADLINE_S = 6.0


class BackendUnavailable(RuntimeError):
    """The backend did not answer (down, timing out or failing with 5xx)."""


@dataclass(frozen=True)
class BackendResponse:
    status: int
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> str | None:
        return (self.data.get("error") or {}).get("code") if not self.ok else None

    @property
    def error(self) -> dict[str, Any]:
        return self.data.get("error") or {}


class BackendClient:
    def __init__(
        self, base_url: str | None = None, timeout_s: float | None = None, service_token: str | None = None
    ) -> None:
        self.base_url = (base_url or os.environ.get("BACKEND_URL", DEFAULT_URL)).rstrip("/")
        self._service_token = service_token
        # one deadline per call, retries included: under the Rasa server's wait for the action
        # (bot/turn_recovery.py, ACTION_TIMEOUT_S 8 s), so a slow backend ends in the user's polite
        # answer instead of silence; a bcrypt hash queued under load still fits in it
        self.deadline_s = timeout_s or float(os.environ.get("BACKEND_TIMEOUT_S", str(DEFAULT_DEADLINE_S)))
        self.timeout = aiohttp.ClientTimeout(total=self.deadline_s)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        # a session belongs to the event loop it was made in: another loop (a server restarted in the
        # same process, each test's own loop) gets its own instead of "Event loop is closed"
        if self._session is None or self._session.closed or self._session._loop is not asyncio.get_running_loop():
            self._session = aiohttp.ClientSession(timeout=self.timeout, connector=aiohttp.TCPConnector(limit=100))
        return self._session

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        token = self._service_token or os.environ.get("BACKEND_SERVICE_TOKEN", "")
        headers = dict(extra or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def get(
        self, path: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> BackendResponse:
        return await self._request("GET", path, params=params, headers=headers)

    async def post(
        self, path: str, payload: dict[str, Any], *, headers: dict[str, str] | None = None
    ) -> BackendResponse:
        """A JSON body; `headers` for the requests that carry the verification in them."""
        return await self._request("POST", path, payload, headers=headers)

    async def _request(
        self,
        method: str,
        path: str,
        payload: dict | None = None,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> BackendResponse:
        url = f"{self.base_url}{path}"
        deadline = time.monotonic() + self.deadline_s
        for attempt in range(len(RETRY_DELAYS) + 1):
            try:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise asyncio.TimeoutError(f"no answer in {self.deadline_s:.1f} s")
                async with self._get_session().request(
                    method,
                    url,
                    params=params,
                    headers=self._headers(headers),
                    json=payload,
                    timeout=aiohttp.ClientTimeout(total=remaining),
                ) as resp:
                    data = await resp.json(content_type=None) if resp.content_length != 0 else {}
                    if resp.status >= 500:
                        logger.warning("backend %s %s answered %s", method, path, resp.status)
                        raise BackendUnavailable(f"{method} {path}: HTTP {resp.status}")
                    response = BackendResponse(resp.status, data or {})
                    if response.error_code == "service_unauthorized":
                        logger.error(
                            "backend refused the service credential (is BACKEND_SERVICE_TOKEN the backend's?): %s %s",
                            method,
                            path,
                        )
                    return response
            except aiohttp.ClientConnectorError as exc:
                retry = True  # never reached the backend: safe to repeat
                error: Exception = exc
            except (asyncio.TimeoutError, aiohttp.ServerDisconnectedError) as exc:
                retry = method == "GET"
                error = exc
            except (aiohttp.ClientError, ValueError) as exc:
                retry = False
                error = exc
            if not retry or attempt == len(RETRY_DELAYS) or time.monotonic() + RETRY_DELAYS[attempt] >= deadline:
                logger.warning("backend %s %s unreachable: %r", method, path, error)
                raise BackendUnavailable(f"{method} {path}: {error!r}") from error
            await asyncio.sleep(RETRY_DELAYS[attempt])
        raise AssertionError("unreachable")


backend = BackendClient()
