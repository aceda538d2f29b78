"""The conversation lock shared by every Rasa instance: Rasa's ticket lock, made atomic in Redis.

Rasa serialises the turns of a conversation with a lock store (`lock(conversation_id)` around
every message and every HTTP API call that changes a tracker). Its RedisLockStore keeps the whole
TicketLock as one JSON value and changes it by GET, modify in Python, SET: two instances that
take a ticket at the same moment both read the same queue, both write back their own, and both
get ticket 0 — so both handle the conversation at once (Rasa issue 9213; the atomic lock store is
not in the open-source edition). Here every step is one Redis operation (a Lua script, which Redis
runs alone), so no instance ever sees a half-done change.

Configured in endpoints.yml by module path (scripts/stack.py, lock_store_config()); Rasa builds it
with `AtomicRedisLockStore(endpoint_config=...)`:

    lock_store:
      type: bot.lock_store.AtomicRedisLockStore
      url: redis.interna          # the host, as Rasa's own RedisLockStore names it (or `host`)
      port: 6379
      db: 0
      password: ${LOCK_STORE_PASSWORD}   # optional; also username, use_ssl, ssl_certfile,
                                         # ssl_keyfile, ssl_ca_certs, socket_timeout (10 s)
      key_prefix: producao        # optional: one per deployment sharing the Redis
      lock_lifetime: 60           # optional, seconds (default TICKET_LOCK_LIFETIME, else 60)

An unknown setting (a typo such as `passwd`) or a key prefix with characters other than letters,
digits, `_`, `-`, `.` and `:` stops the start instead of being ignored. Nothing connects at
construction: the first message does.

How a turn goes (three operations, each atomic):

- take a ticket: INCR of the conversation's counter gives the number, and the ticket (a random
  token) enters the queue (a sorted set by number) with its expiry (a sorted set by the instant,
  from Redis's own clock: the instances' clocks never matter). The answer says whether it is
  already the first in line, so an uncontended turn costs two round trips in all;
- wait for the turn: "is my ticket the first one alive?" (expired tickets are dropped in the same
  script). If not, block on the ticket's own wake-up list (BLPOP) for at most
  `wait_time_in_seconds` (Rasa passes 1 s) and ask again. A ticket that expired before its turn
  raises LockError, as in Rasa;
- finish: drop the ticket and push a wake-up to the next ticket in line, so the next turn starts
  at once instead of at its next poll. With no one left, the conversation's keys are deleted.

Tickets are served in the order they were issued (first come, first served), whichever instance
issued them. A ticket lives `lock_lifetime` seconds from when it was taken, waiting included, as
in Rasa: an instance that dies holding the lock (killed, out of memory, network gone) holds up the
conversation for at most that long — the next ticket's poll finds it expired — and every key of
the conversation carries a Redis expiration at its last ticket's expiry, so nothing is left behind.
The same holds for a turn that outlives its lifetime: the lock moves on without it, exactly as in
Rasa (keep TICKET_LOCK_LIFETIME above the slowest turn, action-server timeout included). Redis
errors become LockError when taking or waiting; an error when finishing is only logged (the
ticket then expires by itself), so it never turns an answered turn into an error.

Keys: `<key_prefix>:atomic_lock:{<conversation id>}:queue|expiry|counter|wake:<token>` (without a
prefix, `atomic_lock:...`). The braces keep a conversation's keys in one Redis Cluster slot; they
never clash with the `lock:` keys of Rasa's RedisLockStore, which also means the two do not
exclude each other: switch every instance at once. Needs Redis 6.0 or newer (fractional BLPOP
timeouts).

Only `lock()` is the API (it is all Rasa calls). `get_lock()` and `is_someone_waiting()` read a
snapshot (diagnostics), `delete_lock()` drops a conversation's queue (its waiters get LockError);
the other synchronous methods of Rasa's LockStore (issue_ticket, save_lock, finish_serving,
update_lock, cleanup) change the lock piecewise, which is the bug fixed here, so they raise
NotImplementedError. The Redis client is created per event loop (redis.asyncio connections belong
to the loop that opened them).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import unquote, urlsplit

import redis  # type: ignore[import-untyped]
import redis.asyncio  # type: ignore[import-untyped]
from rasa.core.lock import Ticket as RasaTicket
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

KEY_NAMESPACE = "atomic_lock"
KEY_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.:-]+")  # no braces (hash tags), spaces or glob characters
MIN_WAIT_S = 0.01  # BLPOP's timeout 0 means "forever"

# Shared by the scripts: the time from Redis's clock, in ms, and dropping expired tickets.
_LUA_COMMON = """
if redis.replicate_commands then redis.replicate_commands() end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function prune(queue, expiry, now)
  local expired = redis.call('ZRANGEBYSCORE', expiry, '-inf', now)
  for _, token in ipairs(expired) do
    redis.call('ZREM', queue, token)
    redis.call('ZREM', expiry, token)
  end
