"""The backend API answers only the assistant's action server (backend.api.service_auth): every
route of the router that is not public by design refuses a call without the service credential
or with a wrong one; the agent API keeps its own agent tokens; the public routes still answer."""

import dataclasses
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from backend_api import SERVICE_HEADERS, SERVICE_TOKEN

from backend.api.service_auth import PUBLIC_ROUTES
from backend.app import create_app
from backend.settings import Settings, SettingsError

# What is public by design, written down once more here on purpose: changing the list in
# backend.api.service_auth must be a conscious decision that also changes this test.
EXPECTED_PUBLIC = {
    ("GET", "/api/health"),
    ("GET", "/api/operator"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/agent/login"),
    ("GET", "/"),
    ("GET", "/widget/{file}"),
    ("GET", "/static"),
    ("GET", "/atendente"),
    ("GET", "/privacidade"),
    ("GET", "/conta/ativar/{token}"),
    ("POST", "/conta/ativar/{token}"),
    ("GET", "/conta/alterar-senha/{token}"),
    ("POST", "/conta/alterar-senha/{token}"),
    ("GET", "/conta/confirmar-email/{token}"),
    ("POST", "/conta/confirmar-email/{token}"),
    ("GET", "/conta/cancelar-troca-de-email/{token}"),
    ("POST", "/conta/cancelar-troca-de-email/{token}"),
    ("GET", "/documentos/{token}"),
    ("GET", "/conta/senha-empresa/{token}"),  # the company user's password page (backend.company.access)
    ("POST", "/conta/senha-empresa/{token}"),
}
WRONG_CREDENTIALS = [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer errado"},
    {"Authorization": f"Bearer {SERVICE_TOKEN[:-1]}"},
    {"Authorization": f"Bearer {SERVICE_TOKEN}x"},
    {"Authorization": SERVICE_TOKEN},
    {"Authorization": f"Basic {SERVICE_TOKEN}"},
    {"X-Service-Token": SERVICE_TOKEN},
]
SAMPLE_VALUES = {
    "file": "widget.js",
    "number": "4" * 20,
    "document_number": "300401202601",
    "ticket_id": "1",
    "id": "1",
    "protocol": "4" * 20,
    "token": "x" * 20,
    "user_code": "RH500102",  # a company user (backend.api.company_admin)
}


def _routes(app) -> list[tuple[str, str]]:
    """(method, canonical path) of every route, HEAD left out (it goes wherever GET goes)."""
    return sorted({(route.method, route.resource.canonical) for route in app.router.routes() if route.method != "HEAD"})


def _path(canonical: str) -> str:
    if canonical == "/static":
        return "/static/console.js"
    return re.sub(r"\{(\w+)\}", lambda match: SAMPLE_VALUES[match.group(1)], canonical)


def _is_agent_route(canonical: str) -> bool:
    return canonical.startswith("/api/agent/") and canonical != "/api/agent/login"


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
async def anonymous(app):
    """A client that sends no credential at all (a stranger on the network)."""
    async with TestClient(TestServer(app)) as client:
        yield client


# a body the handler accepts, so that only the credential is missing
BODIES = {
    "/api/agent/tickets/{ticket_id}/messages": {"text": "Olá"},
    "/api/agent/tickets/{ticket_id}/close": {"resolution": "Resolvido"},
}


async def _call(client, method: str, canonical: str, headers: dict):
    kwargs = {"json": BODIES.get(canonical, {})} if method in ("POST", "PUT", "PATCH") else {}
    return await client.request(method, _path(canonical), headers=headers, allow_redirects=False, **kwargs)


async def _refused_as_service_only(response) -> bool:
    if response.status != 401:
        return False
    body = await response.json()
    return body["error"]["code"] == "service_unauthorized" and "serviços do assistente" in body["error"]["message"]


def test_the_public_routes_are_the_documented_ones(app):
    public = {(method, path) for method, path in _routes(app) if method in PUBLIC_ROUTES.get(path, ())}
    assert public == EXPECTED_PUBLIC


async def test_every_service_route_refuses_calls_without_or_with_a_wrong_credential(app, anonymous):
    service_routes = [(m, p) for m, p in _routes(app) if (m, p) not in EXPECTED_PUBLIC and not _is_agent_route(p)]
    assert len(service_routes) >= 20 and ("POST", "/api/handoffs") in service_routes
    accepted = []
    for method, canonical in service_routes:
        for headers in WRONG_CREDENTIALS:
            response = await _call(anonymous, method, canonical, headers)
            if not await _refused_as_service_only(response):
                accepted.append((method, canonical, headers, response.status))
        response = await _call(anonymous, "HEAD" if method == "GET" else method, canonical, {})
        if response.status != 401:
            accepted.append(("HEAD", canonical, {}, response.status))
    assert accepted == []


async def test_every_service_route_lets_the_service_through(app, anonymous):
    """With the credential, the handler answers (whatever it says about the body), never the refusal."""
    for method, canonical in _routes(app):
        if (method, canonical) in EXPECTED_PUBLIC or _is_agent_route(canonical):
            continue
        response = await _call(anonymous, method, canonical, SERVICE_HEADERS)
        assert not await _refused_as_service_only(response), (method, canonical)


async def test_a_handoff_cannot_be_opened_without_the_credential(anonymous, client):
    body = {"conversation_id": "conversa-vitima", "channel": "socketio"}
    response = await anonymous.post("/api/handoffs", json=body)
    assert response.status == 401 and "protocol" not in await response.text()
    response = await client.post("/api/handoffs", json=body)
    assert response.status == 201 and (await response.json())["protocol"]


async def test_an_unknown_api_path_is_refused_before_it_is_looked_up(anonymous, client):
    response = await anonymous.get("/api/nao-existe")
    assert await _refused_as_service_only(response)
    response = await client.get("/api/nao-existe")
    assert response.status == 404
    response = await anonymous.get("/nao-existe")
    assert response.status == 404


async def test_the_agent_api_still_requires_an_agent_token(app, anonymous):
    agent_routes = [(m, p) for m, p in _routes(app) if _is_agent_route(p)]
    assert len(agent_routes) >= 7
    for method, canonical in agent_routes:
        for headers in ({}, SERVICE_HEADERS):  # the service credential is not an agent token
            response = await _call(anonymous, method, canonical, headers)
            assert response.status == 401, (method, canonical, headers)
            assert (await response.json())["error"]["code"] == "unauthorized", (method, canonical)

    response = await anonymous.post("/api/agent/login", json={"username": "atendente", "password": "Atende@2024"})
    assert response.status == 200
    agent = {"Authorization": f"Bearer {(await response.json())['token']}"}
    response = await anonymous.get("/api/agent/tickets", headers=agent)
    assert response.status == 200
    # and an agent token is not the service credential
    response = await anonymous.get("/api/providers/specialties", headers=agent)
    assert await _refused_as_service_only(response)


async def test_the_public_routes_still_answer_anyone(app, anonymous):
    for method, canonical in sorted(EXPECTED_PUBLIC):
        response = await _call(anonymous, method, canonical, {})
        assert not await _refused_as_service_only(response), (method, canonical)
    assert (await anonymous.get("/api/health")).status == 200
    assert (await (await anonymous.get("/api/operator")).json())["phones"]
    response = await anonymous.post("/api/auth/login", json={"login": "100200300401", "password": "Saude@2024"})
    assert response.status == 200 and (await response.json())["token"]
    for page in ("/", "/widget/widget.js", "/static/console.js", "/atendente", "/privacidade"):
        assert (await anonymous.get(page)).status == 200, page
    for page in ("/conta/ativar/inexistente", "/documentos/inexistente"):
        response = await anonymous.get(page)
        assert response.status < 500 and response.status != 401, page


async def test_without_a_configured_token_nothing_gets_through(settings):
    app = create_app(dataclasses.replace(settings, backend_service_token=None))
    async with TestClient(TestServer(app)) as client:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}, SERVICE_HEADERS):
            response = await client.get("/api/providers/specialties", headers=headers)
            assert await _refused_as_service_only(response)
        assert (await client.get("/api/health")).status == 200


