"""Health, operator profile, JSON errors."""

import dataclasses

import pytest
from backend_api import service_client

from backend.app import create_app

pytestmark = pytest.mark.asyncio


async def test_health_ok(client):
    response = await client.get("/api/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_health_503_when_database_is_unreachable(settings, tmp_path):
    broken = dataclasses.replace(settings, database_url="sqlite:////proc/no-such-dir/backend.db")
    async with service_client(create_app(broken)) as client:
        response = await client.get("/api/health")
        assert response.status == 503
        assert (await response.json())["status"] == "unavailable"


async def test_operator_profile(client):
    body = await (await client.get("/api/operator")).json()
    assert body["ans_registration"] == "419010"
    assert body["phones"] == {"central_24h": "0800 888 9504", "cadastro": "(79) 3218-4331"}
    assert "segunda a sexta" in body["opening_hours"]
    assert body["password_policy"]["name"] == "casse"
    assert "8 caracteres" in body["password_policy"]["description"]


async def test_unknown_route_is_json_404(client):
    response = await client.get("/api/nao-existe")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_wrong_method_is_json_405(client):
    response = await client.delete("/api/health")
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_malformed_json_is_400(client):
    response = await client.post("/api/auth/login", data="{not json")
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_request"


async def test_unexpected_error_is_json_500_without_trace(settings, monkeypatch):
    async def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("backend.protocols.find_protocol", boom)
    async with service_client(create_app(settings)) as client:
        response = await client.get("/api/protocols/" + "1" * 20)
        body = await response.text()
    assert response.status == 500
    assert "internal_error" in body and "secret internals" not in body and "Traceback" not in body


async def test_privacy_notice_is_linked_from_the_operator_profile(client):
    profile = await (await client.get("/api/operator")).json()
    assert profile["privacy_url"].endswith("/privacidade")
    response = await client.get("/privacidade")
    page = await response.text()
    assert response.status == 200 and "LGPD" in page and "nunca pede a sua senha" in page
