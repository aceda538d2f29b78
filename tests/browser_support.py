"""Debian's Chromium as the browser tests drive it (Playwright never downloads a browser here), and
the backend served on a real port for it."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from backend.settings import REPO_DIR, Settings
from scripts.stack import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_DIR / "var" / "artifacts"  # screenshots
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING = f"{CHROMIUM} is missing (apt-get install chromium)"


async def serve(app: web.Application, port: int, shutdown_timeout: float = 60.0) -> web.AppRunner:
    """`app` on 127.0.0.1:`port` (runner.cleanup() stops it)."""
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


@contextlib.asynccontextmanager
async def backend_on_free_port(settings: Settings, shutdown_timeout: float = 60.0, **changes) -> AsyncIterator[str]:
    """The backend app (`settings` with `changes`) on a free port, whose address is its public one
    (the links it e-mails point to it): yields that base URL."""
    from backend.app import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(dataclasses.replace(settings, public_backend_url=base, **changes))
    runner = await serve(app, port, shutdown_timeout)
    try:
        yield base
    finally:
        await runner.cleanup()


async def post_json(http, url: str, body: dict) -> tuple[int, dict]:
    """POST `body` with an aiohttp ClientSession: the status and the JSON answer."""
    async with http.post(url, json=body) as response:
        return response.status, await response.json()
