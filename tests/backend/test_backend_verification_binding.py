"""A verification serves the conversation that made it — its sender id on its channel — and a
verification made without CPF ("não possuo CPF": card + birth date) serves registration only.

The verified endpoints are found by walking the router: every /api route that is neither public
nor the agent API nor in NOT_VERIFIED must be in VERIFIED_REQUESTS, so a new verified route cannot
be left out of these checks."""

from datetime import timedelta

from aiohttp import FormData
from backend_api import ANA_CLARA, MARIA

from backend.api.service_auth import PUBLIC_ROUTES
from backend.app import create_app
from backend.clock import local_today

ANA_CLARA_NO_CPF = {**ANA_CLARA, "channel": "socketio"}
WIDGET_MARIA = {**MARIA, "channel": "socketio", "conversation_id": "widget-conversa-maria"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# Service routes that take no verification (or only optionally, like the handoff).
NOT_VERIFIED = {
    ("POST", "/api/identity/verifications"),
    ("GET", "/api/providers"),
    ("GET", "/api/protocols/{number}"),
    ("POST", "/api/handoffs"),
    ("POST", "/api/registrations"),  # verified, and the one that takes a check without CPF (tested below)
    ("POST", "/api/inbound-files"),  # the channels hand a user's file over, bound to (channel, sender)
}


def _verified_requests() -> dict[tuple[str, str], dict]:
    """(method, route) -> what a request needs besides the verification, for the route to get as
    far as checking it."""
    today = local_today()
    return {
        ("GET", "/api/card"): {},
        ("GET", "/api/plan"): {},
        ("GET", "/api/waiting-periods"): {},
        ("GET", "/api/fees"): {},
        ("GET", "/api/family"): {},
        ("GET", "/api/card-requests"): {},
        ("GET", "/api/reimbursements"): {},
        ("GET", "/api/reimbursement-documents"): {},
        ("DELETE", "/api/reimbursement-documents/{id}"): {"path": "/api/reimbursement-documents/1"},
        ("POST", "/api/reimbursement-documents"): {"upload": True},
        ("POST", "/api/fees/{document_number}/slips"): {"path": f"/api/fees/300401{today:%Y%m}/slips", "json": {}},
        ("POST", "/api/password-change-links"): {"json": {}},
        ("POST", "/api/email-changes"): {
            "json": {"full_name": "Maria Aparecida Santos", "new_email": "maria.nova@exemplo.com.br"}
        },
        ("POST", "/api/card-requests"): {"json": {"reason": "Danificação"}},
        ("POST", "/api/statements"): {"json": {"kind": "demonstrativo_ir", "year": today.year - 1}},
        ("POST", "/api/reimbursements"): {
            "json": {
                "provider_name": "Clínica Bem Viver",
                "provider_document": "529.982.247-25",
                "service_date": f"{today - timedelta(days=10):%d/%m/%Y}",
                "description": "Consulta com cardiologista",
                "amount": "R$ 150,00",
                "document_ids": [],
            }
        },
        ("POST", "/api/password-resets"): {"json": {}},  # last: it e-mails a temporary password
    }


async def _verify(client, persona: dict) -> str:
    response = await client.post("/api/identity/verifications", json=persona)
    assert response.status == 201, await response.text()
    return (await response.json())["token"]


async def _send(client, method: str, route: str, spec: dict, token: str, conversation_id: str, channel: str):
    path = spec.get("path", route)
    headers = {"X-Verification": token, "X-Conversation-Id": conversation_id, "X-Channel": channel}
    if spec.get("upload"):
        form = FormData()
        form.add_field("file", PNG, filename="recibo.png", content_type="image/png")
        return await client.post(path, data=form, headers=headers)
    if "json" in spec:
        body = {"verification": token, "conversation_id": conversation_id, "channel": channel, **spec["json"]}
        return await client.request(method, path, json=body)
    return await client.request(method, path, headers=headers)


async def _status_and_error(response) -> tuple[int, dict]:
    body = await response.json() if response.content_type == "application/json" else {}
    return response.status, (body or {}).get("error") or {}


def test_every_verified_route_is_checked(sqlite_settings):
    """The router's routes (the same on any database) against the list of verified requests."""
    app = create_app(sqlite_settings)
    service = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
        and route.resource.canonical.startswith("/api/")
        and route.method not in PUBLIC_ROUTES.get(route.resource.canonical, ())
        and not route.resource.canonical.startswith("/api/agent/")
        # the employer's routes take the company user's credential instead: test_company_routes.py
        and not route.resource.canonical.startswith("/api/company")
    }
    assert service - NOT_VERIFIED == set(_verified_requests())


