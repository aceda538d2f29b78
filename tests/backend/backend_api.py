"""Calls to the backend API and pages that several test modules make."""

import re
from datetime import date
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from backend.clock import local_today

# The backend API answers only the assistant's services (backend.api.service_auth): every test
# app gets this token, and the clients of these tests send it unless a test is about its absence.
SERVICE_TOKEN = "token-de-servico-dos-testes-0123456789"
SERVICE_HEADERS = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK_RE = re.compile(r"https?://\S+/conta/[a-z-]+/[A-Za-z0-9_-]+")

JOSE = {
    "login": "200300400501",
    "cpf": "036.426.212-52",
    "birth_date": "14/08/1960",
    "channel": "rest",
    "conversation_id": "conversa-jose",
}
MARIA = {
    "login": "100200300401",
    "cpf": "945.807.302-24",
    "birth_date": "12/03/1985",
    "channel": "rest",
    "conversation_id": "conversa-maria",
}
CARLOS = {
    "login": "400500600701",
    "cpf": "224.538.323-01",
    "birth_date": "19/09/1978",
    "channel": "rest",
    "conversation_id": "conversa-carlos",
}
JOAO = {  # Maria's son, a dependent
    "login": "100200300402",
    "cpf": "157.368.193-84",
    "birth_date": "30/07/2012",
    "channel": "rest",
    "conversation_id": "conversa-joao",
}
ANA_CLARA = {  # Maria's daughter, a baby without CPF: her check serves registration only
    "login": "100200300403",
    "no_cpf": True,
    "birth_date": "05/01/2024",
    "channel": "rest",
    "conversation_id": "conversa-ana-clara",
}
ANA_BEATRIZ = {
    "login": "300400500601",
    "cpf": "997.220.033-72",
    "birth_date": "02/02/1992",
    "channel": "rest",
    "conversation_id": "conversa-ana-beatriz",
}
# (password, what the policy says of it): passwords each password policy refuses, and why
CASSE_REFUSALS = [
    ("Sa@1", "Use pelo menos 8 caracteres."),
    ("Saude2024", "Inclua pelo menos um símbolo (por exemplo: @, #, !)."),
    ("Saude@abc", "Inclua pelo menos um número."),
    ("2024@2024", "Inclua pelo menos uma letra."),
]
AMS_REFUSALS = [
    ("aB3", "Use pelo menos 6 caracteres."),
    ("aB3cdefgh", "Use no máximo 8 caracteres."),
    ("Ab3cdef", "Comece a senha com uma letra minúscula."),
    ("ab3cdef", "Inclua pelo menos uma letra maiúscula."),
    ("aBcdefg", "Inclua pelo menos um número."),
    ("aB3@def", "Use só letras e números, sem símbolos, espaços ou acentos."),
]


async def stored_protocol(session, number: str, kind: str, owner_card: str | None, day: date | None = None):
    """The protocol an answer carries, as stored: the demo operator's number of `day` (today by
    default), of `kind`, for the beneficiary with card `owner_card` (None: nobody's). Ends the read
    (SQLite: the test's session must not keep the app from writing)."""
    from backend.models import Beneficiary, Protocol

    assert re.fullmatch(rf"419010{day or local_today():%Y%m%d}\d{{6}}", number), number
    protocol = (await session.execute(select(Protocol).where(Protocol.number == number))).scalar_one()
    owner = None
    if owner_card is not None:
        owner = (
            await session.execute(select(Beneficiary.id).where(Beneficiary.card_number == owner_card))
        ).scalar_one()
    await session.commit()
    assert (protocol.kind, protocol.beneficiary_id) == (kind, owner), (protocol.kind, protocol.beneficiary_id)
    return protocol


def service_client(app) -> TestClient:
    """A TestClient of `app` that calls as the assistant's action server does."""
    return TestClient(TestServer(app), headers=SERVICE_HEADERS)


async def request_password_reset(client, body: dict) -> tuple[int, dict]:
    """The assistant's two calls: verify the identity, then reset with the token it got.
    Returns the status and body of the first call that fails, or of the reset."""
    response = await client.post("/api/identity/verifications", json=body)
    answer = await response.json()
    if response.status != 201:
        return response.status, answer
    response = await client.post(
        "/api/password-resets",
        json={
            "verification": answer["token"],
            "channel": body.get("channel", "rest"),
            "conversation_id": body.get("conversation_id"),
        },
    )
    return response.status, await response.json()


async def verify(client, persona: dict) -> str:
    response = await client.post("/api/identity/verifications", json=persona)
    assert response.status == 201, await response.text()
    return (await response.json())["token"]


async def call_with_verification(client, path: str, persona: dict, **body) -> tuple[int, dict]:
    """Verifies `persona`, then POSTs `path` with the token and the conversation of the persona."""
    token = await verify(client, persona)
    response = await client.post(
        path,
        json={
            "verification": token,
            "channel": persona["channel"],
            "conversation_id": persona["conversation_id"],
            **body,
        },
    )
    return response.status, await response.json()


def verified_headers(token: str, persona: dict) -> dict[str, str]:
    """What a GET made on behalf of `persona`'s verified conversation carries."""
    return {"X-Verification": token, "X-Conversation-Id": persona["conversation_id"]}


async def get_with_verification(client, path: str, persona: dict, params: dict | None = None) -> tuple[int, dict]:
    """Verifies `persona`, then GETs `path` (with `params`) with the token in the headers."""
    token = await verify(client, persona)
    response = await client.get(path, params=params, headers=verified_headers(token, persona))
    return response.status, await response.json()


async def register(client, persona: dict, email: str | None) -> tuple[int, dict]:
    """email=None: the user confirmed the e-mail on file, so none is sent."""
    extra = {"email": email} if email is not None else {}
    return await call_with_verification(client, "/api/registrations", persona, **extra)


def links_in(text: str) -> list[str]:
    return LINK_RE.findall(text)


def path_of(url: str) -> str:
    return urlsplit(url).path


async def open_form(client, path: str) -> tuple[int, str, str | None]:
    """GET a page: status, HTML and the CSRF token of its form (None when there is no form)."""
    response = await client.get(path)
    html = await response.text()
    found = CSRF_RE.search(html)
    return response.status, html, found.group(1) if found else None


async def submit_form(client, path: str, fields: dict) -> tuple[int, str]:
    """Opens the page (getting the form's CSRF cookie and token) and posts `fields` with the token."""
    status, html, token = await open_form(client, path)
    assert token, f"no form at {path} (HTTP {status}): {html[:300]}"
    response = await client.post(path, data={"csrf_token": token, **fields})
    return response.status, await response.text()


async def set_password(client, path: str, password: str, confirmation: str | None = None, **extra) -> tuple[int, str]:
    return await submit_form(
        client,
        path,
        {"nova_senha": password, "confirmacao": password if confirmation is None else confirmation, **extra},
    )


async def login(client, login_value: str, password: str) -> tuple[int, dict]:
    response = await client.post("/api/auth/login", json={"login": login_value, "password": password})
    return response.status, await response.json()
