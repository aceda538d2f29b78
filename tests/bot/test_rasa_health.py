"""Rasa's GET /health (bot/rasa_health.py): 200 only with the model loaded and the action server's
/health answering 200; 503 with what is missing otherwise; open although the HTTP API wants its
token; on the app `rasa run` builds, with or without --enable-api.

The app comes from Rasa's own rasa.core.run.configure_app (what `rasa run` calls) after install(),
served by Sanic on loopback; the agent is a stand-in (loading a model takes minutes), the action
server a fake /health (aiohttp)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import rasa.core.run
from aiohttp import web
from rasa.core.utils import AvailableEndpoints
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic

from bot import rasa_health
from scripts.stack import free_port

RASA_TOKEN = "token-da-api-do-rasa"


class FakeAgent:
    def __init__(self, ready: bool) -> None:
        self.ready = ready

    def is_ready(self) -> bool:
        return self.ready


class FakeActionServer:
    def __init__(self) -> None:
        self.status = 200
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok" if self.status == 200 else "degraded"}, status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/health", self.health)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


class RasaServer:
    def __init__(self, app: Sanic) -> None:
        self.app = app
        self.app.config.ACCESS_LOG = False
        self.port = free_port()
        self.server = None

    async def __aenter__(self) -> RasaServer:
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

    async def get(self, path: str) -> tuple[int, object]:
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{self.port}{path}") as resp:
            text = await resp.text()
            try:
                return resp.status, await resp.json(content_type=None)
            except ValueError:
                return resp.status, text


@pytest.fixture
def installed(monkeypatch):
    """install() on a pristine rasa.core.run.configure_app, put back after the test."""
    monkeypatch.setattr(rasa.core.run, "configure_app", rasa.core.run.configure_app)
    Sanic.test_mode = True  # several apps called rasa_server in one process
    rasa_health.install()


@pytest.fixture
async def action_server() -> AsyncIterator[FakeActionServer]:
    fake = FakeActionServer()
    await fake.start()
    yield fake
    await fake.stop()


def build(action_url: str | None, enable_api: bool = True) -> Sanic:
    """What `rasa run` does (rasa.core.run.serve_application passes endpoints by keyword)."""
    endpoints = AvailableEndpoints(action=EndpointConfig(url=action_url) if action_url else None)
    app = rasa.core.run.configure_app(
        None, None, RASA_TOKEN, enable_api, endpoints=endpoints, port=free_port(), use_uvloop=False
    )
    rasa_health_probe = app.ctx.action_server_probe
    if rasa_health_probe is not None:
        rasa_health_probe.ttl_s = 0  # every request asks the action server
    return app


@pytest.fixture
async def rasa_app(installed, action_server) -> AsyncIterator[RasaServer]:
    async with RasaServer(build(action_server.webhook)) as server:
        yield server


async def test_degraded_until_the_model_is_loaded(rasa_app) -> None:
    status, body = await rasa_app.get("/health")
    assert (status, body) == (503, {"status": "degraded", "model": "not_loaded", "action_server": "ok"})
    rasa_app.app.ctx.agent = FakeAgent(ready=False)  # an agent without a processor: no model
    assert (await rasa_app.get("/health"))[1]["model"] == "not_loaded"


async def test_ok_with_the_model_and_the_action_server(rasa_app) -> None:
    rasa_app.app.ctx.agent = FakeAgent(ready=True)
    assert await rasa_app.get("/health") == (200, {"status": "ok"})


async def test_degraded_when_the_action_server_is_degraded_or_down(rasa_app, action_server) -> None:
    rasa_app.app.ctx.agent = FakeAgent(ready=True)
    action_server.status = 503  # its backend is down
    expected = (503, {"status": "degraded", "model": "loaded", "action_server": "unavailable"})
    assert await rasa_app.get("/health") == expected
    await action_server.stop()
    assert await rasa_app.get("/health") == expected


async def test_open_while_the_api_wants_its_token(rasa_app) -> None:
    rasa_app.app.ctx.agent = FakeAgent(ready=True)
    assert (await rasa_app.get("/health"))[0] == 200
    assert (await rasa_app.get("/status"))[0] == 401  # the API is on, and closed
    status, text = await rasa_app.get("/")
    assert status == 200 and "Rasa" in str(text)  # Rasa's own `/` as it was


async def test_also_without_the_api(installed, action_server) -> None:
    async with RasaServer(build(action_server.webhook, enable_api=False)) as server:
        server.app.ctx.agent = FakeAgent(ready=True)
        assert await server.get("/health") == (200, {"status": "ok"})


async def test_without_an_action_endpoint_it_is_degraded(installed) -> None:
    async with RasaServer(build(None)) as server:
        server.app.ctx.agent = FakeAgent(ready=True)
        assert await server.get("/health") == (
            503,
            {"status": "degraded", "model": "loaded", "action_server": "unavailable"},
        )


def test_install_is_idempotent(installed) -> None:
    wrapped = rasa.core.run.configure_app
    rasa_health.install()
    assert rasa.core.run.configure_app is wrapped


def test_the_action_servers_health_url_comes_from_the_action_endpoint() -> None:
    assert rasa_health.action_server_health_url("http://10.0.0.5:5055/webhook") == "http://10.0.0.5:5055/health"
    assert rasa_health.action_server_health_url("https://acoes.interno/webhook?x=1") == "https://acoes.interno/health"
    assert rasa_health.action_server_health_url(None) is None
