"""Which consumer of the durable inbound queue (channels.inbound_queue) should process which shard, so that
several Rasa instances share a channel's shards instead of the first one to subscribe taking them all.

- Membership: each consuming instance (one node per channel and process, a random id per consumer start)
  beats every few seconds into one Redis sorted set, score = the instant its entry expires (Redis's own
  clock, TIME, inside one Lua script: the machines' clocks never matter). The live nodes are the entries
  not yet expired; a node that stops leaves at once (ZREM), one that dies drops out after `ttl_s`.
- Ownership: rendezvous hashing (highest random weight). Each shard's owner is the live node with the
  highest SHA-256 of "<shard>\\n<node>": every node that sees the same members computes the same owners,
  no coordination needed, and when a node joins or leaves only the shards it takes or had move (about
  1/N of them).

The queue's consumer hands a shard it does not own back to RabbitMQ (channels.inbound_queue, "Sharing the
shards"); this module only says who owns what.

Redis key: <CHANNEL_STATE_PREFIX>inbound-nodes:<INBOUND_QUEUE_PREFIX>.<channel>, a sorted set of node ids
(PEXPIRE ttl: gone once every node is).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import redis.asyncio as aioredis  # type: ignore[import-untyped]

HEARTBEAT_S = 2.0  # how often a node says it is alive and reads who else is
# A node not heard of for this long is gone. Long, because Rasa runs NLU and the policies on its event loop:
# under load a beat can be late by several seconds (bench-cluster with 6 s: the nodes saw each other come
# and go every few seconds, and shards moved back and forth). A dead node's shards do not wait for it:
# RabbitMQ activates a standby at once; until the node drops out here, that standby only hands those shards
# back once per cool-down, to nobody, and keeps them.
NODE_TTL_S = 30.0


def weight(shard: int, node: str) -> int:
    """The node's weight for the shard: the same in every process and version of Python."""
    return int.from_bytes(hashlib.sha256(f"{shard}\n{node}".encode()).digest()[:8], "big")


def owners(shards: int, nodes: Iterable[str]) -> list[str]:
    """The owner of each shard (index = shard) among `nodes`; ties (never seen in practice) go to the
    greater id, so that the answer does not depend on the order of `nodes`. Empty `nodes`: ValueError."""
    members = sorted(set(nodes))
    if not members:
        raise ValueError("no nodes to own the shards")
    return [max(members, key=lambda node: (weight(shard, node), node)) for shard in range(shards)]


def owned_by(node: str, shards: int, nodes: Iterable[str]) -> frozenset[int]:
    """The shards `node` owns when `nodes` are alive (it counts itself among them)."""
    return frozenset(shard for shard, owner in enumerate(owners(shards, {node, *nodes})) if owner == node)


# KEYS[1]: the sorted set; ARGV: the node, its ttl in ms. Drops the expired entries, (re)registers the
# node until now + ttl and returns the live nodes.
_BEAT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


class Membership:
    """The live consumers of one channel's shards, in Redis (any number of Rasa instances)."""

    def __init__(self, redis: aioredis.Redis, key: str, ttl_s: float = NODE_TTL_S) -> None:
        self.redis, self.key, self.ttl_s = redis, key, ttl_s
        self._beat = redis.register_script(_BEAT)

    async def beat(self, node: str) -> list[str]:
        """Says `node` is alive for another `ttl_s` and returns the live nodes (`node` among them)."""
        live = await self._beat(keys=[self.key], args=[node, max(1, int(self.ttl_s * 1000))])
        return [item.decode() if isinstance(item, bytes) else str(item) for item in live]

    async def leave(self, node: str) -> None:
        """`node` stops consuming: the others own its shards from their next beat on."""
        await self.redis.zrem(self.key, node)
