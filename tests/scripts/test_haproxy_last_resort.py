"""HAProxy as `make cluster` configures it (deploy/haproxy.cfg.template): while every checked Rasa server
of a pool is DOWN, requests still reach a Rasa that answers, through the pool's unchecked backups, instead
of a 503 for every user. A busy instance answers its check late and is marked DOWN as if dead; with the
other one really dead (kill -9, restarting) the pool had no server (bench-cluster 2026-12-01, faults).
The real haproxy binary (Debian's package, installed by `make test` like Chromium)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from scripts.cluster import Cluster, haproxy_command
from scripts.stack import free_port

HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)


def two_free_ports() -> int:
    """A port such that it and the next one are free (the cluster numbers its nodes' ports in a row)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port + 1)) != 0:
                return port
    raise RuntimeError("no two free ports in a row")


async def busy_rasa(port: int) -> web.AppRunner:
    """A live Rasa whose health check fails (as a saturated one answers it too late) and that answers users."""

    async def check(_: web.Request) -> web.Response:
        return web.Response(status=503, text="busy")

    async def webhook(request: web.Request) -> web.Response:
        return web.json_response([{"recipient_id": (await request.json())["sender"], "text": "Olá!"}])

    app = web.Application()
    app.router.add_get("/", check)
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


async def test_with_every_rasa_marked_down_a_live_one_still_answers(tmp_path):
    if HAPROXY is None:
        pytest.skip("haproxy is not installed (make test installs Debian's package)")
    ports = {"backend": free_port(), "actions": free_port(), "rasa": two_free_ports()}
    cluster = Cluster(
        var_dir=tmp_path, public_port=free_port(), internal_port=free_port(), env={}, model=tmp_path / "m.tar.gz"
    )
    cluster.first_ports = ports
    cluster.build()
    dead, busy = (stack.rasa_port for stack in cluster.stacks)  # node 1 killed, node 2 saturated
    with socket.socket() as probe:  # nothing listens on the dead node's port
        assert probe.connect_ex(("127.0.0.1", dead)) != 0
    config = tmp_path / "haproxy.cfg"
    config.write_text(cluster.haproxy_config())
    runner = await busy_rasa(busy)
    haproxy = await asyncio.create_subprocess_exec(
        HAPROXY, "-f", str(config), "-db", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # HAProxy's own "I am up"
                try:
                    async with session.get(f"{cluster.internal_url}/haproxy-ping") as ping:
                        if ping.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail(f"haproxy did not start (exit code {haproxy.returncode})")
            admin = cluster.var_dir / "haproxy.sock"
            for pool in ("rasa_webhooks", "rasa_socketio", "rasa_api"):
                for server in ("rasa1", "rasa2"):  # as the checks leave them: DOWN (refused; answered too late)
                    assert haproxy_command(admin, f"set server {pool}/{server} health down").strip() == ""
            status = {
                line.split(",")[1]: line.split(",")[17]
                for line in haproxy_command(admin, "show stat").splitlines()
                if line.startswith("rasa_webhooks,rasa")
            }
            assert (status["rasa1"], status["rasa2"]) == ("DOWN", "DOWN")
            answers = []
            for n in range(6):  # round robin over the backups: the dead one refuses, the request goes on
                async with session.post(
                    f"{cluster.public_url}/webhooks/rest/webhook", json={"sender": f"u{n}", "message": "oi"}
                ) as reply:
                    answers.append((reply.status, await reply.json() if reply.status == 200 else None))
    finally:
        haproxy.terminate()
        await haproxy.wait()
        await runner.cleanup()
    assert answers == [(200, [{"recipient_id": f"u{n}", "text": "Olá!"}]) for n in range(6)]
