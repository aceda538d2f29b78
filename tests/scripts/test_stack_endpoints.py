"""The endpoints file make run writes: SQLite by default, PostgreSQL / Redis from the environment;
no secret in clear in it (Rasa fills `${VAR}` from its environment) and private (0600) anyway."""

import os
import stat
import uuid

import pytest
import yaml
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.lock_store import AtomicRedisLockStore
from scripts.stack import endpoint_secrets, tracker_store_config, widget_origins, write_credentials, write_endpoints

DOMAIN = Domain.from_yaml("version: '3.1'\nslots:\n  x:\n    type: text\n    mappings: [{type: custom}]")


ACTION_TOKEN = "token-das-acoes-0123456789"


def _endpoints(tmp_path, monkeypatch, **env):
    for key in (
        "DATABASE_URL",
        "RASA_TRACKER_URL",
        "LOCK_STORE_URL",
        "TRACKER_STORE_PASSWORD",
        "LOCK_STORE_PASSWORD",
        "EVENT_BROKER_URL",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", ACTION_TOKEN)  # in Rasa's environment, as the stack does
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    path = write_endpoints(tmp_path / "endpoints.yml", 5055, tmp_path)
    for key, value in endpoint_secrets(tmp_path).items():  # what Stack._env() gives Rasa
        monkeypatch.setenv(key, value)
    return path


def _private(path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


async def _round_trip(tracker_store: TrackerStore) -> None:
    tracker = DialogueStateTracker.from_events("conv-1", [UserUttered("oi"), SlotSet("x", "y")])
    await tracker_store.save(tracker)
    again = await tracker_store.retrieve("conv-1")
    assert again is not None and again.get_slot("x") == "y"


async def test_default_is_sqlite_under_var_and_no_lock_store(tmp_path, monkeypatch):
    path = _endpoints(tmp_path, monkeypatch)
    config = yaml.safe_load(path.read_text())
    assert config["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
    assert ACTION_TOKEN not in path.read_text() and _private(path)
    # the action server's secret travels in a header Rasa fills from its environment, never in the URL
    action_endpoint = read_endpoint_config(str(path), "action_endpoint")
    assert action_endpoint.headers == {"Authorization": f"Bearer {ACTION_TOKEN}"}
    assert action_endpoint.token is None and not action_endpoint.params
    store = TrackerStore.create(read_endpoint_config(str(path), "tracker_store"), DOMAIN)
    assert isinstance(store, SQLTrackerStore)
    await _round_trip(store)
    assert (tmp_path / "rasa_tracker.db").exists()
    assert isinstance(LockStore.create(read_endpoint_config(str(path), "lock_store")), InMemoryLockStore)


async def test_postgresql_tracker_store_from_database_url(tmp_path, monkeypatch):
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL not set (CI sets it to the machine's PostgreSQL)")
    path = _endpoints(tmp_path, monkeypatch, DATABASE_URL=url)
    store = TrackerStore.create(read_endpoint_config(str(path), "tracker_store"), DOMAIN)
    assert isinstance(store, SQLTrackerStore) and store.engine.dialect.name == "postgresql"
    await _round_trip(store)


async def test_redis_lock_store_from_lock_store_url(tmp_path, monkeypatch):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set (CI sets it to the machine's Redis)")
    path = _endpoints(tmp_path, monkeypatch, LOCK_STORE_URL=url, LOCK_STORE_KEY_PREFIX=f"test{uuid.uuid4().hex}")
    store = LockStore.create(read_endpoint_config(str(path), "lock_store"))
    assert isinstance(store, AtomicRedisLockStore)
    # a Rasa killed mid-turn holds its conversation up for 20 s, below HAProxy's 30 s (not Rasa's 60)
    assert store.lock_lifetime == 20.0
    async with store.lock("conv-lock-test"):
        assert store.get_lock("conv-lock-test") is not None  # visible to every Rasa instance
    assert store.get_lock("conv-lock-test") is None


def test_no_password_in_clear_and_rasa_reads_them_from_its_environment(tmp_path, monkeypatch):
    """PostgreSQL tracker store and Redis lock store with passwords (no server needed: only the file
    and what Rasa makes of it)."""
    path = _endpoints(
        tmp_path,
        monkeypatch,
        DATABASE_URL="postgresql://rasa:senha%40do-banco-42@db.interna:5433/rasa",
        LOCK_STORE_URL="redis://:senha-do-redis-42@cache.interna:6379/2",
    )
    text = path.read_text()
    assert "do-banco-42" not in text and "senha-do-redis-42" not in text and ACTION_TOKEN not in text
    assert "${TRACKER_STORE_PASSWORD}" in text and "${LOCK_STORE_PASSWORD}" in text
    assert _private(path)
    tracker_store = read_endpoint_config(str(path), "tracker_store")
    assert tracker_store.kwargs["password"] == tracker_store_config(tmp_path)["password"]  # what Rasa used to get
    assert "do-banco-42" in tracker_store.kwargs["password"]
    lock_store = read_endpoint_config(str(path), "lock_store")
    assert lock_store.kwargs["password"] == "senha-do-redis-42" and lock_store.url == "cache.interna"


def test_an_existing_wider_file_becomes_private(tmp_path, monkeypatch):
    target = tmp_path / "endpoints.yml"
    target.write_text("old")
    target.chmod(0o644)
    assert _private(_endpoints(tmp_path, monkeypatch))
    credentials = write_credentials(tmp_path / "credentials.yml", {})
    assert _private(credentials)


def test_widget_origins_default_to_the_backend_page_and_rasa_and_can_be_configured():
    env = {
        "PUBLIC_BACKEND_URL": "https://planos.exemplo.com.br/",
        "PUBLIC_RASA_URL": "https://chat.exemplo.com.br:443/x",
    }
    assert widget_origins(env, "http://127.0.0.1:5005") == [
        "https://planos.exemplo.com.br",
        "https://chat.exemplo.com.br",
    ]
    assert widget_origins({"PUBLIC_BACKEND_URL": "http://127.0.0.1:8080"}, "http://127.0.0.1:5005") == [
        "http://127.0.0.1:8080",
        "http://127.0.0.1:5005",
    ]
    configured = {**env, "WIDGET_ALLOWED_ORIGINS": "https://www.operadora.com.br, https://portal.operadora.com.br:8443"}
    assert widget_origins(configured, "x") == ["https://www.operadora.com.br", "https://portal.operadora.com.br:8443"]
    assert "*" not in widget_origins({}, "http://127.0.0.1:5005")


def test_the_event_broker_section_keeps_its_password_out_of_the_file(tmp_path, monkeypatch):
    path = _endpoints(tmp_path, monkeypatch, EVENT_BROKER_URL="amqp://rasa:senha-do-rabbit-42@fila.interna:5673/prod")
    text = path.read_text()
    assert "senha-do-rabbit-42" not in text and "${EVENT_BROKER_PASSWORD}" in text
    broker = yaml.safe_load(text)["event_broker"]
    assert broker["type"] == "pika" and broker["url"] == "amqp://fila.interna:5673/prod" and broker["port"] == 5673
    assert broker["queues"] == ["rasa_events"] and broker["username"] == "rasa"
    assert endpoint_secrets(tmp_path, {"EVENT_BROKER_URL": "amqp://rasa:senha-do-rabbit-42@fila.interna/"}) == {
        "EVENT_BROKER_PASSWORD": "senha-do-rabbit-42"
    }
