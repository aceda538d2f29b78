"""The website widget in a real browser: Debian's Chromium driven by Playwright (never a downloaded
browser), at 360 x 740. Screenshots go to var/artifacts/ for review. For test_widget_stack.py, the
session's real stack (tests/stack_support.py) and one Chromium for the whole session."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, MISSING, serve
from widget_support import FakeRasaProcess

from backend.app import create_app
from backend.settings import Settings
from backend.web import chat
from scripts.stack import free_port

PHONE = {"width": 360, "height": 740}

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="the playwright package is not installed (make test installs it)"
)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@contextlib.asynccontextmanager
async def _chromium() -> AsyncIterator:
    if not CHROMIUM.exists():
        pytest.skip(MISSING)
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def _phone_page(browser) -> AsyncIterator:
    """A fresh browser profile (empty localStorage) with a 360 px screen; collects page errors."""
    context = await browser.new_context(viewport=PHONE, locale="pt-BR")
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            page.errors.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            page.errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    try:
        yield page
    finally:
        await context.close()


@pytest_asyncio.fixture
async def browser():
    """Chromium for one test, in the test's event loop."""
    async with _chromium() as browser:
        yield browser


@pytest_asyncio.fixture
async def phone(browser):
    """A fresh browser profile (empty localStorage) with a 360 px screen; collects page errors."""
    async with _phone_page(browser) as page:
        yield page


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_browser():
    """Chromium for the whole session, in the session's event loop: for the tests that run there
    (`pytest.mark.asyncio(loop_scope="session")`, as test_widget_stack.py)."""
    async with _chromium() as browser:
        yield browser


@pytest_asyncio.fixture(loop_scope="session")
async def session_phone(session_browser):
    """`phone` on the session's Chromium: a fresh profile (empty localStorage) for each test."""
    async with _phone_page(session_browser) as page:
        yield page


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
