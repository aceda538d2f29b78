"""The raw (unmasked) trackers of active conversations, between two turns (bot/tracker_store.py).

Two places, one interface (put / get / drop):

- `LiveTrackers`, in this process's memory (the default: `make run`, one Rasa);
- `RedisLiveTrackers`, in Redis, when TRACKER_CACHE_URL is set (several Rasa instances: a
  conversation's next message may reach another instance, which must see the same raw values, or
  the identity form would ask again). Each entry is encrypted and authenticated with Fernet (AES-128
  -CBC + HMAC-SHA256, the `cryptography` package) under a key derived from TRACKER_CACHE_KEY (a
  secret from the environment, generated at first run like the others), so Redis — its memory, its
  dumps, its replicas — never holds a CPF in clear. Redis expires an entry `ttl_s` after its last
  save; keys are `<TRACKER_CACHE_PREFIX>live:<conversation id hash>` (no phone number in a key).

Either way an entry is (serialised events, id of the last stored event): the store uses the id to
see that another instance wrote since.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Protocol

from cryptography.fernet import Fernet, InvalidToken

CACHE_URL_ENV = "TRACKER_CACHE_URL"
CACHE_KEY_ENV = "TRACKER_CACHE_KEY"
CACHE_PREFIX_ENV = "TRACKER_CACHE_PREFIX"
DEFAULT_PREFIX = "assistente:"


class LiveStore(Protocol):
    def put(self, sender_id: str, serialised: str, last_event_id: int | None) -> None: ...

    def get(self, sender_id: str) -> tuple[str, int | None] | None: ...

    def drop(self, sender_id: str) -> None: ...


class LiveTrackers:
    """In memory: serialised text per conversation, expiring `ttl_s` after the last save, at most
    `max_size` (least recently saved dropped)."""

    def __init__(self, ttl_s: float, max_size: int, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_s <= 0 or max_size <= 0:
            raise ValueError("live_minutes and live_size must be positive")
        self.ttl_s, self.max_size, self.clock = ttl_s, max_size, clock
        self._entries: OrderedDict[str, tuple[float, str, int | None]] = OrderedDict()

    def put(self, sender_id: str, serialised: str, last_event_id: int | None) -> None:
        self._entries.pop(sender_id, None)
        self._entries[sender_id] = (self.clock() + self.ttl_s, serialised, last_event_id)
        self._expire()
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def get(self, sender_id: str) -> tuple[str, int | None] | None:
        entry = self._entries.get(sender_id)
        if entry is None:
            return None
        expires_at, serialised, last_event_id = entry
        if expires_at <= self.clock():
            del self._entries[sender_id]
            return None
        return serialised, last_event_id

    def drop(self, sender_id: str) -> None:
        self._entries.pop(sender_id, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self) -> None:
        now = self.clock()
        while self._entries:
            sender_id, (expires_at, _, _) = next(iter(self._entries.items()))
            if expires_at > now:
                break
            del self._entries[sender_id]


class RedisLiveTrackers:
    """In Redis, encrypted; shared by every Rasa instance."""

    def __init__(self, client, secret: str, ttl_s: float, prefix: str = DEFAULT_PREFIX) -> None:
        if ttl_s <= 0:
            raise ValueError("live_minutes must be positive")
        if not secret:
            raise ValueError(f"{CACHE_KEY_ENV} is empty")
        digest = hashlib.sha256(b"tracker-cache:" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self._key_salt = hashlib.sha256(b"tracker-cache-key:" + secret.encode()).digest()
        self.client, self.ttl_s, self.prefix = client, ttl_s, prefix

    def _key(self, sender_id: str) -> str:
        name = hmac.new(self._key_salt, sender_id.encode(), hashlib.sha256).hexdigest()
        return f"{self.prefix}live:{name}"

    def put(self, sender_id: str, serialised: str, last_event_id: int | None) -> None:
        payload = json.dumps({"sender_id": sender_id, "events": serialised, "last_event_id": last_event_id})
        self.client.set(self._key(sender_id), self._fernet.encrypt(payload.encode()), px=int(self.ttl_s * 1000))

    def get(self, sender_id: str) -> tuple[str, int | None] | None:
        token = self.client.get(self._key(sender_id))
        if token is None:
            return None
        try:
            entry = json.loads(self._fernet.decrypt(token))
        except (InvalidToken, ValueError):
            return None  # another key, or tampered with: the database is the truth
        if entry.get("sender_id") != sender_id:
            return None
        return entry["events"], entry.get("last_event_id")

    def drop(self, sender_id: str) -> None:
        self.client.delete(self._key(sender_id))


def live_store(ttl_s: float, max_size: int, env: Mapping[str, str] | None = None) -> LiveStore:
    """RedisLiveTrackers when TRACKER_CACHE_URL is set, else LiveTrackers."""
    env = os.environ if env is None else env
    url = env.get(CACHE_URL_ENV)
    if not url:
        return LiveTrackers(ttl_s, max_size)
    import redis  # type: ignore[import-untyped]

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return RedisLiveTrackers(client, env.get(CACHE_KEY_ENV, ""), ttl_s, env.get(CACHE_PREFIX_ENV) or DEFAULT_PREFIX)
