"""The endpoints file make run writes: SQLite by default, PostgreSQL / Redis from the environment."""
import os

import pytest
import yaml
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from scripts.stack import write_endpoints

DOMAIN = Domain.from_yaml("version: '3.1'\nslots:\n  x:\n    type: text\n    mappings: [{type: custom}]")


def _endpoints(tmp_path, monkeypatch, **env):
    for key in ("DATABASE_URL", "RASA_TRACKER_URL", "LOCK_STORE_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return write_endpoints(tmp_path / "endpoints.yml", 5055, tmp_path)


async def _round_trip(tracker_store: TrackerStore) -> None:
    tracker = DialogueStateTracker.from_events("conv-1", [UserUttered("oi"), SlotSet("x", "y")])
    await tracker_store.save(tracker)
    again = await tracker_store.retrieve("conv-1")
    assert again is not None and again.get_slot("x") == "y"


async def test_default_is_sqlite_under_var_and_no_lock_store(tmp_path, monkeypatch):
    path = _endpoints(tmp_path, monkeypatch)
    config = yaml.safe_load(path.read_text())
    assert config["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
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
    path = _endpoints(tmp_path, monkeypatch, LOCK_STORE_URL=url)
    store = LockStore.create(read_endpoint_config(str(path), "lock_store"))
    assert isinstance(store, RedisLockStore)
    async with store.lock("conv-lock-test"):
        assert store.get_lock("conv-lock-test") is not None  # visible to every Rasa instance
    assert store.get_lock("conv-lock-test") is None