async def test_the_service_client_of_the_tests_is_accepted(client):
    response = await client.get("/api/providers", params={"specialty": "cardiologia", "city": "Aracaju"})
    assert response.status == 200


def test_settings_read_the_token_from_the_environment(tmp_path):
    settings = Settings.from_env({"VAR_DIR": str(tmp_path), "BACKEND_SERVICE_TOKEN": SERVICE_TOKEN})
    assert settings.backend_service_token == SERVICE_TOKEN and SERVICE_TOKEN not in repr(settings)
    assert Settings.from_env({"VAR_DIR": str(tmp_path)}).backend_service_token is None
    with pytest.raises(SettingsError, match="BACKEND_SERVICE_TOKEN"):
        Settings.from_env({"VAR_DIR": str(tmp_path), "BACKEND_SERVICE_TOKEN": "curto"})


async def test_the_bot_client_sends_the_credential(app, monkeypatch):
    """bot.actions.backend_client sends BACKEND_SERVICE_TOKEN on every call."""
    from bot.backend.client import BackendClient

    monkeypatch.setenv("BACKEND_SERVICE_TOKEN", SERVICE_TOKEN)
    async with TestServer(app) as server:
        bot = BackendClient(str(server.make_url("")).rstrip("/"))
        try:
            search = {"specialty": "cardiologia", "city": "Aracaju"}
            assert (await bot.get("/api/providers", params=search)).status == 200
            assert (await bot.post("/api/handoffs", {"conversation_id": "c-bot", "channel": "rest"})).status == 201
        finally:
            await bot.close()
    monkeypatch.setenv("BACKEND_SERVICE_TOKEN", "outro-token-qualquer-0123456789")
    async with TestServer(app) as server:
        bot = BackendClient(str(server.make_url("")).rstrip("/"))
        try:
            response = await bot.get("/api/providers", params={"specialty": "cardiologia", "city": "Aracaju"})
            assert response.status == 401 and response.error_code == "service_unauthorized"
        finally:
            await bot.close()
