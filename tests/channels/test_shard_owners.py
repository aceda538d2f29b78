"""Who owns which shard of the durable inbound queue (channels/shard_owners.py): rendezvous hashing over the
live nodes (without services), and the nodes' membership in Redis (TEST_REDIS_URL, under a prefix of this
test alone; skipped with the reason otherwise)."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from amqp_support import NO_REDIS, REDIS_URL, WAIT_S

from channels.shard_owners import Membership, owned_by, owners

NODES = [f"no-{n}" for n in range(5)]


def test_every_shard_has_exactly_one_owner_whatever_the_order_of_the_nodes():
    by_owner = owners(64, NODES)
    assert len(by_owner) == 64 and set(by_owner) <= set(NODES)
    assert owners(64, reversed(NODES)) == by_owner == owners(64, NODES + NODES[:2])  # order, repeats
    owned = [owned_by(node, 64, NODES) for node in NODES]
    assert sum(len(shards) for shards in owned) == 64 and frozenset().union(*owned) == frozenset(range(64))
    assert owners(3, ["sozinho"]) == ["sozinho"] * 3
    with pytest.raises(ValueError, match="no nodes"):
        owners(3, [])


def test_the_owners_are_the_same_in_every_process():
    # pinned: two instances of different versions must agree on who owns what
    # (the greater first 8 bytes of SHA-256 of "<shard>\n<node>", e.g. `printf "0\na" | sha256sum`)
    assert owners(8, ["a", "b"]) == ["b", "a", "a", "b", "b", "b", "b", "a"]


def test_the_shards_are_shared_about_evenly():
    nodes = [f"{n:032x}" for n in range(4)]
    counts = Counter(owners(4000, nodes))
    assert set(counts) == set(nodes)
    assert all(800 <= count <= 1200 for count in counts.values()), counts


def test_a_node_leaving_or_joining_moves_only_its_own_shards():
    before = owners(256, NODES)
    after = owners(256, NODES[:-1])  # the last one left
    moved = [shard for shard in range(256) if before[shard] != after[shard]]
    assert moved == [shard for shard in range(256) if before[shard] == NODES[-1]]
    assert 256 / 5 * 0.6 <= len(moved) <= 256 / 5 * 1.4  # about 1/N of the shards
    joined = owners(256, [*NODES, "novo"])
    assert all(joined[shard] in (before[shard], "novo") for shard in range(256))  # only to the newcomer
    assert sum(1 for owner in joined if owner == "novo") > 0


@pytest.fixture
async def membership() -> AsyncIterator[Membership]:
    if not REDIS_URL:
        pytest.skip(NO_REDIS)
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = f"teste-{secrets.token_hex(8)}:"
    try:
        yield Membership(client, f"{prefix}inbound-nodes:fila.whatsapp", ttl_s=WAIT_S)
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.close()


async def test_the_live_nodes_are_those_that_beat_and_did_not_leave(membership):
    assert await membership.beat("a") == ["a"]
    assert sorted(await membership.beat("b")) == ["a", "b"]
    assert sorted(await membership.beat("a")) == ["a", "b"]  # a second beat is no second member
    await membership.leave("a")
    assert await membership.beat("b") == ["b"]
    ttl_ms = await membership.redis.pttl(membership.key)
    assert 0 < ttl_ms <= WAIT_S * 1000  # the set itself goes once every node stopped beating


async def test_a_node_that_stops_beating_drops_out(membership):
    dying = Membership(membership.redis, membership.key, ttl_s=0.2)
    await dying.beat("morto")  # a process killed right after its beat
    assert sorted(await membership.beat("vivo")) == ["morto", "vivo"]
    # an expiry in Redis has no signal to wait on: the live node's own beats, until it is alone
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while (live := await membership.beat("vivo")) != ["vivo"]:
        assert sorted(live) == ["morto", "vivo"]
        assert asyncio.get_running_loop().time() < deadline, "the silent node never expired"
        await asyncio.sleep(0.05)
