import asyncio
import re

import pytest

from backend.clock import local_today
from backend.protocols import new_protocol

pytestmark = pytest.mark.asyncio


async def _create(sessions, **kwargs):
    async with sessions() as session:
        protocol = await new_protocol(session, "test", ans_registration="419010", channel="rest", **kwargs)
        await session.commit()
        return protocol.number


async def test_format(sessions):
    number = await _create(sessions)
    assert re.fullmatch(r"\d{20}", number)
    assert number[:6] == "419010" and number[6:14] == local_today().strftime("%Y%m%d")


async def test_unique_and_sequential_under_concurrency(sessions):
    numbers = await asyncio.gather(*(_create(sessions) for _ in range(20)))
    assert len(set(numbers)) == 20
    sequences = sorted(int(n[14:]) for n in numbers)
    assert sequences == list(range(sequences[0], sequences[0] + 20))


async def test_lookup(client, sessions):
    number = await _create(sessions, status="open")
    response = await client.get(f"/api/protocols/{number}")
    assert response.status == 200
    body = await response.json()
    assert body["protocol"] == number and body["kind"] == "test" and body["status"] == "open"
    assert body["status_label"] == "aberto" and re.fullmatch(r"\d{2}/\d{2}/\d{4}", body["created_on_text"])
    assert body["created_at"].endswith("+00:00")


@pytest.mark.parametrize("number", ["41901020240101999999", "123", "abc"])
async def test_lookup_unknown(client, number):
    response = await client.get(f"/api/protocols/{number}")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "protocol_not_found"
