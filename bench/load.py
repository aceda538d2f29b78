"""Drives scripted conversations through Rasa's REST channel and summarises the latencies.

A level runs N workers that each run conversations back to back until the level's budget of
conversations is used. Every turn's latency is the time from sending the POST to having read
the whole response. A conversation whose HTTP call fails, or whose answer lacks the expected
text, counts as an error and stops there; the turns it completed are still timed.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

REQUEST_TIMEOUT_S = 120


@dataclass(frozen=True)
class Turn:
    text: str
    expect: str  # case-insensitive substring the bot's answer must contain


@dataclass(frozen=True)
class Script:
    name: str
    turns: tuple[Turn, ...]


@dataclass
class LevelResult:
    concurrency: int
    conversations: int
    wall_s: float = 0.0
    latencies: dict[int, list[float]] = field(default_factory=dict)  # turn index (1-based) -> seconds
    errors: Counter = field(default_factory=Counter)  # reason -> conversations
    examples: dict[str, str] = field(default_factory=dict)  # reason -> one offending answer

    def turn_latencies(self, turns: range) -> list[float]:
        return [s for i in turns for s in self.latencies.get(i, [])]

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass(frozen=True)
class Stats:
    turns: int
    per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def stats(latencies: list[float], wall_s: float) -> Stats:
    values = sorted(latencies)
    return Stats(
        turns=len(values),
        per_s=len(values) / wall_s if wall_s else math.nan,
        p50_ms=percentile(values, 50) * 1000,
        p95_ms=percentile(values, 95) * 1000,
        p99_ms=percentile(values, 99) * 1000,
    )


def answer_text(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


async def _conversation(session: aiohttp.ClientSession, url: str, script: Script, result: LevelResult) -> None:
    sender = f"bench-{script.name}-{uuid.uuid4().hex}"
    for index, turn in enumerate(script.turns, start=1):
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": turn.text}) as resp:
                body = await resp.read()
                elapsed = time.perf_counter() - started
                if resp.status != 200:
                    _error(result, f"turn {index}: HTTP {resp.status}", body.decode(errors="replace"))
                    return
                messages = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            _error(result, f"turn {index}: {type(exc).__name__}", str(exc))
            return
        result.latencies.setdefault(index, []).append(elapsed)
        answer = answer_text(messages)
        if turn.expect.lower() not in answer.lower():
            _error(result, f"turn {index}: answer lacks {turn.expect!r}", answer)
            return


def _error(result: LevelResult, reason: str, example: str) -> None:
    result.errors[reason] += 1
    result.examples.setdefault(reason, example[:300])


async def run_level(
    session: aiohttp.ClientSession, rasa_url: str, script: Script, concurrency: int, conversations: int
) -> LevelResult:
    url = f"{rasa_url}/webhooks/rest/webhook"
    result = LevelResult(concurrency=concurrency, conversations=conversations)
    budget = itertools.count()

    async def worker() -> None:
        while next(budget) < conversations:
            await _conversation(session, url, script, result)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, conversations))))
    result.wall_s = time.perf_counter() - started
    return result


def client_session(max_concurrency: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_concurrency),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    )