# --- bound to (channel, sender) ------------------------------------------------------------------


async def test_a_socketio_verification_is_refused_for_rest_and_for_another_sender(client):
    token = await _verify(client, WIDGET_MARIA)
    conversation = WIDGET_MARIA["conversation_id"]

    async def card(conversation_id: str, channel: str | None):
        headers = {"X-Verification": token, "X-Conversation-Id": conversation_id}
        if channel is not None:
            headers["X-Channel"] = channel
        response = await client.get("/api/card", headers=headers)
        return response.status, await response.text()

    for conversation_id, channel in (
        (conversation, "rest"),
        (conversation, None),
        (conversation, "whatsapp"),
        ("outra-conversa", "socketio"),
    ):
        status, text = await card(conversation_id, channel)
        assert status == 401 and "verification_invalid" in text, (conversation_id, channel)
        assert "100200300401" not in text and "Maria" not in text
    status, text = await card(conversation, "socketio")
    assert status == 200 and "100200300401" in text  # refused elsewhere, still good where it was made

    async def change_link(**body):
        response = await client.post("/api/password-change-links", json={"verification": token, **body})
        return response.status

    assert await change_link(conversation_id=conversation, channel="rest") == 401
    assert await change_link(conversation_id=conversation) == 401  # no channel said: "rest"
    assert await change_link(conversation_id="outra-conversa", channel="socketio") == 401
    assert await change_link(conversation_id=conversation, channel="socketio") == 201


async def test_the_header_and_the_body_must_name_the_same_channel(client):
    token = await _verify(client, WIDGET_MARIA)
    body = {"verification": token, "conversation_id": WIDGET_MARIA["conversation_id"], "channel": "socketio"}
    response = await client.post("/api/password-change-links", json=body, headers={"X-Channel": "rest"})
    assert response.status == 401
    response = await client.post("/api/password-change-links", json=body, headers={"X-Channel": "socketio"})
    assert response.status == 201


async def test_every_verified_route_refuses_a_token_of_another_channel(client):
    token = await _verify(client, WIDGET_MARIA)
    for (method, route), spec in _verified_requests().items():
        response = await _send(client, method, route, spec, token, WIDGET_MARIA["conversation_id"], "rest")
        status, error = await _status_and_error(response)
        assert (status, error.get("code")) == (401, "verification_invalid"), (method, route, status, error)


# --- a check without CPF serves registration only ------------------------------------------------


async def test_a_verification_without_cpf_is_refused_by_every_verified_route(client):
    verified = await (await client.post("/api/identity/verifications", json=ANA_CLARA_NO_CPF)).json()
    assert verified["scope"] == "registration"
    ana_token, ana_conversation = verified["token"], ANA_CLARA_NO_CPF["conversation_id"]
    maria_token = await _verify(client, WIDGET_MARIA)
    for (method, route), spec in _verified_requests().items():
        # the same request with a full verification gets past the check: the refusal is the scope's
        response = await _send(client, method, route, spec, maria_token, WIDGET_MARIA["conversation_id"], "socketio")
        status, error = await _status_and_error(response)
        assert status != 401, (method, route, status, error)

        response = await _send(client, method, route, spec, ana_token, ana_conversation, "socketio")
        status, error = await _status_and_error(response)
        assert (status, error.get("code"), error.get("reason")) == (401, "verification_invalid", "cpf_required"), (
            method,
            route,
            status,
            error,
        )
        assert "CPF" in error["message"] and "cadastro" in error["message"]


async def test_a_verification_without_cpf_serves_registration(client, outbox):
    token = await _verify(client, ANA_CLARA_NO_CPF)
    response = await client.post(
        "/api/registrations",
        json={
            "verification": token,
            "conversation_id": ANA_CLARA_NO_CPF["conversation_id"],
            "channel": "socketio",
            "email": "ana.clara@exemplo.com.br",
        },
    )
    assert response.status == 201, await response.text()
    [(message, _)] = outbox()
    assert message["To"] == "ana.clara@exemplo.com.br"
    # and not from another channel
    token = await _verify(client, {**ANA_CLARA_NO_CPF, "conversation_id": "conversa-ana-2"})
    response = await client.post(
        "/api/registrations",
        json={
            "verification": token,
            "conversation_id": "conversa-ana-2",
            "channel": "rest",
            "email": "ana.clara2@exemplo.com.br",
        },
    )
    assert response.status == 401


async def test_a_full_verification_says_so(client):
    response = await client.post("/api/identity/verifications", json=WIDGET_MARIA)
    assert (await response.json())["scope"] == "full"
