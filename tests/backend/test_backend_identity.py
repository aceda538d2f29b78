"""POST /api/identity/verifications: "não possuo CPF", the mother's name (casse profile), what the
201 tells the assistant."""

import pytest
from backend_api import ANA_BEATRIZ, CARLOS, JOSE, MARIA

pytestmark = pytest.mark.asyncio
ANA_CLARA = {"login": "100200300403", "no_cpf": True, "birth_date": "05/01/2024", "conversation_id": "conversa-ana"}


async def _verify(client, body):
    response = await client.post("/api/identity/verifications", json=body)
    return response.status, await response.json()


@pytest.mark.parametrize(
    "persona, email_masked, has_account, plan_active, dependents",
    [
        (MARIA, "m***@exemplo.com.br", True, True, 2),
        (JOSE, "j***@exemplo.com.br", False, True, 0),
        (ANA_BEATRIZ, None, True, True, 0),
        (CARLOS, "c***@exemplo.com.br", False, False, 0),
    ],
)
async def test_what_the_assistant_learns(client, persona, email_masked, has_account, plan_active, dependents):
    status, body = await _verify(client, persona)
    assert status == 201, body
    assert (body["email_masked"], body["has_account"], body["plan_active"], body["dependents"]) == (
        email_masked,
        has_account,
        plan_active,
        dependents,
    )
    assert "@exemplo" not in str({k: v for k, v in body.items() if k != "email_masked"})


async def test_no_cpf_for_a_beneficiary_without_one(client):
    status, body = await _verify(client, ANA_CLARA)
    assert status == 201, body
    assert body["first_name"] == "Ana" and body["has_account"] is False


async def test_no_cpf_is_refused_when_there_is_a_cpf_on_file(client):
    status, body = await _verify(client, {**MARIA, "cpf": None, "no_cpf": True})
    assert (status, body["error"]["code"], body["error"]["attempts_left"]) == (401, "identity_not_confirmed", 4)


async def test_no_cpf_with_a_cpf_or_not_a_boolean(client):
    status, body = await _verify(client, {**ANA_CLARA, "cpf": "945.807.302-24"})
    assert status == 400 and "não possui CPF" in body["error"]["fields"]["cpf"]
    status, body = await _verify(client, {**ANA_CLARA, "no_cpf": "sim"})
    assert status == 400 and set(body["error"]["fields"]) == {"no_cpf", "cpf"}


async def test_operator_tells_whether_the_mother_name_is_asked(client, client_with_profile):
    assert (await (await client.get("/api/operator")).json())["identity_requires_mother_name"] is False
    casse = await client_with_profile("casse")
    body = await (await casse.get("/api/operator")).json()
    assert body["identity_requires_mother_name"] is True and body["password_policy"]["name"] == "casse"


async def test_casse_requires_the_mother_name(client_with_profile):
    casse = await client_with_profile("casse")
    status, body = await _verify(casse, MARIA)
    assert status == 400 and body["error"]["fields"] == {"mother_name": "Informe o nome completo da sua mãe."}


@pytest.mark.parametrize(
    "typed", ["Josefa Aparecida Santos", "  josefa   APARECIDA santos ", "Jôsefa Aparecida Sántos"]
)
async def test_casse_mother_name_ignores_case_accents_and_spaces(client_with_profile, typed):
    casse = await client_with_profile("casse")
    status, body = await _verify(casse, {**MARIA, "mother_name": typed})
    assert status == 201, body


async def test_casse_wrong_mother_name_is_a_failed_verification(client_with_profile):
    casse = await client_with_profile("casse")
    wrong = {**MARIA, "mother_name": "Josefa Santos"}
    statuses = [(await _verify(casse, wrong))[0] for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    status, body = await _verify(casse, {**MARIA, "mother_name": "Josefa Aparecida Santos"})
    assert (status, body["error"]["code"]) == (423, "identity_locked")


async def test_demo_profile_ignores_the_mother_name(client):
    status, _ = await _verify(client, {**MARIA, "mother_name": "Outra Pessoa"})
    assert status == 201
