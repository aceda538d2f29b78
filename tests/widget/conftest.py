"""The website widget in a real browser: Debian's Chromium driven by Playwright (never a downloaded
browser), at 360 x 740. Screenshots go to var/artifacts/ for review."""
from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from backend.app import create_app
from backend.settings import REPO_DIR, Settings
from backend.web import chat
from widget_support import FakeRasaProcess, free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_DIR / "var" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 360, "height": 740}

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (make test installs it)")


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest_asyncio.fixture
async def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture
async def phone(browser):
    """A fresh browser profile (empty localStorage) with a 360 px screen; collects page errors."""
    context = await browser.new_context(viewport=PHONE, locale="pt-BR")
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: page.errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
    page.on("response", lambda response: page.errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
    try:
        yield page
    finally:
        await context.close()


async def serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@pytest_asyncio.fixture
async def backend_factory(tmp_path):
    """The backend (no database needed for / and /widget) on a free port, with the widget on its
    demo page pointed at the given Rasa URL."""
    runners = []

    async def start(rasa_url: str) -> str:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'backend.db'}", var_dir=tmp_path)
        app = create_app(dataclasses.replace(settings, public_backend_url=base))
        app[chat.RASA_URL] = rasa_url
        runners.append(await serve(app, port))
        return base

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest_asyncio.fixture
async def fake_stack(backend_factory, tmp_path):
    """(backend URL, fake Rasa): the backend's demo page points at the fake Rasa, whose /site pastes
    the backend's widget.js into a page of another origin."""
    port = free_port()
    backend = await backend_factory(f"http://127.0.0.1:{port}")
    fake = FakeRasaProcess(port, backend, var_dir=tmp_path / "rasa-var")
    try:
        await asyncio.get_running_loop().run_in_executor(None, fake.wait_ready)
        yield backend, fake
    finally:
        fake.stop()
