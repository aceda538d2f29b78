"""Demo data only when asked for (backend.seed), and the agents' command (backend.agents)."""

import asyncio
import dataclasses
import io
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from backend import agents, seed
from backend.db import create_engine, session_factory
from backend.migrate import upgrade
from backend.models import Agent, ApiSession, Beneficiary
from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GOOD = "Plantao#Forte2025"


async def _counts(settings: Settings) -> tuple[int, int]:
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            agents_ = (await session.execute(select(func.count()).select_from(Agent))).scalar_one()
            people = (await session.execute(select(func.count()).select_from(Beneficiary))).scalar_one()
            return agents_, people
    finally:
        await engine.dispose()


def test_demo_data_switch():
    env = {"DATABASE_URL": "sqlite:///x.db"}
    assert Settings.from_env(env).seeds_demo_data is True  # OPERATOR_PROFILE defaults to demo
    assert Settings.from_env({**env, "OPERATOR_PROFILE": "casse"}).seeds_demo_data is False
    assert Settings.from_env({**env, "OPERATOR_PROFILE": "casse", "DEMO_DATA": "1"}).seeds_demo_data is True
    assert Settings.from_env({**env, "DEMO_DATA": "0"}).seeds_demo_data is False


def test_operator_installation_gets_no_demo_agent_nor_personas(tmp_path):
    """`make run` seeds on every start: with an operator's profile that must add nothing (the
    demo agent's password is public)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'op.db'}", var_dir=tmp_path, operator_profile="casse")
    upgrade(settings)
    assert asyncio.run(seed.run(settings)) is False
    assert asyncio.run(_counts(settings)) == (0, 0)
    assert asyncio.run(seed.run(dataclasses.replace(settings, demo_data=True))) is True
    agents_, people = asyncio.run(_counts(settings))
    assert agents_ == 1 and people >= 6


async def test_add_list_disable(client, settings, monkeypatch):
    out, err = io.StringIO(), io.StringIO()

    def run(*argv, stdin=""):
        return agents.main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err, settings=settings)

    for weak in ("curta#1A", "semsimbolo2025AA", "plantao#forte2025", "Atende@2024", "Carla.Souza#2025x"):
        assert await asyncio.to_thread(run, "add", "carla.souza", stdin=weak + "\n") == 1
    assert "Use pelo menos 12 caracteres." in err.getvalue() and "conhecida" in err.getvalue()
    assert "nome de usuário" in err.getvalue() and "maiúscula" in err.getvalue()
    assert await asyncio.to_thread(run, "add", "Carla.Souza", "--name", "Carla Souza", stdin=GOOD + "\n") == 0
    assert await asyncio.to_thread(run, "add", "carla.souza", stdin=GOOD + "\n") == 1  # exists
    assert "Já existe" in err.getvalue()

    response = await client.post("/api/agent/login", json={"username": "carla.souza", "password": GOOD})
    assert response.status == 200
    token = (await response.json())["token"]
    assert (await client.get("/api/agent/me", headers={"Authorization": f"Bearer {token}"})).status == 200

    assert await asyncio.to_thread(run, "list") == 0
    assert "carla.souza\tCarla Souza\tativo" in out.getvalue() and "atendente\t" in out.getvalue()
    # disabled at 01:30 UTC on 10/03, still 09/03 in Brasília: the list shows the operator's date
    monkeypatch.setattr(agents, "utcnow", lambda: datetime(2026, 3, 10, 1, 30))
    assert await asyncio.to_thread(run, "disable", "carla.souza") == 0
    assert (await client.get("/api/agent/me", headers={"Authorization": f"Bearer {token}"})).status == 401
    response = await client.post("/api/agent/login", json={"username": "carla.souza", "password": GOOD})
    assert response.status == 401
    assert await asyncio.to_thread(run, "disable", "ninguem") == 1
    assert await asyncio.to_thread(run, "list") == 0
    assert "carla.souza\tCarla Souza\tdesativado em 09/03/2026" in out.getvalue()

    engine = create_engine(settings)
    async with session_factory(engine)() as session:
        agent = (await session.execute(select(Agent).where(Agent.username == "carla.souza"))).scalar_one()
        assert agent.password_hash.startswith(f"$2b${settings.bcrypt_rounds}$") and agent.disabled_at
        assert (
            await session.execute(select(func.count()).select_from(ApiSession).where(ApiSession.agent_id == agent.id))
        ).scalar_one() == 0
    await engine.dispose()


def test_the_command_reads_the_password_from_stdin(sqlite_settings):
    """The entry point itself (stdin, exit code, output): the same on either database, run on SQLite."""
    settings = sqlite_settings
    env = {**os.environ, "DATABASE_URL": settings.database_url, "VAR_DIR": str(settings.var_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "backend.agents", "add", "joana", "--name", "Joana Lima"],
        input=f"{GOOD}\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "backend.agents", "list"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert "joana\tJoana Lima\tativo" in listed.stdout
    assert GOOD not in done.stdout + done.stderr + listed.stdout
