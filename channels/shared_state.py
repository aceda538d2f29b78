"""What the channels keep between one request and the next, behind one small async interface each, in
this process's memory or (CHANNEL_REDIS_URL set) in Redis, where every Rasa instance behind the load
balancer sees the same thing. `channel_state()` reads the environment and builds them; the channels only
call the interfaces. See docs/channels.md and docs/widget.md.

- OptionStore (`remember` / `get`): the buttons last shown to a WhatsApp or Telegram conversation, so
  that "2" picks the second one, for OPTIONS_TTL_S (30 min) or until the next answer;
- SeenStore (`first_time`, `forget`): the provider's ids of the deliveries already taken (Twilio MessageSid,
  Telegram update_id), so that a retried webhook is not a second message. Kept SEEN_TTL_S (24 h: the
  longest Telegram keeps an undelivered update; Twilio retries within seconds); in memory also at most
  SEEN_MEMORY_SIZE ids;
- UploadRegistry: the widget's uploads waiting to be mentioned in a message (which opaque upload id of
  which session stands for which file of the backend), its rate limit per session and its caps per
  session and in total (UploadLimits). An upload not sent to the assistant within UPLOAD_TTL_S (1 h)
  is forgotten. `in_flight` (uploads being received now, each buffering up to 10 MB) is always this
  process's own count;
- the socket.io client manager: with Redis, python-socketio's AsyncRedisManager, so that an emit on one
  instance reaches a browser connected to another (an agent's reply arrives through whichever instance
  the backend called).

Redis keys, all under CHANNEL_STATE_PREFIX (default "assistente:"; another prefix, another installation
on the same Redis):
    <prefix>options:<channel>:<conversation>  JSON list of {title, payload}    SET ... PX 30 min
    <prefix>seen:<channel>:<id>               "1"                               SET ... NX PX 24 h
    <prefix>widget:uploads                    hash "<session> <upload id>" -> {stamp, size, attachment};
                                              expiry checked by stamp, the key expires 1 h after the
                                              last upload; every change is one Lua script (atomic)
    <prefix>widget:rate:<session>             sorted set of upload attempts     PX the window (10 min)
    <prefix>socketio                          the socket.io pub/sub channel
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis  # type: ignore[import-untyped]
import socketio  # type: ignore[import-untyped]

from channels.common import OPTIONS_TTL_S, Attachment

REDIS_URL_ENV = "CHANNEL_REDIS_URL"
PREFIX_ENV = "CHANNEL_STATE_PREFIX"
DEFAULT_PREFIX = "assistente:"

SEEN_TTL_S = 24 * 60 * 60
SEEN_MEMORY_SIZE = 5000
OPTIONS_MEMORY_SIZE = 10_000  # past this, the in-memory options forget the stale ones

MB = 1024 * 1024
UPLOAD_LIMIT = 10  # files per session...
UPLOAD_WINDOW_S = 10 * 60  # ...in this many seconds
UPLOAD_TTL_S = 60 * 60  # an upload not sent to the assistant by then is forgotten
SESSION_PENDING_FILES = 10  # files waiting to be sent, per session
SESSION_PENDING_BYTES = 64 * MB  # ...and their bytes
PENDING_FILES = 200  # WIDGET_UPLOADS_MAX_FILES: files waiting, all sessions together
PENDING_BYTES = 256 * MB  # WIDGET_UPLOADS_MAX_MB: their bytes
IN_FLIGHT = 8  # WIDGET_UPLOADS_IN_FLIGHT: uploads being received at once by one process
RATE_SESSIONS = 10_000  # in memory: sessions whose recent uploads are remembered (LRU)
MAX_UPLOAD_IDS = UPLOAD_LIMIT  # looked at per message


# ---------------------------------------------------------------------------------------------------
# interfaces


class OptionStore(Protocol):
    async def remember(self, key: str, options: list[dict] | None) -> None:
        """The options just shown to the conversation `key` (None or []: it has none now)."""

    async def get(self, key: str) -> list[dict]:
        """The conversation's options, [] when none or expired."""


