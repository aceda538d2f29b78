"""Every company route of the router (the same on any database) asks for the company user's
credential — a login token, or a verification of this very conversation on this channel — except
the ones that give it; a beneficiary's verification is no company credential. New company routes
cannot escape: the router is walked."""

from __future__ import annotations

import pytest
from backend_api import MARIA
from company_support import verified_headers

from backend.app import create_app

# The routes that give the credential (or send links and codes to the e-mail on file).
CREDENTIAL_ROUTES = {
    ("POST", "/api/company/auth/login"),
    ("POST", "/api/company/identity/codes"),
    ("POST", "/api/company/identity/verifications"),
    ("POST", "/api/company/access/first-access"),
    ("POST", "/api/company/access/password-reset"),
    ("POST", "/api/company/access/user-code"),
}
SAMPLE = {"{document_number}": "F500100202401", "{number}": "4" * 20}


def _company_routes(settings) -> list[tuple[str, str]]:
    app = create_app(settings)
    return sorted(
        {
            (route.method, route.resource.canonical)
            for route in app.router.routes()
            if route.method != "HEAD" and route.resource.canonical.startswith("/api/company")
        }
    )


def _path(canonical: str) -> str:
    for variable, value in SAMPLE.items():
        canonical = canonical.replace(variable, value)
    return canonical


async def _refused(client, method, canonical, headers) -> bool:
    kwargs = {"json": {"phone": "+55 79 1", "channel": "rest"}} if method == "POST" else {}
    response = await client.request(method, _path(canonical), headers=headers, **kwargs)
    body = await response.json()
    return response.status == 401 and body["error"]["code"] == "company_unauthorized"


def test_the_company_routes_are_known(sqlite_settings):
    routes = set(_company_routes(sqlite_settings))
    assert CREDENTIAL_ROUTES <= routes and len(routes - CREDENTIAL_ROUTES) >= 8


@pytest.mark.asyncio
async def test_every_company_route_needs_the_company_credential_of_this_conversation(client, settings, outbox):
    maria = await client.post("/api/identity/verifications", json=MARIA)
    beneficiary = {"X-Verification": (await maria.json())["token"], "X-Conversation-Id": MARIA["conversation_id"]}
    company = await verified_headers(client, outbox)
    wrong = [
        {},
        beneficiary,
        {"X-Company-Session": "x" * 43},
        {**company, "X-Conversation-Id": "outra-conversa"},
        {**company, "X-Channel": "whatsapp"},
        {"X-Company-Verification": company["X-Company-Verification"]},  # without the conversation
    ]
    escaped = [
        (method, canonical, index)
        for method, canonical in _company_routes(settings)
        if (method, canonical) not in CREDENTIAL_ROUTES
        for index, headers in enumerate(wrong)
        if not await _refused(client, method, canonical, headers)
    ]
    assert escaped == []
    for method, canonical in _company_routes(settings):
        if (method, canonical) not in CREDENTIAL_ROUTES:
            assert not await _refused(client, method, canonical, company), canonical
