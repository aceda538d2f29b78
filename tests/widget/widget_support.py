"""Helpers of the widget tests (a module of its own: test modules cannot import conftest reliably)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
READY_FD_VARIABLE = "FAKE_RASA_READY_FD"
READY = b"ready\n"


class FakeRasaProcess:
    """tests/widget/fake_rasa.py in its own process group (Sanic wants the main thread)."""

    def __init__(
        self, port: int, backend_url: str, *options: str, var_dir: Path | None = None, env: dict[str, str] | None = None
    ):
        """var_dir: its VAR_DIR (where uploads are stored); tests pass a temporary directory.
        env: extra environment (e.g. the channel's limits)."""
        self.url = f"http://127.0.0.1:{port}"
        self.var_dir = var_dir
        env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
        if var_dir is not None:
            env["VAR_DIR"] = str(var_dir)
        ready_read, ready_write = os.pipe()  # the process writes "ready" there once it serves
        env[READY_FD_VARIABLE] = str(ready_write)
        try:
            self.popen = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("fake_rasa.py")), str(port), backend_url, *options],
                cwd=REPO_DIR,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
                pass_fds=(ready_write,),
            )
        finally:
            os.close(ready_write)
        self.ready_pipe = os.fdopen(ready_read, "rb", buffering=0)

    def recorded(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_recorded", timeout=5) as answer:
            return json.loads(answer.read())

    def wait_ready(self, timeout_s: float = 60) -> None:
        """Returns once the server listens (its after_server_start wrote "ready" to the pipe)."""
        readable, _, _ = select.select([self.ready_pipe], [], [], timeout_s)
        if not readable:
            raise TimeoutError(f"fake Rasa did not start in {timeout_s} s")
        if self.ready_pipe.read(16) != READY:  # end of file: it exited before serving
            raise RuntimeError(f"fake Rasa exited with {self.popen.wait(10)}")

    def stop(self) -> None:
        self.ready_pipe.close()
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)


async def hang_up(client) -> None:
    """Disconnects a python-socketio client on the polling transport at once: the server gets the
    close packet, but the client does not wait for its pending long poll (up to 30 s each time)."""
    if not client.connected:
        return
    task = client.eio.read_loop_task
    await client.eio.disconnect(abort=True)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


class Chat:
    """A widget conversation as a python-socketio client: session_request (with `session_id`, the id
    a browser would send back, or None for a new conversation), user_uttered, bot_uttered."""

    def __init__(self, url: str, session_id: object = None, request: bool = True):
        import socketio

        self.url, self.asked, self.request_on_enter = url, session_id, request
        self.client = socketio.AsyncClient(reconnection=False)
        self.answers: list = []
        self.confirms: asyncio.Queue = asyncio.Queue()
        self.session: str | None = None
        self.arrived = asyncio.Event()
        self.client.on("session_confirm", self.confirms.put_nowait)
        self.client.on("bot_uttered", self._answer)

    def _answer(self, answer) -> None:
        self.answers.append(answer)
        self.arrived.set()

    async def wait_answers(self, count: int, timeout_s: float = 10) -> list:
        """The answers once there are at least `count` of them."""

        async def enough() -> None:
            while len(self.answers) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout_s)
        return self.answers

    async def __aenter__(self) -> Chat:
        await self.client.connect(self.url, transports=["polling"])  # engineio's websocket client wants a newer aiohttp
        if self.request_on_enter:
            self.session = await self.request(self.asked)
        return self

    async def __aexit__(self, *exc) -> None:
        await hang_up(self.client)

    async def request(self, session_id: object) -> str:
        await self.client.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirms.get(), 10)

    async def say(self, message: str, metadata: dict | None = None, session_id: object = "mine") -> str:
        """Sends a message (with this chat's session id unless another is given) and returns the text
        of the next answer."""
        seen = len(self.answers)
        await self.client.emit(
            "user_uttered",
            {
                "message": message,
                "session_id": self.session if session_id == "mine" else session_id,
                "metadata": metadata or {},
            },
        )
        try:
            await self.wait_answers(seen + 1)
        except asyncio.TimeoutError:
            raise AssertionError(f"no answer to {message!r}") from None
        return self.answers[seen].get("text")
