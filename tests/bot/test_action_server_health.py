"""The action server's GET /health (bot/action_server.py) tells whether the actions can work: 200 when
the backend answers its /api/health, 503 {"status": "degraded", "backend": "unavailable"} when it is
down, failing or slow; open (no token) while every other route still wants the secret; and a storm
of health checks reaches the backend at most once every ~2 s (bot/health_probe.py).

The real app (build_app) in a Sanic server on loopback and a fake backend (aiohttp), both in the
test's event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from sanic import Sanic

from bot.action_server import build_app
from bot.health_probe import HealthProbe
from scripts.stack import free_port

TOKEN = "segredo-do-servidor-de-acoes"


class FakeBackend:
    """GET /api/health: `status`, or no answer until `release` is set when `hang` is."""

    def __init__(self) -> None:
        self.status = 200
        self.hang = False
        self.release = asyncio.Event()
        self.calls = 0
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def health(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.hang:
            await self.release.wait()
        body = {"status": "ok"} if self.status == 200 else {"status": "unavailable"}
        return web.json_response(body, status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/health", self.health)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        self.release.set()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


class ActionServer:
    """bot.action_server.build_app in a Sanic server on loopback."""

    def __init__(self, backend_url: str) -> None:
        Sanic.test_mode = True  # several apps called rasa_sdk in one process
        self.app = build_app("bot.actions.operator_profile", TOKEN, backend_url=backend_url)
        self.app.config.ACCESS_LOG = False
        self.port = free_port()
        self.server = None

    @property
    def probe(self) -> HealthProbe:
        return self.app.ctx.backend_probe

    async def __aenter__(self) -> ActionServer:
        self.server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.server.before_stop()
        self.server.close()
        await self.server.wait_closed()
        await self.server.after_stop()

    async def get(self, path: str, headers: dict | None = None) -> tuple[int, dict]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.port}{path}", headers=headers) as resp,
        ):
            return resp.status, await resp.json(content_type=None)


@pytest.fixture
async def backend() -> AsyncIterator[FakeBackend]:
    fake = FakeBackend()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def actions(backend) -> AsyncIterator[ActionServer]:
    async with ActionServer(backend.url) as server:
        server.probe.ttl_s = 0  # every request asks the backend, unless a test says otherwise
        yield server


async def test_ok_when_the_backend_answers(actions, backend) -> None:
    assert await actions.get("/health") == (200, {"status": "ok"})
    assert backend.calls == 1


async def test_degraded_when_the_backend_is_down(actions, backend) -> None:
    await backend.stop()
    assert await actions.get("/health") == (503, {"status": "degraded", "backend": "unavailable"})


async def test_degraded_when_the_backend_says_it_is_unavailable(actions, backend) -> None:
    backend.status = 503  # its database is down (backend/api/health.py)
    assert await actions.get("/health") == (503, {"status": "degraded", "backend": "unavailable"})
    backend.status = 200
    assert await actions.get("/health") == (200, {"status": "ok"})


async def test_degraded_within_about_two_seconds_when_the_backend_hangs(actions, backend) -> None:
    backend.hang = True
    started = time.monotonic()
    assert await actions.get("/health") == (503, {"status": "degraded", "backend": "unavailable"})
    assert time.monotonic() - started < 4


async def test_health_is_open_and_everything_else_still_wants_the_secret(actions) -> None:
    assert (await actions.get("/health/"))[0] == 200
    assert (await actions.get("/actions"))[0] == 401
    status, listing = await actions.get("/actions", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and isinstance(listing, list)


async def test_a_storm_of_health_checks_reaches_the_backend_once_per_ttl(actions, backend) -> None:
    clock = {"now": 1000.0}  # stands still, moved by hand below
    actions.probe.ttl_s, actions.probe.clock = 2.0, lambda: clock["now"]

    answers = await asyncio.gather(*(actions.get("/health") for _ in range(20)))
    assert answers == [(200, {"status": "ok"})] * 20 and backend.calls == 1

    backend.status = 503
    clock["now"] += 1.9  # still fresh: the old answer
    assert (await actions.get("/health"))[0] == 200 and backend.calls == 1
    clock["now"] += 0.2  # stale: asked again
    assert (await actions.get("/health"))[0] == 503 and backend.calls == 2


async def test_a_failed_action_answers_500_without_echoing_the_tracker(monkeypatch):
    """rasa_sdk's own 500 answer would carry the request (the tracker, personal data) back to Rasa."""
    from bot.backend.client import backend as backend_client

    monkeypatch.setattr(backend_client, "base_url", f"http://127.0.0.1:{free_port()}")  # nothing listens
    Sanic.test_mode = True
    app = build_app("bot.actions", TOKEN, backend_url=f"http://127.0.0.1:{free_port()}")
    app.config.ACCESS_LOG = False
    server = await app.create_server(host="127.0.0.1", port=(port := free_port()), return_asyncio_server=True)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        tracker = {
            "sender_id": "c-1",
            "slots": {"protocolo": "41901020250411000228", "cpf": "94580730224"},
            "latest_message": {"text": "meu cpf 945.807.302-24"},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        }
        body = {"next_action": "action_consultar_protocolo", "sender_id": "c-1", "tracker": tracker, "domain": {}}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}/webhook", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as resp,
        ):
            status, text = resp.status, await resp.text()
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
        await backend_client.close()  # its session belongs to this test's loop
    assert status == 500 and "94580730224" not in text and "945.807.302-24" not in text, text
