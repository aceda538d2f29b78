"""channels.shared_state: what the channels keep between requests, in memory (one Rasa instance) and in
Redis (CHANNEL_REDIS_URL: every instance). Both implementations of each interface go through the same
tests: the options last shown to a conversation, the provider ids already taken (first_time), the widget's
upload registry (expiry, the rate window, the caps per session and in total; a fake clock). Then what only
Redis has: keys under the prefix with the lifetimes of the in-memory ones, two installations on one
Redis (two prefixes) that never see each other, two instances (one prefix) that see the same state, and
the factory reading the environment.

The Redis cases need TEST_REDIS_URL (CI sets it; skipped with the reason otherwise). Each test works
under a random prefix of its own and deletes its keys, so that test sessions sharing a Redis never meet."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis
import socketio

from channels.common import OPTIONS_TTL_S, Attachment
from channels.shared_state import (
    DEFAULT_PREFIX,
    SEEN_TTL_S,
    ChannelState,
    MemoryOptions,
    MemorySeenIds,
    MemoryUploads,
    OptionStore,
    RedisChannelState,
    RedisOptions,
    RedisSeenIds,
    RedisUploads,
    SeenStore,
    UploadLimitReached,
    UploadLimits,
    UploadRegistry,
    channel_state,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL")
NO_REDIS = "TEST_REDIS_URL not set (CI sets it to the machine's Redis): the Redis implementation is not tested"
PDF_SIZE = 27
YES_NO = [{"title": "Sim", "payload": "/afirmar"}, {"title": "Não", "payload": "/negar"}]
SHORT_TTL_S = 0.3
WAIT_S = 10


def new_prefix() -> str:
    return f"teste-{secrets.token_hex(8)}:"  # hex only: no glob characters when the keys are cleaned up


@contextlib.asynccontextmanager
async def redis_session() -> AsyncIterator[tuple[aioredis.Redis, Callable[[], str]]]:
    """(client, new_prefix): prefixes for this test alone; every key under them is deleted afterwards."""
    if not REDIS_URL:
        pytest.skip(NO_REDIS)
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    used: list[str] = []

    def prefix() -> str:
        used.append(new_prefix())
        return used[-1]

    try:
        yield client, prefix
    finally:
        for name in used:
            keys = [key async for key in client.scan_iter(match=name + "*")]
            if keys:
                await client.delete(*keys)
        await client.close()


@pytest.fixture
async def redis_client() -> AsyncIterator[tuple[aioredis.Redis, Callable[[], str]]]:
    async with redis_session() as session:
        yield session


@dataclass
class Stores:
    """Builds one implementation's stores (kind "memory" or "redis") with the settings a test wants."""

    kind: str
    redis: aioredis.Redis | None = None
    prefix: str = ""

    def options(self, ttl_s: float = OPTIONS_TTL_S) -> OptionStore:
        if self.redis is None:
            return MemoryOptions(ttl_s)
        return RedisOptions(self.redis, self.prefix + "options:whatsapp:", ttl_s)

    def seen(self, ttl_s: float = SEEN_TTL_S) -> SeenStore:
        if self.redis is None:
            return MemorySeenIds(ttl_s)
        return RedisSeenIds(self.redis, self.prefix + "seen:telegram:", ttl_s)

    def uploads(self, limits: UploadLimits, clock: Callable[[], float]) -> UploadRegistry:
        if self.redis is None:
            return MemoryUploads(limits, clock)
        return RedisUploads(self.redis, self.prefix, limits, clock)


@pytest.fixture(params=["memory", "redis"])
async def stores(request) -> AsyncIterator[Stores]:
    if request.param == "memory":
        yield Stores("memory")
        return
    async with redis_session() as (client, prefix):
        yield Stores("redis", client, prefix())