class SeenStore(Protocol):
    async def first_time(self, value: Any) -> bool:
        """True the first time an id is seen (and for no id at all), False for a repeat."""

    async def forget(self, value: Any) -> None:
        """The id was not taken after all (e.g. the inbound queue refused it): its retry is a first time."""


@dataclass
class UploadLimits:
    per_window: int = UPLOAD_LIMIT
    window_s: float = UPLOAD_WINDOW_S
    ttl_s: float = UPLOAD_TTL_S
    session_files: int = SESSION_PENDING_FILES
    session_bytes: int = SESSION_PENDING_BYTES
    total_files: int = PENDING_FILES
    total_bytes: int = PENDING_BYTES
    in_flight: int = IN_FLIGHT
    rate_sessions: int = RATE_SESSIONS


class UploadLimitReached(Exception):
    """No room for the upload: `scope` is "session" (this session's caps) or "total" (everybody's)."""

    def __init__(self, scope: str) -> None:
        super().__init__(scope)
        self.scope = scope


class UploadRegistry(Protocol):
    limits: UploadLimits
    in_flight: int  # uploads this process is receiving now (its own memory)

    async def allow(self, session: str) -> bool:
        """Counts one upload attempt; False when the session made `per_window` in the window already."""

    async def full(self) -> bool:
        """No room for even one more file (checked before reading a body)."""

    async def reserve(self, session: str, size: int) -> str:
        """Room for one file of `size` bytes: its upload id (then `fill` or `drop` it); UploadLimitReached."""

    async def fill(self, session: str, token: str, attachment: Attachment) -> bool:
        """False when the reservation expired meanwhile."""

    async def drop(self, session: str, token: str) -> None: ...

    async def take(self, session: str, upload_ids: Iterable[Any]) -> list[Attachment]:
        """The session's own files for these ids, each id once; anything else is ignored."""

    async def prune(self) -> None:
        """Forgets what expired."""

    async def sizes(self) -> dict:
        """What is kept (tests, diagnostics)."""


# ---------------------------------------------------------------------------------------------------
# in memory (one Rasa process)