end
"""

# KEYS: queue, expiry, counter. ARGV: token, lifetime in ms.
# Returns {ticket number, tickets ahead of it}. Every key lives until the last ticket expires.
ISSUE_SCRIPT = (
    _LUA_COMMON
    + """
local now = now_ms()
prune(KEYS[1], KEYS[2], now)
local number = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], number, ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local ttl = tonumber(last[2]) - now
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
return {number, redis.call('ZRANK', KEYS[1], ARGV[1])}
"""
)

# KEYS: queue, expiry. ARGV: token. Returns the tickets ahead (0: its turn), -1 if it is gone.
TURN_SCRIPT = (
    _LUA_COMMON
    + """
prune(KEYS[1], KEYS[2], now_ms())
local ahead = redis.call('ZRANK', KEYS[1], ARGV[1])
if not ahead then return -1 end
return ahead
"""
)

# KEYS: queue, expiry, counter. ARGV: token, wake-up key prefix.
# Returns 1 if a next ticket was woken up, 0 if the queue is empty (its keys deleted).
FINISH_SCRIPT = (
    _LUA_COMMON
    + """
local now = now_ms()
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('DEL', ARGV[2] .. ARGV[1])
prune(KEYS[1], KEYS[2], now)
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if not head then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 0
end
local wake = ARGV[2] .. head
redis.call('DEL', wake)
redis.call('RPUSH', wake, 1)
redis.call('PEXPIRE', wake, tonumber(redis.call('ZSCORE', KEYS[2], head)) - now)
return 1
"""
)

_SYNC_API = (
    "AtomicRedisLockStore changes a lock only atomically: use `async with store.lock(conversation_id)` "
    "(Rasa's piecewise issue_ticket/save_lock/finish_serving are what makes its RedisLockStore unsafe)"
)


@dataclass(frozen=True)
class RedisSettings:
    """What endpoints.yml may say besides `type` (`url` is the host); unknown keys are an error."""

    host: str = "localhost"
    port: int = 6379
    db: int = 1  # Rasa's RedisLockStore default
    username: str | None = None
    password: str | None = None
    use_ssl: bool = False
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_ca_certs: str | None = None
    socket_timeout: float = 10.0
    key_prefix: str | None = None
    lock_lifetime: float = float(LOCK_LIFETIME)

    def __post_init__(self) -> None:
        if self.key_prefix and not KEY_PREFIX_PATTERN.fullmatch(str(self.key_prefix)):
            raise ValueError(
                f"lock store key_prefix {self.key_prefix!r}: use only letters, digits, '_', '-', '.' and ':'"
            )
        if float(self.lock_lifetime) <= 0:
            raise ValueError(f"lock store lock_lifetime must be positive, not {self.lock_lifetime!r}")

    def client_kwargs(self) -> dict[str, Any]:
        """The same arguments for redis.Redis and redis.asyncio.Redis (`${VAR}` values arrive as strings)."""
        return {
            "host": self.host,
            "port": int(self.port),
            "db": int(self.db),
            "username": self.username,
            "password": None if self.password is None else str(self.password),
            "ssl": str(self.use_ssl).lower() in ("true", "1", "yes"),
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
            "ssl_ca_certs": self.ssl_ca_certs,
            "socket_timeout": float(self.socket_timeout),
        }


@dataclass(frozen=True)
class Ticket:
    """A ticket taken for a conversation: `number` gives the order, `token` (random) names it in Redis."""

    conversation_id: str
    number: int
    token: str
    ahead: int  # tickets in front of it when it was taken (0: its turn at once)


@dataclass(frozen=True)
class _Keys:
    queue: str
    expiry: str
    counter: str
    wake_prefix: str

    def wake(self, token: str) -> str:
        return self.wake_prefix + token


class _LoopClient:
    """The asyncio Redis client and its scripts, for one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, kwargs: dict[str, Any]) -> None:
        self.loop = loop
        self.redis = redis.asyncio.Redis(**kwargs)
        self.issue = self.redis.register_script(ISSUE_SCRIPT)
        self.turn = self.redis.register_script(TURN_SCRIPT)
        self.finish = self.redis.register_script(FINISH_SCRIPT)


