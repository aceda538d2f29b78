"""POST /api/company/auth/login: the company portal's login, with the app login's security (the
same answer whatever was wrong, lockout after 5 wrong passwords, bcrypt off the event loop), and
the login token on the company calls."""

from __future__ import annotations

import asyncio

import pytest
from company_support import FERNANDA, login_headers
from sqlalchemy import select

from backend.company.auth import hash_token
from backend.models import CompanySession, CompanyUser

pytestmark = pytest.mark.asyncio
WRONG_MESSAGE = "Código de usuário ou senha incorretos. Confira e tente de novo."
WRONG = {"error": {"code": "invalid_credentials", "message": WRONG_MESSAGE}}


async def _login(client, user_code, password):
    response = await client.post("/api/company/auth/login", json={"user_code": user_code, "password": password})
    return response.status, await response.json()


async def test_login_by_user_code_gives_a_token_stored_as_its_hash(client, session):
    status, body = await _login(client, "rh500101", "Empresa@2024")  # the code in any case
    assert status == 200
    assert body["user"] == {
        "user_code": "RH500101",
        "name": "Fernanda Rocha",
        "first_name": "Fernanda",
        "role": "admin",
        "is_admin": True,
    }
    assert body["company"] == {"code": "500100", "name": "Construtora Horizonte Ltda", "cnpj": "33.445.566/0001-86"}
    stored = (await session.execute(select(CompanySession))).scalar_one()
    assert stored.token_hash == hash_token(body["token"]) and body["expires_in_minutes"] == 720


@pytest.mark.parametrize(
    "user_code, password",
    [
        ("RH500101", "Errada@2024"),  # wrong password
        ("RH999999", "Empresa@2024"),  # unknown user
        ("RH500102", "Empresa@2024"),  # Diego: no portal access yet
    ],
)
async def test_wrong_credentials_always_look_the_same(client, user_code, password):
    assert await _login(client, user_code, password) == (401, WRONG)


async def test_lockout_after_five_wrong_passwords(client):
    statuses = [(await _login(client, "RH500101", "Errada@2024"))[0] for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    status, body = await _login(client, "RH500101", "Empresa@2024")
    assert status == 423
    assert body["error"]["code"] == "account_locked" and body["error"]["retry_after_minutes"] == 30
    assert "bloqueado" in body["error"]["message"]


async def test_concurrent_wrong_passwords_lock_exactly_at_the_limit(client, session):
    wrong = {"user_code": "RH500101", "password": "Errada@123"}
    responses = await asyncio.gather(*(client.post("/api/company/auth/login", json=wrong) for _ in range(5)))
    assert sorted(r.status for r in responses) == [401, 401, 401, 401, 423]
    assert (await _login(client, "RH500101", "Empresa@2024"))[0] == 423
    user = (await session.execute(select(CompanyUser).where(CompanyUser.user_code == "RH500101"))).unique().scalar_one()
    assert user.locked_until is not None


async def test_a_right_password_resets_the_failures(client):
    for _ in range(4):
        assert (await _login(client, "RH500101", "Errada@2024"))[0] == 401
    assert (await _login(client, "RH500101", "Empresa@2024"))[0] == 200
    assert (await _login(client, "RH500101", "Errada@2024"))[0] == 401  # counting starts again


async def test_missing_fields(client):
    status, body = await _login(client, "", "")
    assert status == 400 and set(body["error"]["fields"]) == {"user_code", "password"}


async def test_login_is_limited_per_user_code(client):
    statuses = [(await _login(client, "RH777777", "x"))[0] for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429


async def test_the_login_token_opens_the_company_calls_and_a_wrong_one_does_not(client):
    headers = await login_headers(client)
    assert (await client.get("/api/company", headers=headers)).status == 200
    response = await client.get("/api/company", headers={"X-Company-Session": "forjado"})
    assert response.status == 401 and (await response.json())["error"]["code"] == "company_unauthorized"
    assert (await client.get("/api/company")).status == 401


async def test_the_company_calls_need_the_service_token_too(client):
    headers = await login_headers(client)
    anonymous = {**headers, "Authorization": ""}
    response = await client.get("/api/company", headers=anonymous)
    assert response.status == 401 and (await response.json())["error"]["code"] == "service_unauthorized"


async def test_the_password_is_checked_off_the_event_loop(client):
    """bcrypt at cost 12 runs in an executor: a request made meanwhile is answered before the login."""
    done = {}

    async def timed(name, call):
        result = await call
        done[name] = asyncio.get_running_loop().time()
        return result

    async def health():
        await asyncio.sleep(0.01)
        return (await client.get("/api/health")).status

    login, ping = await asyncio.gather(timed("login", _login(client, **FERNANDA)), timed("health", health()))
    assert login[0] == 200 and ping == 200
    assert done["health"] < done["login"]
