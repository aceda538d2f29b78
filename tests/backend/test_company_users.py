"""The portal's users of a company (seed 003, "Administração de usuários"): an admin adds (the
first-access link goes to the new user's e-mail), edits, deactivates (everything the user holds
ends) and reactivates; a plain user may do none of it; another company's users are not found; the
company always keeps an active admin."""

from __future__ import annotations

import re

import pytest
from backend_api import path_of, set_password
from company_support import (
    DIEGO_CODE,
    FERNANDA,
    add_other_company,
    login_headers,
    verified_headers,
)
from sqlalchemy import select

from backend.models import Company, CompanyUser
from backend.passwords import hash_password

pytestmark = pytest.mark.asyncio
LINK_RE = re.compile(r"https?://\S+/conta/senha-empresa/[A-Za-z0-9_-]+")
NEW_PASSWORD = "Horizonte#2025"
NEW_USER = {"name": "Carla  Menezes", "email": "Carla.Menezes@horizonte.exemplo.com.br", "role": "user"}
GROUP_ADMIN = {"user_code": "RH500201", "password": "Grupo@2024"}


async def _call(client, method, path, headers, **body):
    kwargs = {"json": {"channel": "rest", **body}} if method == "POST" else {}
    response = await client.request(method, f"/api/company/users{path}", headers=headers, **kwargs)
    return response.status, await response.json()


async def _login(client, user_code, password) -> int:
    response = await client.post("/api/company/auth/login", json={"user_code": user_code, "password": password})
    return response.status


def _links(outbox, to: str) -> list[str]:
    return [path_of(m.group(0)) for message, text in outbox() if message["To"] == to and (m := LINK_RE.search(text))]


async def _add_group_admin(session) -> None:
    """An admin of the group company 500200 (the seed gives it no user)."""
    company = (await session.execute(select(Company).where(Company.code == "500200"))).scalar_one()
    session.add(
        CompanyUser(
            company_id=company.id,
            user_code=GROUP_ADMIN["user_code"],
            name="Gustavo Reis",
            email="rh@incorporacoes.horizonte.exemplo.com.br",
            role="admin",
            password_hash=await hash_password(GROUP_ADMIN["password"], 4),
        )
    )
    await session.commit()


async def test_an_admin_adds_a_user_who_gets_the_first_access_link(client, outbox):
    headers = await login_headers(client)
    status, body = await _call(client, "POST", "", headers, **NEW_USER)
    assert status == 201, body
    user = body["user"]
    assert user == {
        "user_code": "RH500103",  # the company's next
        "name": "Carla Menezes",
        "email": "carla.menezes@horizonte.exemplo.com.br",
        "role": "user",
        "role_label": "usuário",
        "status": "active",
        "status_label": "ativo",
        "has_portal_access": False,
    }
    assert "RH500103" in body["message"] and "24 horas" in body["message"]
    ((message, text),) = outbox()
    assert message["To"] == "carla.menezes@horizonte.exemplo.com.br"
    assert "Fernanda Rocha incluiu você" in text and "RH500103" in text and "Construtora Horizonte Ltda" in text
    assert await _login(client, "RH500103", NEW_PASSWORD) == 401  # not before creating the password
    (link,) = _links(outbox, "carla.menezes@horizonte.exemplo.com.br")
    assert (await set_password(client, link, NEW_PASSWORD))[0] == 200
    assert await _login(client, "RH500103", NEW_PASSWORD) == 200

    listed = (await _call(client, "GET", "", headers))[1]["users"]
    assert [u["user_code"] for u in listed] == ["RH500101", "RH500102", "RH500103"]
    status, body = await _call(client, "POST", "", headers, name="Outra Pessoa", email=NEW_USER["email"], role="admin")
    assert status == 409 and body["error"]["code"] == "email_in_use"
    status, body = await _call(client, "POST", "", headers, name="", email="x", role="chefe")
    assert status == 400 and set(body["error"]["fields"]) == {"name", "email", "role"}


async def test_an_admin_edits_a_user(client, outbox):
    headers = await verified_headers(client, outbox)  # the chat's way, too
    status, body = await _call(
        client,
        "POST",
        f"/{DIEGO_CODE}/changes",
        headers,
        name="Diego Martins Souza",
        email="diego@horizonte.exemplo.com.br",
    )
    assert status == 200, body
    assert body["changes"] == {"name": "Diego Martins Souza", "email": "diego@horizonte.exemplo.com.br"}
    assert body["user"]["name"] == "Diego Martins Souza" and "nome, e-mail" in body["message"]
    status, body = await _call(client, "GET", f"/{DIEGO_CODE.lower()}", headers)
    assert status == 200 and body["user"]["email"] == "diego@horizonte.exemplo.com.br"
    status, body = await _call(client, "POST", f"/{DIEGO_CODE}/changes", headers, name="Diego Martins Souza")
    assert status == 409 and body["error"]["code"] == "nothing_to_change"
    status, body = await _call(client, "POST", f"/{DIEGO_CODE}/changes", headers)
    assert status == 400
    status, body = await _call(client, "POST", f"/{DIEGO_CODE}/changes", headers, email="rh@horizonte.exemplo.com.br")
    assert status == 409 and body["error"]["code"] == "email_in_use"
    status, body = await _call(client, "POST", f"/{DIEGO_CODE}/changes", headers, role="admin")
    assert status == 200 and body["user"]["role"] == "admin"