class AtomicRedisLockStore(LockStore):
    """Rasa's lock store interface on Redis, with each step of the ticket lock one atomic operation."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **settings: Any) -> None:
        if endpoint_config is not None:
            from_endpoints = dict(endpoint_config.kwargs)
            if endpoint_config.url:
                from_endpoints.setdefault("host", endpoint_config.url)
            settings = {**from_endpoints, **settings}
        try:
            self.settings = RedisSettings(**settings)
        except TypeError as err:
            allowed = ", ".join(["url", *(field.name for field in fields(RedisSettings))])
            raise ValueError(f"lock store: {err} (known settings: {allowed})") from err
        prefix = self.settings.key_prefix
        self.key_base = f"{prefix.rstrip(':')}:{KEY_NAMESPACE}:" if prefix else f"{KEY_NAMESPACE}:"
        self.lock_lifetime = float(self.settings.lock_lifetime)
        self._client_kwargs = self.settings.client_kwargs()
        self._loop_client: _LoopClient | None = None
        self._sync_client: redis.Redis | None = None
        super().__init__()

    @classmethod
    def from_url(cls, url: str, **settings: Any) -> AtomicRedisLockStore:
        """From `redis://[user:password@]host[:port][/db]` (`rediss://` for TLS), plus other settings."""
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ValueError(f"not a redis:// URL: {parts.scheme}://...")
        from_url: dict[str, Any] = {
            "host": parts.hostname or "localhost",
            "port": parts.port or 6379,
            "db": int(parts.path.lstrip("/") or 0),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "use_ssl": parts.scheme == "rediss",
        }
        return cls(**{**from_url, **settings})

    # -- keys and clients

    def keys(self, conversation_id: str) -> _Keys:
        base = f"{self.key_base}{{{conversation_id}}}:"
        return _Keys(base + "queue", base + "expiry", base + "counter", base + "wake:")

    def _client(self) -> _LoopClient:
        loop = asyncio.get_running_loop()
        if self._loop_client is None or self._loop_client.loop is not loop:
            self._loop_client = _LoopClient(loop, self._client_kwargs)
        return self._loop_client

    def _sync(self) -> redis.Redis:
        if self._sync_client is None:
            self._sync_client = redis.Redis(**self._client_kwargs)
        return self._sync_client

    async def aclose(self) -> None:
        """Closes this event loop's connections (Rasa never calls it; tests and scripts may)."""
        client = self._loop_client
        if client is not None and client.loop is asyncio.get_running_loop():
            self._loop_client = None
            await client.redis.close(close_connection_pool=True)
        if self._sync_client is not None:
            self._sync_client.close()
            self._sync_client = None

    # -- the three atomic steps

    async def take_ticket(self, conversation_id: str, lock_lifetime: float | None = None) -> Ticket:
        """Joins the conversation's queue (atomic: INCR and enqueue in one script)."""
        lifetime_ms = max(1, round(1000 * (self.lock_lifetime if lock_lifetime is None else lock_lifetime)))
        keys = self.keys(conversation_id)
        token = secrets.token_hex(12)
        try:
            number, ahead = await self._client().issue(
                keys=[keys.queue, keys.expiry, keys.counter], args=[token, lifetime_ms]
            )
        except redis.RedisError as err:
            raise LockError(f"Could not take a ticket for conversation '{conversation_id}': {err}") from err
        logger.debug("Ticket %s for conversation '%s' (%s ahead).", number, conversation_id, ahead)
        return Ticket(conversation_id, int(number), token, int(ahead))

    async def wait_for_turn(self, ticket: Ticket, wait_time_in_seconds: float = 1) -> None:
        """Returns when `ticket` is first in line; LockError if it expired before that.

        Woken up by the previous holder's finish; asks again every `wait_time_in_seconds` anyway
        (a holder that died never finishes: its ticket's expiry lets this one through)."""
        keys = self.keys(ticket.conversation_id)
        timeout = max(MIN_WAIT_S, min(float(wait_time_in_seconds), float(self.settings.socket_timeout) / 2))
        ahead = ticket.ahead
        try:
            while ahead != 0:
                if ahead < 0:
                    raise LockError(
                        f"Could not acquire lock for conversation_id '{ticket.conversation_id}': "
                        f"ticket {ticket.number} expired (or the lock was deleted) before its turn."
                    )
                logger.debug("Ticket %s of '%s' waits for %s other(s).", ticket.number, ticket.conversation_id, ahead)
                client = self._client()
                await client.redis.blpop([keys.wake(ticket.token)], timeout=timeout)
                ahead = int(await client.turn(keys=[keys.queue, keys.expiry], args=[ticket.token]))
        except redis.RedisError as err:
            raise LockError(f"Could not acquire lock for conversation_id '{ticket.conversation_id}': {err}") from err
        logger.debug("Acquired lock for conversation '%s' (ticket %s).", ticket.conversation_id, ticket.number)

    async def release(self, ticket: Ticket) -> None:
        """Leaves the queue and wakes the next ticket up. A Redis error is logged, not raised: the
        ticket then expires on its own."""
        keys = self.keys(ticket.conversation_id)
        try:
            await self._client().finish(
                keys=[keys.queue, keys.expiry, keys.counter], args=[ticket.token, keys.wake_prefix]
            )
        except redis.RedisError as err:
            logger.warning(
                "Could not release ticket %s of conversation '%s' (%s); it expires by itself.",
                ticket.number,
                ticket.conversation_id,
                err,
            )

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float | None = None,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[Ticket]:
        """Holds the conversation's lock for the block: tickets served in issue order, LockError if
        this one expires (`lock_lifetime`, default the store's) before its turn."""
        ticket = await self.take_ticket(conversation_id, lock_lifetime)
        try:
            await self.wait_for_turn(ticket, wait_time_in_seconds)
            yield ticket
        finally:
            # a cancelled turn still leaves the queue (the script runs whole once sent)
            await asyncio.shield(self.release(ticket))

    # -- Rasa's synchronous interface: read-only snapshots, and a delete

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """A snapshot of the conversation's live tickets in order (expiry in epoch seconds), or None."""
        keys = self.keys(conversation_id)
        pipe = self._sync().pipeline(transaction=True)
        pipe.time()
        pipe.zrange(keys.queue, 0, -1, withscores=True)
        pipe.zrange(keys.expiry, 0, -1, withscores=True)
        (seconds, micros), queue, expiry = pipe.execute()
        now_ms = seconds * 1000 + micros // 1000
        expires = {token: score for token, score in expiry if score > now_ms}
        tickets = [RasaTicket(int(number), expires[token] / 1000) for token, number in queue if token in expires]
        return TicketLock(conversation_id, deque(tickets)) if tickets else None

    def delete_lock(self, conversation_id: str) -> None:
        """Drops the conversation's queue: its holder keeps going, its waiters get LockError."""
        keys = self.keys(conversation_id)
        self._log_deletion(conversation_id, bool(self._sync().delete(keys.queue, keys.expiry, keys.counter)))

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError(_SYNC_API)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        raise NotImplementedError(_SYNC_API)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        raise NotImplementedError(_SYNC_API)

    def update_lock(self, conversation_id: str) -> None:
        raise NotImplementedError(_SYNC_API)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        raise NotImplementedError(_SYNC_API)
