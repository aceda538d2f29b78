"""Fixtures: a copy of a database migrated and seeded once per session, per test (SQLite always,
PostgreSQL when TEST_DATABASE_URL is set), the app under an aiohttp TestClient that sends the service
credential (backend_api.SERVICE_TOKEN), and a direct DB session."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email
import email.policy
import io
import logging
import mailbox
import os
import shutil
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from backend_api import SERVICE_TOKEN, service_client
from browser_support import backend_on_free_port
from postgres_support import DatabaseCopies, fresh_database, seal_template
from sqlalchemy.engine import make_url

from backend.app import create_app
from backend.clock import local_today
from backend.db import create_engine, session_factory
from backend.migrate import upgrade
from backend.passwords import hash_password
from backend.seed import seed_database
from backend.settings import Settings
from common.logs import JsonFormatter
from common.pii import PiiMaskingFilter

PG_URL = os.environ.get("TEST_DATABASE_URL")


def _settings(var_dir: Path, database_url: str | None = None) -> Settings:
    return Settings(
        database_url=database_url or f"sqlite:///{var_dir / 'backend.db'}",
        var_dir=var_dir,
        backend_service_token=SERVICE_TOKEN,
    )


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
    asyncio.run(seed_database(settings))


class SeededDatabases:
    """The backend's database migrated and seeded once (bcrypt at cost 12 makes seeding slow) and
    copied for each test: a file copy on SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL. The
    seed's dates are relative to the operator's day: a run that crosses midnight seeds again."""

    def __init__(self, tmp_path_factory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.day: date | None = None
        self.stack = contextlib.ExitStack()
        self.sqlite_file: Path | None = None
        self.postgres: DatabaseCopies | None = None

    def _current(self) -> None:
        if self.day == local_today():
            return
        self.close()
        self.day = local_today()
        settings = _settings(self.tmp_path_factory.mktemp("template"))
        _migrate_and_seed(settings)
        self.sqlite_file = settings.var_dir / "backend.db"

    def sqlite_copy(self, var_dir: Path) -> Settings:
        self._current()
        shutil.copy(self.sqlite_file, var_dir / "backend.db")
        return _settings(var_dir)

    def postgres_copy(self) -> str:
        """The URL of a fresh copy; hand it back with `give_back`."""
        self._current()
        if self.postgres is None:
            template_url = self.stack.enter_context(fresh_database(PG_URL, "backend_template"))
            _migrate_and_seed(_settings(self.tmp_path_factory.mktemp("template-pg"), template_url))
            template = make_url(template_url).database
            seal_template(PG_URL, template)
            self.postgres = DatabaseCopies(PG_URL, template, "backend_test")
            self.stack.callback(self.postgres.close)  # the copies go before their template
        return self.postgres.take()

    def give_back(self, url: str) -> None:
        self.postgres.give_back(url)

    def close(self) -> None:
        self.postgres = None
        self.stack.close()


@pytest.fixture(scope="session")
def seeded(tmp_path_factory, _seed_hashes_computed_once):
    databases = SeededDatabases(tmp_path_factory)
    yield databases
    databases.close()


@pytest.fixture
def sqlite_settings(seeded, tmp_path) -> Settings:
    """A copy of the seeded database on SQLite, for tests about something other than the database."""
    return seeded.sqlite_copy(tmp_path)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not PG_URL, reason="set TEST_DATABASE_URL=postgresql://... to run the suite on PostgreSQL"
            ),
        ),
    ]
)
def settings(request, seeded, tmp_path) -> Settings:
    if request.param == "sqlite":
        yield seeded.sqlite_copy(tmp_path)
        return
    url = seeded.postgres_copy()
    try:
        yield _settings(tmp_path, url)
    finally:
        seeded.give_back(url)


@pytest.fixture(autouse=True)
def _no_handoff_pull_remembered(monkeypatch):
    """backend.handoff throttles its reads of Rasa per ticket id in a module-level dict: ticket ids
    start at 1 in every test's database, so a test must not inherit the previous one's reads."""
    monkeypatch.setattr("backend.handoff._last_pull", {})


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
async def rasa():
    """A stand-in for Rasa's HTTP API on a free port (handoff_support.FakeRasa)."""
    from handoff_support import start_fake_rasa

    fake = await start_fake_rasa()
    yield fake
    await fake.server.close()


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
    return {
        "login": "100200300401",
        "cpf": "945.807.302-24",
        "birth_date": "1985-03-12",
        "channel": "rest",
        "conversation_id": "test-conversation",
    }


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


@pytest.fixture
async def served(settings):
    """The app on a real port (the browser tests); the links it e-mails point to that port."""
    async with backend_on_free_port(settings) as base:
        yield base
