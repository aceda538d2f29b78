"""POST /api/auth/login and /api/agent/login."""

import asyncio

import pytest
from sqlalchemy import select

from backend.auth import hash_token
from backend.models import ApiSession

pytestmark = pytest.mark.asyncio


async def _login(client, login, password):
    response = await client.post("/api/auth/login", json={"login": login, "password": password})
    return response.status, await response.json()


@pytest.mark.parametrize("login", ["100200300401", "945.807.302-24", "maria.santos@exemplo.com.br"])
async def test_login_by_card_cpf_or_email(client, session, login):
    status, body = await _login(client, login, "Saude@2024")
    assert status == 200
    assert body["must_change_password"] is False
    stored = (await session.execute(select(ApiSession))).scalar_one()
    assert stored.token_hash == hash_token(body["token"]) and body["token"] not in stored.token_hash


@pytest.mark.parametrize(
    "login, password",
    [
        ("100200300401", "Errada@2024"),
        ("999999999999", "Saude@2024"),  # unknown card
        ("200300400501", "Saude@2024"),  # José has no account
        ("ninguem@exemplo.com.br", "x"),
    ],
)
async def test_wrong_credentials_always_look_the_same(client, login, password):
    status, body = await _login(client, login, password)
    assert status == 401
    assert body == {
        "error": {"code": "invalid_credentials", "message": "Login ou senha incorretos. Confira e tente de novo."}
    }


async def test_lockout_after_five_wrong_passwords(client):
    statuses = [(await _login(client, "100200300401", "Errada@2024"))[0] for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    status, body = await _login(client, "100200300401", "Saude@2024")
    assert status == 423
    assert body["error"]["code"] == "account_locked" and body["error"]["retry_after_minutes"] == 30


async def test_concurrent_wrong_passwords_all_count(client):
    """bcrypt runs outside any transaction, so the failure count must be updated atomically."""
    wrong = {"login": "100200300401", "password": "Errada@123"}
    responses = await asyncio.gather(*(client.post("/api/auth/login", json=wrong) for _ in range(5)))
    assert sorted(r.status for r in responses) == [401, 401, 401, 401, 423]
    right = await client.post("/api/auth/login", json={"login": "100200300401", "password": "Saude@2024"})
    assert right.status == 423


async def test_success_resets_the_failure_count(client):
    for _ in range(4):
        await _login(client, "100200300401", "Errada@2024")
    assert (await _login(client, "100200300401", "Saude@2024"))[0] == 200
    assert (await _login(client, "100200300401", "Errada@2024"))[0] == 401


async def test_missing_fields(client):
    response = await client.post("/api/auth/login", json={"login": "100200300401"})
    assert response.status == 400
    assert (await response.json())["error"]["fields"] == {"password": "Informe a senha."}


async def test_agent_login(client):
    response = await client.post("/api/agent/login", json={"username": "atendente", "password": "Atende@2024"})
    assert response.status == 200 and len((await response.json())["token"]) >= 32
    response = await client.post("/api/agent/login", json={"username": "atendente", "password": "errada"})
    assert response.status == 401 and (await response.json())["error"]["code"] == "invalid_credentials"
