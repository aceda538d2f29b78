"""The raw trackers shared by several Rasa instances (bot/live_trackers.py, TRACKER_CACHE_URL), and the
event broker that only ever gets masked events (bot/tracker_store.py, MaskedOnlyBroker)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import FailSafeTrackerStore
from test_tracker_store import CARD, DOMAIN, SENDER, _assert_nothing_personal, _identity_turns, _tracker

from bot.live_trackers import LiveTrackers, RedisLiveTrackers, live_store
from bot.tracker_store import MaskingTrackerStore

REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set (CI sets it to the machine's Redis)")


@pytest.fixture
def redis_env():
    """Settings of a Redis cache with a prefix of this test's own; its keys deleted afterwards."""
    import redis

    prefix = f"test{secrets.token_hex(6)}:"
    yield {
        "TRACKER_CACHE_URL": REDIS_URL,
        "TRACKER_CACHE_KEY": secrets.token_urlsafe(32),
        "TRACKER_CACHE_PREFIX": prefix,
    }
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def _redis_store(tmp_path: Path, env: dict[str, str], monkeypatch) -> MaskingTrackerStore:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return MaskingTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))


def test_without_a_url_the_cache_stays_in_memory():
    assert isinstance(live_store(60, 10, env={}), LiveTrackers)


@needs_redis
async def test_two_instances_share_the_raw_tracker_and_redis_holds_it_encrypted(tmp_path, redis_env, monkeypatch):
    import redis

    first, second = _redis_store(tmp_path, redis_env, monkeypatch), _redis_store(tmp_path, redis_env, monkeypatch)
    assert isinstance(first.live, RedisLiveTrackers)
    await first.save(_tracker(SENDER, _identity_turns()))
    moved = await second.retrieve(SENDER)  # the next turn lands on the other instance
    assert moved.get_slot("cpf") == "94580730224" and moved.get_slot("nome_mae") == "Josefa Aparecida Santos"

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(f"{redis_env['TRACKER_CACHE_PREFIX']}*"))
        assert len(keys) == 1 and SENDER.encode() not in keys[0]  # no conversation id in the key
        raw = client.get(keys[0])
        _assert_nothing_personal(raw.decode("latin-1"))
        assert CARD.encode() not in raw
        ttl_ms = client.pttl(keys[0])
        assert 0 < ttl_ms <= 15 * 60 * 1000  # VERIFIED_SESSION_MINUTES, default 15
    finally:
        client.close()


@needs_redis
async def test_an_entry_under_another_key_is_not_read(tmp_path, redis_env, monkeypatch):
    store = _redis_store(tmp_path, redis_env, monkeypatch)
    await store.save(_tracker(SENDER, _identity_turns()))
    other = _redis_store(tmp_path, {**redis_env, "TRACKER_CACHE_KEY": secrets.token_urlsafe(32)}, monkeypatch)
    assert (await other.retrieve(SENDER)).get_slot("cpf") is None  # read masked from the database


class RecordingBroker(EventBroker):
    def __init__(self) -> None:
        self.published: list[dict] = []

    @classmethod
    async def from_endpoint_config(cls, broker_config, event_loop=None):
        return cls()

    def publish(self, event: dict) -> None:
        self.published.append(event)

    def is_ready(self) -> bool:
        return True


async def test_the_broker_gets_masked_events_even_when_rasa_falls_back_to_memory(tmp_path):
    broker = RecordingBroker()
    store = MaskingTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"), event_broker=broker)
    await store.save(_tracker(SENDER, _identity_turns()))
    assert len(broker.published) == len(_identity_turns())
    _assert_nothing_personal(str(broker.published))

    async def failing_save(tracker):
        raise OSError("database down")

    store.save = failing_save  # Rasa's FailSafeTrackerStore then saves in memory, with our broker
    fail_safe = FailSafeTrackerStore(store)
    tracker = _tracker(SENDER + "-2", _identity_turns())
    await fail_safe.save(tracker)
    assert len(broker.published) == len(_identity_turns())  # nothing raw went out