async def test_deactivating_a_user_ends_their_session_and_reactivating_sends_a_new_link(client, outbox):
    fernanda = await login_headers(client)
    await _call(client, "POST", "", fernanda, **NEW_USER)
    (link,) = _links(outbox, "carla.menezes@horizonte.exemplo.com.br")
    await set_password(client, link, NEW_PASSWORD)
    carla = await login_headers(client, {"user_code": "RH500103", "password": NEW_PASSWORD})
    assert (await client.get("/api/company", headers=carla)).status == 200
    diego_chat = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")

    status, body = await _call(client, "POST", "/RH500103/deactivation", fernanda)
    assert status == 200 and body["user"]["status"] == "inactive" and not body["user"]["has_portal_access"]
    assert (await client.get("/api/company", headers=carla)).status == 401  # the session ended now
    assert await _login(client, "RH500103", NEW_PASSWORD) == 401
    status, body = await _call(client, "POST", f"/{DIEGO_CODE}/deactivation", fernanda)
    assert status == 200
    assert (await client.get("/api/company", headers=diego_chat)).status == 401  # the chat's verification too
    status, body = await _call(client, "POST", "/RH500103/deactivation", fernanda)
    assert status == 409 and body["error"]["code"] == "company_user_already_inactive"

    status, body = await _call(client, "POST", "/RH500103/reactivation", fernanda)
    assert status == 200 and body["user"]["status"] == "active"
    assert await _login(client, "RH500103", NEW_PASSWORD) == 401  # the old password went with the deactivation
    links = _links(outbox, "carla.menezes@horizonte.exemplo.com.br")
    assert len(links) == 2 and (await client.get(links[0] if links[0] != link else links[1])).status == 200
    status, body = await _call(client, "POST", "/RH500103/reactivation", fernanda)
    assert status == 409 and body["error"]["code"] == "company_user_already_active"


async def test_a_plain_user_may_do_none_of_it(client, outbox):
    diego = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")
    calls = [
        ("GET", ""),
        ("GET", "/RH500101"),
        ("POST", ""),
        ("POST", "/RH500101/changes"),
        ("POST", "/RH500101/deactivation"),
        ("POST", "/RH500101/reactivation"),
    ]
    for method, path in calls:
        status, body = await _call(client, method, path, diego, **NEW_USER)
        assert (status, body["error"]["code"]) == (403, "company_admin_only"), (method, path)
    status, body = await _call(client, "POST", "", diego, name="")  # even with a wrong body: the right first
    assert status == 403
    assert outbox() and all(m["To"] == "dp@horizonte.exemplo.com.br" for m, _ in outbox())  # only Diego's code


async def test_another_companys_users_are_not_found(client, session, outbox):
    await _add_group_admin(session)
    await add_other_company(session)
    group = await login_headers(client, GROUP_ADMIN)
    for method, path in [
        ("GET", "/RH500102"),
        ("POST", "/RH500102/changes"),
        ("POST", "/RH500102/deactivation"),
        ("POST", "/RH500102/reactivation"),
        ("GET", "/RH600101"),
    ]:
        status, body = await _call(client, method, path, group, name="Outro Nome")
        assert (status, body["error"]["code"]) == (404, "company_user_not_found"), (method, path)
    assert [u["user_code"] for u in (await _call(client, "GET", "", group))[1]["users"]] == ["RH500201"]
    status, body = await _call(client, "POST", "", group, name="Nova Pessoa", email="nova@exemplo.com.br", role="user")
    assert status == 201 and body["user"]["user_code"] == "RH500202"  # the group company's own sequence
    fernanda = await login_headers(client)
    status, body = await _call(client, "GET", f"/{DIEGO_CODE}", fernanda)
    assert body["user"]["name"] == "Diego Martins"  # untouched


async def test_the_last_admin_can_be_neither_deactivated_nor_demoted(client, outbox):
    fernanda = await login_headers(client)  # the company's only admin
    status, body = await _call(client, "POST", "/RH500101/deactivation", fernanda)
    assert status == 409 and body["error"]["code"] == "company_last_admin"
    status, body = await _call(client, "POST", "/RH500101/changes", fernanda, role="user")
    assert status == 409 and body["error"]["code"] == "company_last_admin"
    assert await _login(client, FERNANDA["user_code"], FERNANDA["password"]) == 200


async def test_an_admin_never_removes_themself_and_the_rights_are_rechecked_each_call(client, outbox):
    fernanda = await login_headers(client)
    status, body = await _call(client, "POST", f"/{DIEGO_CODE}/changes", fernanda, role="admin")
    assert status == 200 and body["user"]["role_label"] == "administrador"
    diego = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")
    status, body = await _call(client, "POST", "/RH500101/deactivation", fernanda)
    assert status == 409 and body["error"]["code"] == "company_user_self"  # another admin exists, still not herself
    status, body = await _call(client, "POST", "/RH500101/changes", fernanda, role="user")
    assert status == 409 and body["error"]["code"] == "company_user_self"

    status, body = await _call(client, "POST", "/RH500101/changes", diego, role="user")
    assert status == 200
    status, body = await _call(client, "POST", f"/{DIEGO_CODE}/deactivation", fernanda)
    assert status == 403 and body["error"]["code"] == "company_admin_only"  # her token is the same, her role is not
    status, body = await _call(client, "POST", "/RH500101/deactivation", diego)
    assert status == 200
    assert (await client.get("/api/company", headers=fernanda)).status == 401
    status, body = await _call(client, "POST", "/RH500101/reactivation", diego)
    assert status == 200 and body["user"]["role"] == "user" and "rh@horizonte.exemplo.com.br" in body["message"]
    assert await _login(client, FERNANDA["user_code"], FERNANDA["password"]) == 401  # a new password is needed
    assert len(_links(outbox, "rh@horizonte.exemplo.com.br")) == 1


async def test_user_routes_need_the_company_credential(client):
    status, body = await _call(client, "POST", "", {}, **NEW_USER)
    assert status == 401 and body["error"]["code"] == "company_unauthorized"
