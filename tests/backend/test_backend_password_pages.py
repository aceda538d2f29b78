"""Password rules on the pages (operator policy, personal data, history) and the change-password
flow: POST /api/password-change-links, /conta/alterar-senha, temporary password at login."""

import re
from html import unescape

import pytest
from backend_api import (
    AMS_REFUSALS,
    CARLOS,
    CASSE_REFUSALS,
    JOSE,
    MARIA,
    call_with_verification,
    links_in,
    login,
    open_form,
    path_of,
    register,
    request_password_reset,
    set_password,
    stored_protocol,
)
from sqlalchemy import select

from backend.models import Account, Beneficiary, PasswordHistory, Protocol

pytestmark = pytest.mark.asyncio
TEMP_PASSWORD_RE = re.compile(r"Sua senha temporária é: (\S+)")


def _errors(html: str) -> list[str]:
    block = html.split('<div class="erros" role="alert">', 1)[1].split("</div>", 1)[0]
    return [unescape(item) for item in re.findall(r"<li>(.*?)</li>", block)]


async def _activation(client, outbox) -> str:
    status, body = await register(client, JOSE, "jose.oliveira@exemplo.com.br")
    assert status == 201, body
    [url] = [url for _, text in outbox() for url in links_in(text)]
    return path_of(url)


async def _change_path(client, persona=MARIA) -> str:
    status, body = await call_with_verification(client, "/api/password-change-links", persona)
    assert status == 201, body
    return path_of(body["url"])


async def _account(session, card):
    session.expire_all()
    account = (
        await session.execute(
            select(Account)
            .join(Beneficiary, Account.beneficiary_id == Beneficiary.id)
            .where(Beneficiary.card_number == card)
        )
    ).scalar_one()
    await session.commit()
    return account


@pytest.mark.parametrize("password, expected", CASSE_REFUSALS)
async def test_casse_policy_on_the_activation_page(client, outbox, password, expected):
    path = await _activation(client, outbox)
    status, html = await set_password(client, path, password)
    assert status == 400 and expected in _errors(html)
    assert 'name="csrf_token"' in html  # the form comes back to try again
    assert (await set_password(client, path, "Oliveira#2025"))[0] == 200


@pytest.mark.parametrize("password, expected", AMS_REFUSALS)
async def test_ams_policy_on_the_activation_page(client_with_profile, outbox, password, expected):
    ams = await client_with_profile("ams")
    path = await _activation(ams, outbox)
    status, html, _ = await open_form(ams, path)
    assert "de 6 a 8 letras e números" in html and 'data-rule="first_lowercase"' in html
    status, html = await set_password(ams, path, password)
    assert status == 400 and expected in _errors(html)
    status, html = await set_password(ams, path, "jOse2025")
    assert status == 200 and "Cadastro ativado!" in html
    assert (await login(ams, JOSE["login"], "jOse2025"))[0] == 200


@pytest.mark.parametrize(
    "password, expected",
    [
        ("Jose@03642621252", "A senha não pode conter o seu CPF."),
        ("036.426.212-52#a", "A senha não pode conter o seu CPF."),
        ("Jose@200300400501", "A senha não pode conter o número da sua carteirinha."),
        ("Jose@14081960", "A senha não pode conter a sua data de nascimento."),
        ("Jose@14/08/1960", "A senha não pode conter a sua data de nascimento."),
        ("Jose@1960-08-14", "A senha não pode conter a sua data de nascimento."),
    ],
)
async def test_personal_data_is_refused(client, outbox, password, expected):
    path = await _activation(client, outbox)
    status, html = await set_password(client, path, password)
    assert status == 400 and _errors(html) == [expected]


async def test_passwords_typed_differently(client, outbox):
    path = await _activation(client, outbox)
    status, html = await set_password(client, path, "Oliveira#2025", "Oliveira#2026")
    assert status == 400
    assert _errors(html) == ["As duas senhas não são iguais. Digite a mesma senha nos dois campos."]