async def eventually(condition: Callable, what: str) -> None:
    """Polls an async condition until it holds (a real expiry; bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not await condition():
        assert loop.time() < deadline, f"{what} did not happen in {WAIT_S} s"
        await asyncio.sleep(0.02)


# ---------------------------------------------------------------------------------------------------
# options


async def test_options_are_remembered_per_conversation_and_replaced(stores):
    options = stores.options()
    assert await options.get("whatsapp:+5579998110001") == []
    await options.remember("whatsapp:+5579998110001", YES_NO)
    await options.remember("whatsapp:+5579998110002", YES_NO[:1])
    assert await options.get("whatsapp:+5579998110001") == YES_NO
    assert await options.get("whatsapp:+5579998110002") == YES_NO[:1]
    await options.remember("whatsapp:+5579998110001", YES_NO[::-1])  # the next answer's buttons
    assert await options.get("whatsapp:+5579998110001") == YES_NO[::-1]
    await options.remember("whatsapp:+5579998110001", None)  # an answer without buttons
    assert await options.get("whatsapp:+5579998110001") == []
    await options.remember("whatsapp:+5579998110002", [])
    assert await options.get("whatsapp:+5579998110002") == []


async def test_options_expire(stores):
    options = stores.options(ttl_s=SHORT_TTL_S)
    await options.remember("chat", YES_NO)
    assert await options.get("chat") == YES_NO

    async def expired() -> bool:
        return await options.get("chat") == []

    await eventually(expired, "the options' expiry")


# ---------------------------------------------------------------------------------------------------
# ids already taken


async def test_an_id_is_new_only_once(stores):
    seen = stores.seen()
    assert await seen.first_time("SM0001")
    assert not await seen.first_time("SM0001")
    assert await seen.first_time("SM0002")
    assert await seen.first_time(5001)  # Telegram's update_id is a number...
    assert not await seen.first_time("5001")  # ...kept as its text
    for nothing in (None, ""):  # no id: never taken for a repeat
        assert await seen.first_time(nothing) and await seen.first_time(nothing)


async def test_a_seen_id_expires(stores):
    seen = stores.seen(ttl_s=SHORT_TTL_S)
    assert await seen.first_time("SM0001")
    assert not await seen.first_time("SM0001")

    async def new_again() -> bool:
        return await seen.first_time("SM0001")

    await eventually(new_again, "the id's expiry")
    assert not await seen.first_time("SM0001")  # taken again, a repeat again


async def test_concurrent_deliveries_of_one_id_are_taken_once(stores):
    """The same webhook retried while the first is still being handled (SET NX in Redis)."""
    seen = stores.seen()
    answers = await asyncio.gather(*(seen.first_time("SM-duplicado") for _ in range(20)))
    assert answers.count(True) == 1


async def test_in_memory_the_seen_ids_stay_bounded():
    seen = MemorySeenIds(size=3)
    for value in ("a", "b", "c", "d"):
        assert await seen.first_time(value)
    assert await seen.first_time("a")  # the oldest was forgotten
    assert not await seen.first_time("d")


# ---------------------------------------------------------------------------------------------------
# the widget's uploads


def attachment(name: str) -> Attachment:
    return Attachment(f"arquivo-{name}", "application/pdf", f"{name}.pdf", PDF_SIZE)


async def add(uploads: UploadRegistry, session: str, item: Attachment) -> str:
    token = await uploads.reserve(session, item.size)
    assert await uploads.fill(session, token, item)
    return token


async def test_an_upload_is_taken_once_and_only_by_its_session(stores):
    uploads = stores.uploads(UploadLimits(), clock=lambda: 1000.0)
    receipt, invoice = attachment("recibo"), attachment("nota")
    receipt_id = await add(uploads, "sessao-a", receipt)
    invoice_id = await add(uploads, "sessao-a", invoice)
    assert await uploads.take("sessao-b", [receipt_id]) == []  # another session's id: ignored...
    assert await uploads.take("sessao-a", [receipt_id, 42, None, "nao-existe", receipt_id]) == [receipt]
    assert await uploads.take("sessao-a", [receipt_id]) == []  # ...an id is good once
    assert await uploads.take("sessao-a", [f"{invoice_id} x", invoice_id + " "]) == []
    assert await uploads.take("sessao-a", [invoice_id]) == [invoice]
    assert (await uploads.sizes())["pending_files"] == 0


async def test_a_reservation_not_filled_or_dropped_gives_nothing(stores):
    uploads = stores.uploads(UploadLimits(), clock=lambda: 1000.0)
    waiting = await uploads.reserve("sessao-a", PDF_SIZE)  # the backend is receiving the file
    assert await uploads.take("sessao-a", [waiting]) == []
    dropped = await uploads.reserve("sessao-a", PDF_SIZE)
    await uploads.drop("sessao-a", dropped)  # the backend refused it
    assert not await uploads.fill("sessao-a", dropped, attachment("recusado"))
    assert (await uploads.sizes())["pending_files"] == 0


async def test_unsent_uploads_expire_and_are_forgotten(stores):
    now = [1000.0]
    uploads = stores.uploads(UploadLimits(ttl_s=3600), clock=lambda: now[0])
    old, kept, forgotten = (attachment(name) for name in ("antigo", "novo", "esquecido"))
    old_id = await add(uploads, "sessao-a", old)
    await add(uploads, "sessao-b", forgotten)
    now[0] += 3000
    kept_id = await add(uploads, "sessao-a", kept)
    now[0] += 700  # the first two are now 3700 s old
    assert await uploads.take("sessao-a", [old_id, kept_id, 42, None]) == [kept]
    await uploads.prune()  # the sweep (every minute, and before each upload) forgets the other one
    sizes = await uploads.sizes()
    assert (sizes["pending_files"], sizes["pending_bytes"], sizes["file_sessions"]) == (0, 0, 0)


async def test_the_rate_limit_window_slides(stores):
    now = [0.0]
    uploads = stores.uploads(UploadLimits(per_window=2, window_s=600), clock=lambda: now[0])
    assert await uploads.allow("s") and await uploads.allow("s") and not await uploads.allow("s")
    assert await uploads.allow("t")  # per session
    now[0] += 599
    assert not await uploads.allow("s")
    now[0] += 2
    assert await uploads.allow("s")


async def test_the_caps_per_session_and_in_total(stores):
    now = [0.0]
    limits = UploadLimits(session_files=2, session_bytes=3 * PDF_SIZE, total_files=5, total_bytes=6 * PDF_SIZE)
    uploads = stores.uploads(limits, clock=lambda: now[0])
    files = [attachment(f"f{number}") for number in range(8)]
    await add(uploads, "sessao-a", files[0])
    await add(uploads, "sessao-a", files[1])
    with pytest.raises(UploadLimitReached) as refused:  # per session: 2 files waiting
        await add(uploads, "sessao-a", files[2])
    assert refused.value.scope == "session"
    with pytest.raises(UploadLimitReached) as refused:  # per session: bytes
        await uploads.reserve("sessao-b", 4 * PDF_SIZE)
    assert refused.value.scope == "session"
    limits.session_bytes = 10 * PDF_SIZE
    with pytest.raises(UploadLimitReached) as refused:  # in total: bytes
        await uploads.reserve("sessao-b", 4 * PDF_SIZE + 1)
    assert refused.value.scope == "total"
    await add(uploads, "sessao-b", files[2])
    await add(uploads, "sessao-c", files[3])
    assert not await uploads.full()
    await add(uploads, "sessao-d", files[4])
    assert await uploads.full()
    with pytest.raises(UploadLimitReached) as refused:  # in total: 5 files
        await add(uploads, "sessao-e", files[5])
    assert refused.value.scope == "total"
    sizes = await uploads.sizes()
    assert (sizes["file_sessions"], sizes["pending_files"], sizes["pending_bytes"]) == (4, 5, 5 * PDF_SIZE)
    assert sizes["in_flight"] == 0
    now[0] += limits.ttl_s + 1  # nobody sent them: they expire and there is room again
    assert not await uploads.full()
    await add(uploads, "sessao-e", files[5])
    assert (await uploads.sizes())["pending_files"] == 1


async def test_in_memory_the_rate_registry_forgets_the_least_recently_used():
    now = [0.0]
    uploads = MemoryUploads(UploadLimits(per_window=2, rate_sessions=100), clock=lambda: now[0])
    for number in range(5000):  # sessions cost nothing to get: the registry forgets the oldest
        await uploads.allow(f"sessao-{number}")
    assert (await uploads.sizes())["rate_sessions"] == 100
    assert await uploads.allow("sessao-0")  # forgotten, so allowed again (the caps on files still hold)
    now[0] += 601
    await uploads.prune()
    assert (await uploads.sizes())["rate_sessions"] == 0


# ---------------------------------------------------------------------------------------------------
# Redis only: keys, lifetimes, prefixes, instances


async def test_redis_keys_live_under_the_prefix_as_long_as_in_memory(redis_client):
    client, new = redis_client
    prefix = new()
    state = RedisChannelState(REDIS_URL or "", prefix)
    try:
        await state.option_memory("whatsapp").remember("whatsapp:+5579998110001", YES_NO)
        await state.seen_ids("telegram").first_time(5001)
        uploads = state.web_uploads(UploadLimits())
        assert await uploads.allow("sessao-a")
        await add(uploads, "sessao-a", attachment("recibo"))
        lifetimes = {key: await client.pttl(key) async for key in client.scan_iter(match=prefix + "*")}
    finally:
        await state.close()
    assert set(lifetimes) == {
        f"{prefix}options:whatsapp:whatsapp:+5579998110001",
        f"{prefix}seen:telegram:5001",
        f"{prefix}widget:uploads",
        f"{prefix}widget:rate:sessao-a",
    }
    expected = {
        "options": OPTIONS_TTL_S,  # 30 min
        "seen": SEEN_TTL_S,  # 24 h
        "widget:uploads": UploadLimits().ttl_s,  # 1 h after the last upload
        "widget:rate": UploadLimits().window_s,  # 10 min after the last attempt
    }
    for key, pttl in lifetimes.items():
        [ttl_s] = [ttl for name, ttl in expected.items() if key.startswith(prefix + name)]
        assert ttl_s * 1000 - 60_000 < pttl <= ttl_s * 1000, key


async def test_two_prefixes_never_meet_and_one_prefix_is_shared(redis_client):
    _, new = redis_client
    mine, theirs = new(), new()
    url = REDIS_URL or ""
    instance_a, instance_b, other = (RedisChannelState(url, p) for p in (mine, mine, theirs))
    try:
        await instance_a.option_memory("whatsapp").remember("whatsapp:+5579998110001", YES_NO)
        assert await instance_b.option_memory("whatsapp").get("whatsapp:+5579998110001") == YES_NO
        assert await other.option_memory("whatsapp").get("whatsapp:+5579998110001") == []
        assert await instance_a.option_memory("telegram").get("whatsapp:+5579998110001") == []  # per channel

        assert await instance_a.seen_ids("whatsapp").first_time("SM0001")
        assert not await instance_b.seen_ids("whatsapp").first_time("SM0001")  # a retry at another instance
        assert await other.seen_ids("whatsapp").first_time("SM0001")
        assert await instance_a.seen_ids("telegram").first_time("SM0001")

        # the widget uploads through one instance and sends the message through another
        upload_a, upload_b, upload_other = (s.web_uploads(UploadLimits()) for s in (instance_a, instance_b, other))
        receipt = attachment("recibo")
        token = await add(upload_a, "sessao-a", receipt)
        assert await upload_other.take("sessao-a", [token]) == []
        assert await upload_b.take("sessao-a", [token]) == [receipt]
        assert await upload_a.take("sessao-a", [token]) == []
    finally:
        for state in (instance_a, instance_b, other):
            await state.close()


# ---------------------------------------------------------------------------------------------------
# the factory


def test_without_a_redis_url_everything_stays_in_memory():
    for environ in ({}, {"CHANNEL_REDIS_URL": "  "}, {"CHANNEL_STATE_PREFIX": "outro:"}):
        state = channel_state(environ)
        assert type(state) is ChannelState, environ
        assert isinstance(state.option_memory("whatsapp"), MemoryOptions)
        assert isinstance(state.seen_ids("telegram"), MemorySeenIds)
        assert isinstance(state.web_uploads(UploadLimits()), MemoryUploads)
        assert state.socketio_manager() is None  # python-socketio's default: this process only


def test_with_a_redis_url_the_state_goes_to_redis_under_the_prefix():
    url = "redis://127.0.0.1:6399/3"  # nothing is connected before the first command
    state = channel_state({"CHANNEL_REDIS_URL": url})
    assert isinstance(state, RedisChannelState) and state.prefix == DEFAULT_PREFIX == "assistente:"
    options = state.option_memory("whatsapp")
    assert isinstance(options, RedisOptions) and options.prefix == "assistente:options:whatsapp:"
    seen = state.seen_ids("telegram")
    assert isinstance(seen, RedisSeenIds) and seen.prefix == "assistente:seen:telegram:"
    assert isinstance(state.web_uploads(UploadLimits()), RedisUploads)
    manager = state.socketio_manager()
    assert isinstance(manager, socketio.AsyncRedisManager)
    assert (manager.redis_url, manager.channel) == (url, "assistente:socketio")

    other = channel_state({"CHANNEL_REDIS_URL": url, "CHANNEL_STATE_PREFIX": "plano-b:"})
    assert isinstance(other, RedisChannelState)
    assert other.prefix == "plano-b:" and other.socketio_manager().channel == "plano-b:socketio"