class MemoryOptions:
    def __init__(
        self, ttl_s: float = OPTIONS_TTL_S, size: int = OPTIONS_MEMORY_SIZE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s, self.size, self.clock = ttl_s, size, clock
        self._options: dict[str, tuple[float, list[dict]]] = {}

    async def remember(self, key: str, options: list[dict] | None) -> None:
        if options:
            self._options[key] = (self.clock(), list(options))
        else:
            self._options.pop(key, None)
        if len(self._options) > self.size:  # forget the stale ones
            cutoff = self.clock() - self.ttl_s
            for k in [k for k, (t, _) in self._options.items() if t < cutoff]:
                del self._options[k]

    async def get(self, key: str) -> list[dict]:
        entry = self._options.get(key)
        if not entry:
            return []
        stamp, options = entry
        if self.clock() - stamp > self.ttl_s:
            self._options.pop(key, None)
            return []
        return options


class MemorySeenIds:
    def __init__(
        self, ttl_s: float = SEEN_TTL_S, size: int = SEEN_MEMORY_SIZE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s, self.size, self.clock = ttl_s, size, clock
        self._seen: dict[str, float] = {}  # id -> when, oldest first

    async def first_time(self, value: Any) -> bool:
        if value in (None, ""):
            return True
        key, now = str(value), self.clock()
        stamp = self._seen.get(key)
        if stamp is not None and now - stamp <= self.ttl_s:
            return False
        self._seen.pop(key, None)
        self._seen[key] = now
        while len(self._seen) > self.size:
            del self._seen[next(iter(self._seen))]
        return True

    async def forget(self, value: Any) -> None:
        if value not in (None, ""):
            self._seen.pop(str(value), None)


@dataclass
class _Pending:
    stamp: float
    size: int
    attachment: Attachment | None = None  # None while the backend is receiving the file


class MemoryUploads:
    """By conversation (sender_id): the recent upload attempts (LRU-capped) and the files waiting, by
    an opaque upload id. One Rasa process per conversation."""

    def __init__(self, limits: UploadLimits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or UploadLimits()
        self.clock = clock
        self.in_flight = 0
        self._recent: OrderedDict[str, list[float]] = OrderedDict()  # session -> attempt times
        self._files: dict[str, dict[str, _Pending]] = {}  # session -> upload id -> file waiting
        self._count = 0
        self._bytes = 0

    async def sizes(self) -> dict:
        return {
            "rate_sessions": len(self._recent),
            "file_sessions": len(self._files),
            "pending_files": self._count,
            "pending_bytes": self._bytes,
            "in_flight": self.in_flight,
        }

    async def allow(self, session: str) -> bool:
        now = self.clock()
        recent = [t for t in self._recent.pop(session, []) if now - t < self.limits.window_s]
        self._recent[session] = recent  # most recently used last
        while len(self._recent) > self.limits.rate_sessions:
            self._recent.popitem(last=False)
        if len(recent) >= self.limits.per_window:
            return False
        recent.append(now)
        return True

    async def full(self) -> bool:
        await self.prune()
        return self._count >= self.limits.total_files or self._bytes >= self.limits.total_bytes

    async def reserve(self, session: str, size: int) -> str:
        await self.prune()
        files = self._files.get(session, {})
        if (
            len(files) >= self.limits.session_files
            or sum(p.size for p in files.values()) + size > self.limits.session_bytes
        ):
            raise UploadLimitReached("session")
        if self._count + 1 > self.limits.total_files or self._bytes + size > self.limits.total_bytes:
            raise UploadLimitReached("total")
        token = secrets.token_urlsafe(18)
        self._files.setdefault(session, {})[token] = _Pending(self.clock(), size)
        self._count += 1
        self._bytes += size
        return token

    async def fill(self, session: str, token: str, attachment: Attachment) -> bool:
        entry = self._files.get(session, {}).get(token)
        if entry is None:
            return False
        entry.attachment = attachment
        return True

    async def drop(self, session: str, token: str) -> None:
        self._pop(session, token)

    def _pop(self, session: str, token: Any) -> _Pending | None:
        files = self._files.get(session)
        entry = files.pop(token, None) if files is not None and isinstance(token, str) else None
        if entry is not None:
            self._count -= 1
            self._bytes -= entry.size
            if not files:
                del self._files[session]
        return entry

    async def take(self, session: str, upload_ids: Iterable[Any]) -> list[Attachment]:
        now, taken = self.clock(), []
        for upload_id in list(upload_ids)[:MAX_UPLOAD_IDS]:
            entry = self._pop(session, upload_id)
            if entry is not None and entry.attachment and now - entry.stamp <= self.limits.ttl_s:
                taken.append(entry.attachment)
        return taken

    async def prune(self) -> None:
        now = self.clock()
        for session in list(self._files):
            for token in [t for t, p in self._files[session].items() if now - p.stamp > self.limits.ttl_s]:
                self._pop(session, token)
        for session in [
            s for s, stamps in self._recent.items() if not stamps or now - stamps[-1] >= self.limits.window_s
        ]:
            del self._recent[session]


# ---------------------------------------------------------------------------------------------------
# in Redis (every Rasa instance)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisOptions:
    def __init__(self, redis: aioredis.Redis, prefix: str, ttl_s: float = OPTIONS_TTL_S) -> None:
        self.redis, self.prefix, self.ttl_s = redis, prefix, ttl_s

    async def remember(self, key: str, options: list[dict] | None) -> None:
        if options:
            await self.redis.set(self.prefix + key, json.dumps(list(options)), px=_ms(self.ttl_s))
        else:
            await self.redis.delete(self.prefix + key)

    async def get(self, key: str) -> list[dict]:
        raw = await self.redis.get(self.prefix + key)
        return json.loads(raw) if raw else []


class RedisSeenIds:
    def __init__(self, redis: aioredis.Redis, prefix: str, ttl_s: float = SEEN_TTL_S) -> None:
        self.redis, self.prefix, self.ttl_s = redis, prefix, ttl_s

    async def first_time(self, value: Any) -> bool:
        if value in (None, ""):
            return True
        return bool(await self.redis.set(self.prefix + str(value), "1", nx=True, px=_ms(self.ttl_s)))

    async def forget(self, value: Any) -> None:
        if value not in (None, ""):
            await self.redis.delete(self.prefix + str(value))


# the live entries of the hash KEYS[1] (each with its field), the expired ones deleted on the way
_LIVE = """
local function live(key, now, ttl)
  local raw = redis.call('HGETALL', key)
  local entries = {}
  for i = 1, #raw, 2 do
    local entry = cjson.decode(raw[i + 1])
    if now - entry.stamp > ttl then
      redis.call('HDEL', key, raw[i])
    else
      entry.field = raw[i]
      entries[#entries + 1] = entry
    end
  end
  return entries
end
"""

# ARGV: now, ttl, "<session> ", field, size, session files, session bytes, total files, total bytes, key ttl ms
_RESERVE = (
    _LIVE
    + """
local now, ttl, mine, size = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[5])
local session_files, session_bytes, files, bytes = 0, 0, 0, 0
for _, entry in ipairs(live(KEYS[1], now, ttl)) do
  files = files + 1
  bytes = bytes + entry.size
  if string.sub(entry.field, 1, #mine) == mine then
    session_files = session_files + 1
    session_bytes = session_bytes + entry.size
  end
end
if session_files >= tonumber(ARGV[6]) or session_bytes + size > tonumber(ARGV[7]) then return 'session' end
if files + 1 > tonumber(ARGV[8]) or bytes + size > tonumber(ARGV[9]) then return 'total' end
redis.call('HSET', KEYS[1], ARGV[4], cjson.encode({stamp = now, size = size}))
redis.call('PEXPIRE', KEYS[1], ARGV[10])
return 'ok'
"""
)

# ARGV: now, ttl -> {files, bytes, sessions} of what is still live
_STATS = (
    _LIVE
    + """
local files, bytes, sessions, seen = 0, 0, 0, {}
for _, entry in ipairs(live(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))) do
  files = files + 1
  bytes = bytes + entry.size
  local session = string.match(entry.field, '^[^ ]*')
  if not seen[session] then
    seen[session] = true
    sessions = sessions + 1
  end
end
return {files, bytes, sessions}
"""
)

# ARGV: field, attachment (JSON)
_FILL = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local entry = cjson.decode(raw)
entry.attachment = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
return 1
"""

# ARGV: now, ttl, fields... -> the attachments (JSON) of the live, filled ones; every field is deleted
_TAKE = """
local now, ttl, taken = tonumber(ARGV[1]), tonumber(ARGV[2]), {}
for i = 3, #ARGV do
  local raw = redis.call('HGET', KEYS[1], ARGV[i])
  if raw then
    redis.call('HDEL', KEYS[1], ARGV[i])
    local entry = cjson.decode(raw)
    if entry.attachment and now - entry.stamp <= ttl then taken[#taken + 1] = entry.attachment end
  end
end
return taken
"""

# KEYS[1]: the session's attempts; ARGV: cutoff (attempts at or before it are out of the window), now,
# per window, a unique member, window ms
_ALLOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisUploads:
    """The same registry for every instance: the widget may upload through one and send the message
    through another. The clock is wall time (time.time), the same on every machine."""

    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str,
        limits: UploadLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis, self.limits, self.clock = redis, limits or UploadLimits(), clock
        self.in_flight = 0
        self.key = f"{prefix}widget:uploads"
        self.rate_prefix = f"{prefix}widget:rate:"
        self._reserve = redis.register_script(_RESERVE)
        self._stats = redis.register_script(_STATS)
        self._fill = redis.register_script(_FILL)
        self._take = redis.register_script(_TAKE)
        self._allow = redis.register_script(_ALLOW)

    @staticmethod
    def _field(session: str, token: str) -> str:
        return f"{session} {token}"  # a session (sender_id) has no space: the prefix is always its own

    async def allow(self, session: str) -> bool:
        now = self.clock()
        args = [repr(now - self.limits.window_s), repr(now), self.limits.per_window]
        args += [f"{now!r}:{secrets.token_hex(4)}", _ms(self.limits.window_s)]
        return bool(await self._allow(keys=[self.rate_prefix + session], args=args))

    async def _live(self) -> tuple[int, int, int]:
        files, size, sessions = await self._stats(keys=[self.key], args=[repr(self.clock()), self.limits.ttl_s])
        return int(files), int(size), int(sessions)

    async def full(self) -> bool:
        files, size, _ = await self._live()
        return files >= self.limits.total_files or size >= self.limits.total_bytes

    async def reserve(self, session: str, size: int) -> str:
        token = secrets.token_urlsafe(18)
        limits = self.limits
        args = [repr(self.clock()), limits.ttl_s, f"{session} ", self._field(session, token), size]
        args += [limits.session_files, limits.session_bytes, limits.total_files, limits.total_bytes]
        args += [_ms(limits.ttl_s)]
        answer = await self._reserve(keys=[self.key], args=args)
        if answer != "ok":
            raise UploadLimitReached(answer)
        return token

    async def fill(self, session: str, token: str, attachment: Attachment) -> bool:
        args = [self._field(session, token), json.dumps(attachment.as_metadata())]
        return bool(await self._fill(keys=[self.key], args=args))

    async def drop(self, session: str, token: str) -> None:
        await self.redis.hdel(self.key, self._field(session, token))

    async def take(self, session: str, upload_ids: Iterable[Any]) -> list[Attachment]:
        fields = [self._field(session, i) for i in list(upload_ids)[:MAX_UPLOAD_IDS] if isinstance(i, str)]
        if not fields:
            return []
        taken = await self._take(keys=[self.key], args=[repr(self.clock()), self.limits.ttl_s, *fields])
        return [Attachment(**json.loads(raw)) for raw in taken]

    async def prune(self) -> None:
        await self._live()

    async def sizes(self) -> dict:
        files, size, sessions = await self._live()
        pattern = "".join(f"[{c}]" if c in "*?[]\\" else c for c in self.rate_prefix) + "*"
        rate_sessions = sum([1 async for _ in self.redis.scan_iter(match=pattern)])
        return {
            "rate_sessions": rate_sessions,
            "file_sessions": sessions,
            "pending_files": files,
            "pending_bytes": size,
            "in_flight": self.in_flight,
        }


# ---------------------------------------------------------------------------------------------------
# the factory


class ChannelState:
    """In this process's memory: one Rasa instance (`make run`)."""

    redis_url: str | None = None
    prefix = DEFAULT_PREFIX

    def option_memory(self, channel: str) -> OptionStore:
        return MemoryOptions()

    def seen_ids(self, channel: str) -> SeenStore:
        return MemorySeenIds()

    def web_uploads(self, limits: UploadLimits) -> UploadRegistry:
        return MemoryUploads(limits)

    def socketio_manager(self) -> Any:
        """The socket.io server's client manager; None: python-socketio's default (this process only)."""
        return None

    async def close(self) -> None:
        return None


class RedisChannelState(ChannelState):
    """In Redis: any number of Rasa instances. One client (its connection pool opens on first use)."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis_url, self.prefix = url, prefix
        self.redis = aioredis.Redis.from_url(url, decode_responses=True)

    def option_memory(self, channel: str) -> OptionStore:
        return RedisOptions(self.redis, f"{self.prefix}options:{channel}:")

    def seen_ids(self, channel: str) -> SeenStore:
        return RedisSeenIds(self.redis, f"{self.prefix}seen:{channel}:")

    def web_uploads(self, limits: UploadLimits) -> UploadRegistry:
        return RedisUploads(self.redis, self.prefix, limits)

    def socketio_manager(self) -> Any:
        return socketio.AsyncRedisManager(self.redis_url, channel=f"{self.prefix}socketio")

    async def close(self) -> None:
        await self.redis.close()


def channel_state(environ: Mapping[str, str] | None = None) -> ChannelState:
    """From the environment: CHANNEL_REDIS_URL (redis://host:6379/0) puts the channels' state in Redis,
    under CHANNEL_STATE_PREFIX (default "assistente:"); without it, the state stays in memory."""
    environ = os.environ if environ is None else environ
    url = (environ.get(REDIS_URL_ENV) or "").strip()
    if not url:
        return ChannelState()
    return RedisChannelState(url, (environ.get(PREFIX_ENV) or "").strip() or DEFAULT_PREFIX)
