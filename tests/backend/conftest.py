"""Fixtures: a migrated and seeded database per test (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), the app under an aiohttp TestClient that sends the service
credential (backend_api.SERVICE_TOKEN), and a direct DB session."""
from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import io
import logging
import mailbox
import os
import shutil
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from sqlalchemy import create_engine as create_sync_engine, text

from backend.app import create_app
from backend.db import create_engine, session_factory
from backend.migrate import upgrade
from backend.passwords import hash_password
from backend.seed import seed
from backend.settings import Settings
from backend_api import SERVICE_TOKEN, service_client
from common.logs import JsonFormatter
from common.pii import PiiMaskingFilter

PG_URL = os.environ.get("TEST_DATABASE_URL")


def _settings(var_dir: Path, database_url: str | None = None) -> Settings:
    return Settings(database_url=database_url or f"sqlite:///{var_dir / 'backend.db'}", var_dir=var_dir,
                    backend_service_token=SERVICE_TOKEN)


async def _seed(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            await seed(session, settings)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _seed_hashes_computed_once():
    """The seed hashes the same demo passwords at cost 12 every time; do it once per session."""
    known: dict[tuple[str, int], str] = {}

    async def memoized(password: str, rounds: int) -> str:
        if (password, rounds) not in known:
            known[password, rounds] = await hash_password(password, rounds)
        return known[password, rounds]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("backend.seed.hash_password", memoized)
        yield


def _migrate_and_seed(settings: Settings) -> None:
    upgrade(settings)
    asyncio.run(_seed(settings))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrated + seeded once; each test gets a copy (bcrypt at cost 12 makes seeding slow)."""
    settings = _settings(tmp_path_factory.mktemp("template"))
    _migrate_and_seed(settings)
    return settings.var_dir / "backend.db"


def _reset_postgres(url: str) -> None:
    engine = create_sync_engine(Settings(database_url=url, var_dir=Path(".")).sync_database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=[
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not PG_URL, reason="set TEST_DATABASE_URL=postgresql://... to run the suite on PostgreSQL")),
])
def settings(request, tmp_path, sqlite_template) -> Settings:
    if request.param == "sqlite":
        shutil.copy(sqlite_template, tmp_path / "backend.db")
        return _settings(tmp_path)
    _reset_postgres(PG_URL)
    settings = _settings(tmp_path, PG_URL)
    _migrate_and_seed(settings)
    return settings


@pytest_asyncio.fixture
async def client(settings):
    async with service_client(create_app(settings)) as test_client:
        yield test_client


@pytest_asyncio.fixture
async def client_with_profile(settings):
    """Makes a client of the app under another operator profile (casse, ams...)."""
    clients = []

    async def make(profile: str) -> TestClient:
        test_client = service_client(create_app(dataclasses.replace(settings, operator_profile=profile)))
        await test_client.start_server()
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        await test_client.close()


@pytest_asyncio.fixture
async def sessions(settings):
    engine = create_engine(settings)
    yield session_factory(engine)
    await engine.dispose()


@pytest_asyncio.fixture
async def session(sessions):
    async with sessions() as db_session:
        yield db_session


@pytest.fixture
def maria() -> dict:
    """Maria's identity as a password-reset request body."""
    return {"login": "100200300401", "cpf": "945.807.302-24", "birth_date": "1985-03-12",
            "channel": "rest", "conversation_id": "test-conversation"}


@pytest.fixture
def outbox(settings):
    """Returns the messages in the Maildir so far, as (message, plain-text body) pairs."""

    def read() -> list[tuple[email.message.EmailMessage, str]]:
        box = mailbox.Maildir(settings.maildir, create=True)
        messages = [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default) for key in box.keys()]
        return [(m, m.get_body(preferencelist=("plain",)).get_content()) for m in messages]

    return read


@pytest.fixture
def masked_log():
    """Everything logged (DEBUG and up) as the processes write it: JSON lines through common.logs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PiiMaskingFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous_level)

