"""The verified session of a conversation: it lasts while it is used (15 minutes of inactivity by
default, VERIFIED_SESSION_MINUTES otherwise) and only for the conversation it was issued to."""

import dataclasses
from datetime import timedelta

import pytest
from backend_api import MARIA, service_client, verify
from sqlalchemy import select

from backend.app import create_app
from backend.clock import utcnow
from backend.models import IdentityVerification

pytestmark = pytest.mark.asyncio


async def _use(client, token: str, conversation_id: str = MARIA["conversation_id"]) -> int:
    response = await client.post(
        "/api/password-change-links",
        json={"verification": token, "channel": "rest", "conversation_id": conversation_id},
    )
    return response.status


async def _set_idle_left(session, minutes: float) -> None:
    row = (await session.execute(select(IdentityVerification))).scalars().one()
    row.expires_at = utcnow() + timedelta(minutes=minutes)
    await session.commit()


async def _minutes_left(session) -> float:
    session.expire_all()
    row = (await session.execute(select(IdentityVerification))).scalars().one()
    return (row.expires_at - utcnow()).total_seconds() / 60


async def test_each_use_gives_the_session_fifteen_more_minutes(client, session):
    token = await verify(client, MARIA)
    await _set_idle_left(session, 1)  # 14 minutes without using it
    assert await _use(client, token) == 201
    assert 14.5 < await _minutes_left(session) <= 15


async def test_an_idle_session_expires(client, session):
    token = await verify(client, MARIA)
    await _set_idle_left(session, -0.1)
    response = await client.post(
        "/api/password-change-links",
        json={"verification": token, "channel": "rest", "conversation_id": MARIA["conversation_id"]},
    )
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "verification_invalid"


async def test_another_conversation_cannot_use_the_token(client):
    token = await verify(client, MARIA)
    assert await _use(client, token, conversation_id="outra-conversa") == 401


async def test_idle_time_is_configurable(settings, session):
    app = create_app(dataclasses.replace(settings, verified_session_minutes=5))
    async with service_client(app) as client:
        response = await client.post("/api/identity/verifications", json=MARIA)
        body = await response.json()
        assert body["expires_in_minutes"] == 5
        assert 4.5 < await _minutes_left(session) <= 5
        await _set_idle_left(session, 1)
        assert await _use(client, body["token"]) == 201
        assert 4.5 < await _minutes_left(session) <= 5


async def test_family_a_holder_may_choose_from(client):
    token = await verify(client, MARIA)
    response = await client.get(
        "/api/family", headers={"X-Verification": token, "X-Conversation-Id": MARIA["conversation_id"]}
    )
    members = (await response.json())["members"]
    assert response.status == 200 and [m["first_name"] for m in members] == ["Maria", "João", "Ana"]
    # what "minha filha" / "meu filho" are matched against
    assert [m["relationship"] for m in members] == ["holder", "son", "daughter"]
    response = await client.get("/api/family", headers={"X-Verification": token, "X-Conversation-Id": "outra"})
    assert response.status == 401