async def test_change_link_for_maria(client, session):
    status, body = await call_with_verification(client, "/api/password-change-links", MARIA)
    assert status == 201, body
    assert body["expires_in_minutes"] == 15
    await stored_protocol(session, body["protocol"], "password_change", MARIA["login"])
    assert re.fullmatch(r"http://127\.0\.0\.1:8080/conta/alterar-senha/[\w-]{43}", body["url"])

    status, html, _ = await open_form(client, path_of(body["url"]))
    assert status == 200 and "Senha atual" in html and "pelo menos 8 caracteres" in html
    status, html = await set_password(client, path_of(body["url"]), "Nova#Senha1", senha_atual="Saude@2024")
    assert status == 200 and "Senha alterada!" in html
    assert (await login(client, MARIA["login"], "Nova#Senha1"))[0] == 200
    assert (await login(client, MARIA["login"], "Saude@2024"))[0] == 401
    protocol = (await session.execute(select(Protocol).where(Protocol.number == body["protocol"]))).scalar_one()
    assert (protocol.kind, protocol.status) == ("password_change", "completed")


async def test_wrong_current_password_counts_towards_the_lockout(client, session):
    path = await _change_path(client)
    status, html = await set_password(client, path, "Nova#Senha1", senha_atual="Errada@2024")
    assert status == 400 and _errors(html) == ["A senha atual não confere. Confira e digite de novo."]
    assert (await _account(session, MARIA["login"])).failed_logins == 1
    for _ in range(3):
        await set_password(client, path, "Nova#Senha1", senha_atual="Errada@2024")
    status, html = await set_password(client, path, "Nova#Senha1", senha_atual="Errada@2024")
    assert status == 423 and "bloqueado" in html
    assert (await login(client, MARIA["login"], "Saude@2024"))[0] == 423


async def test_new_password_equal_to_the_current_one(client):
    path = await _change_path(client)
    status, html = await set_password(client, path, "Saude@2024", senha_atual="Saude@2024")
    assert status == 400 and _errors(html) == ["A nova senha precisa ser diferente da senha atual."]


async def test_the_last_three_passwords_are_refused(client, session):
    current = "Saude@2024"
    for new in ("Primeira#1", "Segunda#2", "Terceira#3"):
        status, html = await set_password(client, await _change_path(client), new, senha_atual=current)
        assert status == 200, html
        current = new
    path = await _change_path(client)
    for reused in ("Primeira#1", "Segunda#2"):
        status, html = await set_password(client, path, reused, senha_atual=current)
        assert status == 400
        assert _errors(html) == ["Essa senha já foi usada. Escolha uma diferente das suas últimas 3 senhas."]
    # Saude@2024 is now the 4th most recent: allowed again; only 3 hashes are kept
    status, html = await set_password(client, path, "Saude@2024", senha_atual=current)
    assert status == 200, html
    account = await _account(session, MARIA["login"])
    hashes = (await session.execute(select(PasswordHistory).where(PasswordHistory.account_id == account.id))).all()
    await session.commit()
    assert len(hashes) == 3


async def test_change_link_is_single_use(client):
    path = await _change_path(client)
    assert (await set_password(client, path, "Nova#Senha1", senha_atual="Saude@2024"))[0] == 200
    status, html, token = await open_form(client, path)
    assert status == 410 and token is None and "quero trocar minha senha" in html


@pytest.mark.parametrize("persona, code", [(JOSE, "no_account"), (CARLOS, "plan_cancelled")])
async def test_change_link_refusals(client, persona, code):
    status, body = await call_with_verification(client, "/api/password-change-links", persona)
    assert (status, body["error"]["code"]) == (409, code)


async def test_change_link_needs_a_verification(client):
    response = await client.post("/api/password-change-links", json={"verification": "x", "conversation_id": "c"})
    assert response.status == 401 and (await response.json())["error"]["code"] == "verification_invalid"


async def test_temporary_password_forces_the_change_page(client, outbox, session):
    status, _ = await request_password_reset(client, MARIA)
    assert status == 201
    [(_, text)] = outbox()
    temporary = TEMP_PASSWORD_RE.search(text).group(1)

    status, body = await login(client, MARIA["login"], temporary)
    assert status == 200 and body["must_change_password"] is True
    assert re.fullmatch(r"http://127\.0\.0\.1:8080/conta/alterar-senha/[\w-]{43}", body["change_password_url"])
    path = path_of(body["change_password_url"])
    status, html = await set_password(client, path, "Saude@2024", senha_atual=temporary)
    assert status == 400 and "Essa senha já foi usada" in html  # the password of before the reset
    status, html = await set_password(client, path, "Outra#Senha9", senha_atual=temporary)
    assert status == 200 and "Senha alterada!" in html
    assert (await _account(session, MARIA["login"])).must_change_password is False
    status, body = await login(client, MARIA["login"], "Outra#Senha9")
    assert status == 200 and body["must_change_password"] is False and "change_password_url" not in body
