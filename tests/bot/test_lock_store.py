"""bot.lock_store.AtomicRedisLockStore: one conversation is handled by one Rasa instance at a time.

Against the Redis of TEST_REDIS_URL (skipped without it; CI sets it, and there a skip fails the run).
Every key this module writes is under a prefix of its own (`test<random>:`), deleted at the end, so
test sessions sharing the machine's Redis never see each other. "Two instances" are two OS processes
(this file run as a script, `_worker`), each with its own store and connections.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import redis  # type: ignore[import-untyped]
import redis.asyncio  # type: ignore[import-untyped]
import yaml
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.lock_store import AtomicRedisLockStore

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(
    not REDIS_URL, reason="TEST_REDIS_URL not set (CI sets it to the machine's Redis, redis://127.0.0.1:6379/0)"
)
SIGNAL_TIMEOUT_S = 30  # how long a test waits for a signal that should come at once (a hang fails, never blocks)
PROCESSES, TASKS, ROUNDS = 2, 4, 20  # per contention test: 2 instances x 4 concurrent requests x 20 turns


# -- the worker: one "Rasa instance" driving a conversation (run as `python test_lock_store.py '<json>'`)


def _store(config: dict[str, Any]) -> LockStore:
    if config["store"] == "rasa":
        parts = urlsplit(config["url"])
        return RedisLockStore(
            host=parts.hostname,
            port=parts.port or 6379,
            db=int(parts.path.lstrip("/") or 0),
            password=unquote(parts.password) if parts.password else None,
            key_prefix=config["prefix"],
        )
    return AtomicRedisLockStore.from_url(config["url"], key_prefix=config["prefix"])


async def _work(config: dict[str, Any]) -> None:
    red = redis.asyncio.Redis.from_url(config["url"])
    store = _store(config)
    conversation = config["conversation"]
    if config["mode"] == "hold":  # take the lock, say so, and never let go (the test kills this process)
        async with store.lock(conversation, lock_lifetime=config["lifetime"]):
            await red.rpush(config["signal"], os.getpid())
            await asyncio.to_thread(sys.stdin.buffer.read)  # until the test's end of the pipe closes
        return

    events, name = config["events"], config["name"]

    async def requests(task: int) -> None:
        for turn in range(config["rounds"]):
            request = f"{name}-{task}-{turn}"
            try:
                # polls often, so a waiter let in too early would show at once (a handoff needs no poll)
                async with store.lock(conversation, wait_time_in_seconds=config["wait"]):
                    await red.rpush(events, f"start {request}")
                    # read-modify-write of a shared counter: two holders at once lose an increment
                    count = int(await red.get(config["counter"]) or 0)
                    await red.set(config["counter"], count + 1)
                    await red.rpush(events, f"end {request}")
            except LockError:
                await red.rpush(events, f"lockerror {request}")

    await red.rpush(config["signal"], name)  # ready; then wait for the go, so both start together
    assert await red.blpop([config["go"]], timeout=SIGNAL_TIMEOUT_S), "no go signal"
    await asyncio.gather(*(requests(task) for task in range(config["tasks"])))
    await red.close()


def _spawn(**config: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, json.dumps({"url": REDIS_URL, **config})],
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        stdin=subprocess.PIPE,  # closed when this process ends, however it ends: no worker outlives it
    )


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=SIGNAL_TIMEOUT_S)
        if process.stdin:
            process.stdin.close()


def _overlaps(log: list[str]) -> list[str]:
    """The entries of `log` that show two holders at once: every start must be followed by its own end."""
    problems, holder = [], None
    for entry in log:
        kind, request = entry.split(" ", 1)
        if kind == "start":
            if holder is not None:
                problems.append(f"{request} started while {holder} held the lock")
            holder = request
        elif kind == "end":
            if holder != request:
                problems.append(f"{request} ended while {holder} held the lock")
            holder = None
    return problems


# -- fixtures


@pytest.fixture(scope="module")
def key_prefix() -> Iterator[str]:
    """This session's own key prefix (letters and digits: Rasa's RedisLockStore accepts it too)."""
    prefix = f"test{uuid.uuid4().hex[:16]}"
    yield prefix
    if REDIS_URL:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()


@pytest.fixture
def red(key_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def conversation() -> str:
    return f"conversa-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def stores(key_prefix: str) -> AsyncIterator[tuple[AtomicRedisLockStore, AtomicRedisLockStore]]:
    """Two instances of the store (two connection pools), as two Rasa instances would have."""
    pair = (
        AtomicRedisLockStore.from_url(REDIS_URL, key_prefix=key_prefix),
        AtomicRedisLockStore.from_url(REDIS_URL, key_prefix=key_prefix),
    )
    yield pair
    for store in pair:
        await store.aclose()


def _keys_of(red: redis.Redis, store: AtomicRedisLockStore, conversation: str) -> list[bytes]:
    return list(red.scan_iter(match=f"{store.key_base}{{{conversation}}}:*"))


# -- two instances, one conversation


@needs_redis
def test_two_instances_never_hold_one_conversation_at_once(red, key_prefix, conversation):
    names = [f"instancia{n}" for n in range(PROCESSES)]
    keys = {part: f"{key_prefix}:test:{conversation}:{part}" for part in ("events", "counter", "signal", "go")}
    common = {"store": "atomic", "prefix": key_prefix, "conversation": conversation, "mode": "contend", "wait": 0.02}
    processes = [_spawn(**common, name=name, tasks=TASKS, rounds=ROUNDS, **keys) for name in names]
    try:
        ready = [red.blpop([keys["signal"]], timeout=SIGNAL_TIMEOUT_S) for _ in processes]
        assert all(ready), "an instance did not start"
        red.rpush(keys["go"], *["go"] * len(processes))
        codes = [process.wait(timeout=SIGNAL_TIMEOUT_S * 2) for process in processes]
    finally:
        _stop(processes)
    assert codes == [0] * len(processes)

    log = [entry.decode() for entry in red.lrange(keys["events"], 0, -1)]
    assert _overlaps(log) == []
    expected = {f"{name}-{task}-{turn}" for name in names for task in range(TASKS) for turn in range(ROUNDS)}
    assert [entry for entry in log if entry.startswith("lockerror")] == []
    assert {entry.split(" ", 1)[1] for entry in log if entry.startswith("end ")} == expected  # every request served
    assert int(red.get(keys["counter"])) == len(expected)  # no lost update
    store = AtomicRedisLockStore.from_url(REDIS_URL, key_prefix=key_prefix)
    assert _keys_of(red, store, conversation) == []  # the last one out deleted the conversation's keys


@needs_redis
def test_rasa_redis_lock_store_lets_two_instances_in_at_once(red, key_prefix, conversation, monkeypatch):
    """The bug fixed here (Rasa issue 9213), made deterministic: instance B takes its ticket between
    instance A's read and write of the lock (Rasa's issue_ticket is GET, change in Python, SET). Both
    get ticket 0 and both are being served. The two-process test above, run against Rasa's store,
    hits the window often but not surely (and can leave its waiters looping until a ticket's
    lifetime runs out), so that version is not a test."""
    a, b = (
        _store({"store": "rasa", "url": REDIS_URL, "prefix": key_prefix}),
        _store({"store": "rasa", "url": REDIS_URL, "prefix": key_prefix}),
    )
    assert isinstance(a, RedisLockStore) and isinstance(b, RedisLockStore)
    tickets_of_b = []
    save = a.save_lock

    def save_after_b_issued(lock):
        tickets_of_b.append(b.issue_ticket(conversation))
        save(lock)

    monkeypatch.setattr(a, "save_lock", save_after_b_issued)
    ticket_of_a = a.issue_ticket(conversation)
    monkeypatch.undo()
    lock = a.get_lock(conversation)
    assert ticket_of_a == tickets_of_b[0] == 0
    assert not lock.is_locked(ticket_of_a) and not lock.is_locked(tickets_of_b[0])  # both hold the lock
    a.delete_lock(conversation)


@needs_redis
async def test_tickets_taken_at_the_same_moment_are_all_different(stores, conversation):
    a, b = stores
    tickets = await asyncio.gather(*(store.take_ticket(conversation) for _ in range(10) for store in (a, b)))
    assert sorted(ticket.number for ticket in tickets) == list(range(1, 21))
    assert sorted(ticket.ahead for ticket in tickets) == list(range(20))  # exactly one is served
    for ticket in sorted(tickets, key=lambda ticket: ticket.number):
        await a.release(ticket)


# -- order


@needs_redis
async def test_tickets_are_served_in_issue_order_each_woken_by_the_previous(stores, conversation):
    a, b = stores
    first = await a.take_ticket(conversation)
    await a.wait_for_turn(first)
    tickets = [await (a, b)[n % 2].take_ticket(conversation) for n in range(6)]  # alternating instances
    assert [ticket.ahead for ticket in tickets] == [1, 2, 3, 4, 5, 6]
    served: list[int] = []

    async def serve(store: AtomicRedisLockStore, ticket) -> None:
        # polls only every 5 s (capped at half the socket timeout): without the previous holder's
        # wake-up the six turns would not fit in the timeout below
        await store.wait_for_turn(ticket, wait_time_in_seconds=60)
        served.append(ticket.number)
        await store.release(ticket)

    waiting = [asyncio.create_task(serve((a, b)[n % 2], tickets[n])) for n in reversed(range(6))]  # reverse start
    await a.release(first)
    await asyncio.wait_for(asyncio.gather(*waiting), timeout=SIGNAL_TIMEOUT_S / 3)
    assert served == [ticket.number for ticket in tickets]
    assert a.get_lock(conversation) is None


# -- expiry


@needs_redis
async def test_a_holder_killed_while_holding_blocks_the_next_only_for_its_lifetime(
    red, stores, key_prefix, conversation
):
    store = stores[0]
    lifetime = 3.0
    signal_key = f"{key_prefix}:test:{conversation}:held"
    holder = _spawn(
        store="atomic", prefix=key_prefix, conversation=conversation, mode="hold", lifetime=lifetime, signal=signal_key
    )
    try:
        held = await asyncio.to_thread(red.blpop, [signal_key], SIGNAL_TIMEOUT_S)
        assert held, "the holder never got the lock"
        holder.send_signal(signal.SIGKILL)
        await asyncio.to_thread(holder.wait, SIGNAL_TIMEOUT_S)
    finally:
        _stop([holder])
    assert holder.returncode == -signal.SIGKILL
    dead = store.get_lock(conversation)
    assert dead is not None and len(dead.tickets) == 1  # its ticket is still there...
    keys = store.keys(conversation)
    assert 0 < red.pttl(keys.queue) <= lifetime * 1000  # ...and Redis drops it by itself at the latest then

    started = time.monotonic()
    async with store.lock(conversation, wait_time_in_seconds=0.05) as ticket:
        waited = time.monotonic() - started
        assert ticket.ahead == 1 and [t.number for t in store.get_lock(conversation).tickets] == [ticket.number]
    assert waited <= lifetime + 1.0
    assert _keys_of(red, store, conversation) == []


@needs_redis
async def test_a_ticket_that_expires_before_its_turn_raises_lock_error(stores, conversation):
    a, b = stores
    async with a.lock(conversation) as held:
        with pytest.raises(LockError, match="expired"):
            async with b.lock(conversation, lock_lifetime=0.3, wait_time_in_seconds=0.05):
                pytest.fail("served while another instance held the lock")
        assert [ticket.number for ticket in a.get_lock(conversation).tickets] == [held.number]


@needs_redis
async def test_key_prefixes_keep_deployments_apart(key_prefix, conversation):
    mine = AtomicRedisLockStore.from_url(REDIS_URL, key_prefix=key_prefix)
    theirs = AtomicRedisLockStore.from_url(REDIS_URL, key_prefix=f"{key_prefix}.outra")
    async with mine.lock(conversation) as one, theirs.lock(conversation, wait_time_in_seconds=60) as other:
        assert one.ahead == other.ahead == 0  # same conversation id, both served at once: separate queues
    await mine.aclose()
    await theirs.aclose()


@needs_redis
async def test_a_failed_release_is_logged_and_the_turn_still_ends(stores, conversation, monkeypatch, caplog):
    store = stores[0]

    async def redis_gone(**_: Any) -> None:
        raise redis.ConnectionError("Connection reset by peer")

    with caplog.at_level(logging.WARNING, logger="bot.lock_store"):
        async with store.lock(conversation):
            monkeypatch.setattr(store._client(), "finish", redis_gone)
    assert "expires by itself" in caplog.text
    monkeypatch.undo()
    assert store.get_lock(conversation) is not None  # still queued until it expires
    store.delete_lock(conversation)


# -- configuration (no Redis needed)


def test_rasa_builds_it_from_endpoints_yml(tmp_path, monkeypatch):
    """The section scripts/stack.py writes (password as a `${VAR}` Rasa fills from its environment)."""
    monkeypatch.setenv("LOCK_STORE_PASSWORD", "senha-do-redis-42")
    section = {
        "type": "bot.lock_store.AtomicRedisLockStore",
        "url": "cache.interna",
        "port": 6380,
        "db": 2,
        "password": "${LOCK_STORE_PASSWORD}",
        "key_prefix": "producao",
    }
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump({"lock_store": section}))
    store = LockStore.create(read_endpoint_config(str(path), "lock_store"))
    assert isinstance(store, AtomicRedisLockStore)
    assert (store.settings.host, store.settings.port, store.settings.db) == ("cache.interna", 6380, 2)
    assert store.settings.password == "senha-do-redis-42"
    assert store.keys("c").queue == "producao:atomic_lock:{c}:queue"
    with pytest.raises(NotImplementedError, match="atomically"):
        store.issue_ticket("c")  # Rasa's piecewise steps are not offered


def test_a_typo_or_an_unsafe_prefix_stops_the_start():
    config = EndpointConfig(url="cache.interna", type="bot.lock_store.AtomicRedisLockStore", passwd="x")
    with pytest.raises(ValueError, match="passwd"):
        LockStore.create(config)
    with pytest.raises(ValueError, match="key_prefix"):
        AtomicRedisLockStore(key_prefix="prod*")


async def test_redis_down_is_a_lock_error():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = AtomicRedisLockStore(host="127.0.0.1", port=port, socket_timeout=2)
    with pytest.raises(LockError, match="ticket"):
        async with store.lock("conversa"):
            pytest.fail("locked without Redis")


if __name__ == "__main__":
    asyncio.run(_work(json.loads(sys.argv[1])))
