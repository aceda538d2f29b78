"""Helpers of the widget tests (a module of its own: test modules cannot import conftest reliably)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeRasaProcess:
    """tests/widget/fake_rasa.py in its own process group (Sanic wants the main thread)."""

    def __init__(self, port: int, backend_url: str, *options: str, var_dir: Path | None = None):
        """var_dir: its VAR_DIR (where uploads are stored); tests pass a temporary directory."""
        self.url = f"http://127.0.0.1:{port}"
        self.var_dir = var_dir
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        if var_dir is not None:
            env["VAR_DIR"] = str(var_dir)
        self.popen = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("fake_rasa.py")), str(port), backend_url, *options],
            cwd=REPO_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env)

    def recorded(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_recorded", timeout=5) as answer:
            return json.loads(answer.read())

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"fake Rasa exited with {self.popen.returncode}")
            try:
                self.recorded()
                return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("fake Rasa did not start")

    def stop(self) -> None:
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
    import asyncio
    import contextlib

    if not client.connected:
        return
    task = client.eio.read_loop_task
    await client.eio.disconnect(abort=True)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
