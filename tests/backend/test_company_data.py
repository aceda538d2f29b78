"""The company's data, plans and users, and the change of contact data: each user sees only their
own company; what only an admin may do is refused to a plain user."""

from __future__ import annotations

import pytest
from company_support import (
    DIEGO_CODE,
    OTHER,
    OTHER_CNPJ,
    add_other_company,
    login_headers,
    verified_headers,
)
from sqlalchemy import select

from backend.models import Company, Protocol

pytestmark = pytest.mark.asyncio


async def test_the_company_data_and_its_group(client, outbox):
    headers = await verified_headers(client, outbox)
    body = await (await client.get("/api/company", headers=headers)).json()
    assert body["company"] == {
        "code": "500100",
        "name": "Construtora Horizonte Ltda",
        "cnpj": "33.445.566/0001-86",
        "email": "contato@horizonte.exemplo.com.br",
        "phone": "+55 79 3214-5000",
        "address": "Av. Beira Mar, 1500, Treze de Julho, Aracaju/SE",
        "group": [{"code": "500200", "name": "Horizonte Incorporações Ltda", "cnpj": "33.445.566/0002-67"}],
    }
    assert body["user"]["name"] == "Fernanda Rocha"


async def test_contracted_plans(client, outbox):
    headers = await verified_headers(client, outbox)
    plans = (await (await client.get("/api/company/plans", headers=headers)).json())["plans"]
    assert [(p["name"], p["active_beneficiaries"]) for p in plans] == [("Odonto Essencial", 2), ("Odonto Plus", 0)]
    assert plans[0]["coverage"] == "odontológico"  # Renata (Odonto Plus) is inactive


async def test_each_company_sees_only_itself(client, session, outbox):
    await add_other_company(session)
    other = await login_headers(client, OTHER)
    mine = await login_headers(client)
    other_body = await (await client.get("/api/company", headers=other)).json()
    assert other_body["company"]["name"] == "Comercial Aurora Ltda" and other_body["company"]["group"] == []
    assert other_body["company"]["cnpj"] == "12.ABC.345/01DE-35"
    other_plans = (await (await client.get("/api/company/plans", headers=other)).json())["plans"]
    assert [(p["name"], p["active_beneficiaries"]) for p in other_plans] == [("Odonto Plus", 1)]
    other_users = (await (await client.get("/api/company/users", headers=other)).json())["users"]
    assert [u["user_code"] for u in other_users] == ["RH600101"]
    my_users = (await (await client.get("/api/company/users", headers=mine)).json())["users"]
    assert [u["user_code"] for u in my_users] == ["RH500101", "RH500102"]


async def test_the_other_companys_user_verifies_with_its_alphanumeric_cnpj(client, session, outbox):
    await add_other_company(session)
    from company_support import ask_code, last_code, verify

    assert (await ask_code(client, user_code="RH600101", cnpj=OTHER_CNPJ, conversation="c-aurora")).status == 202
    code = last_code(outbox)
    # the right code with Horizonte's CNPJ is no verification: user and company go together
    assert (await verify(client, code, user_code="RH600101", conversation="c-aurora")).status == 401
    response = await verify(client, code, user_code="RH600101", cnpj="12abc34501de35", conversation="c-aurora")
    assert response.status == 201 and (await response.json())["company"]["code"] == "600100"


async def test_users_list_is_for_admins(client, outbox):
    headers = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")
    response = await client.get("/api/company/users", headers=headers)
    assert response.status == 403
    assert (await response.json())["error"] == {
        "code": "company_admin_only",
        "message": "Só o administrador do portal da empresa pode fazer isso. Peça ao administrador da sua empresa.",
    }


async def test_a_contact_change_becomes_a_protocol_of_the_company(client, session, outbox):
    headers = await verified_headers(client, outbox)
    body = {"email": "novo.rh@horizonte.exemplo.com.br", "phone": "+55 79 3000-0000", "channel": "rest"}
    response = await client.post(
        "/api/company/contact-changes", json={**body, "conversation_id": "conversa-rh"}, headers=headers
    )
    assert response.status == 201
    answer = await response.json()
    assert answer["changes"] == {"email": "novo.rh@horizonte.exemplo.com.br", "phone": "+55 79 3000-0000"}
    assert answer["protocol"] in answer["message"] and "e-mail, telefone" in answer["message"]
    protocol = (await session.execute(select(Protocol).where(Protocol.number == answer["protocol"]))).scalar_one()
    company = (await session.execute(select(Company).where(Company.code == "500100"))).scalar_one()
    await session.commit()
    assert (protocol.kind, protocol.company_id, protocol.beneficiary_id) == ("company_contact_change", company.id, None)
    assert protocol.details["requested_by"] == "RH500101"
    assert company.email == "contato@horizonte.exemplo.com.br"  # changed by the registration team, not here


async def test_a_contact_change_is_for_admins_and_must_change_something(client, outbox):
    diego = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")
    response = await client.post("/api/company/contact-changes", json={"phone": "+55 79 1"}, headers=diego)
    assert response.status == 403
    fernanda = await login_headers(client)
    same = await client.post("/api/company/contact-changes", json={"phone": "+55 79 3214-5000"}, headers=fernanda)
    assert same.status == 409 and (await same.json())["error"]["code"] == "nothing_to_change"
    empty = await client.post("/api/company/contact-changes", json={}, headers=fernanda)
    assert empty.status == 400
    bad = await client.post("/api/company/contact-changes", json={"email": "não é e-mail"}, headers=fernanda)
    assert bad.status == 400 and "email" in (await bad.json())["error"]["fields"]


@pytest.mark.parametrize("path", ["/api/company", "/api/company/plans", "/api/company/users"])
async def test_no_company_credential_no_data(client, path):
    response = await client.get(path)
    assert response.status == 401 and (await response.json())["error"]["code"] == "company_unauthorized"
