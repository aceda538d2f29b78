"""Cadastro: POST /api/registrations, the activation e-mail and the /conta/ativar page."""

from datetime import timedelta

import pytest
from backend_api import (
    ANA_BEATRIZ,
    CARLOS,
    JOSE,
    MARIA,
    links_in,
    login,
    open_form,
    path_of,
    register,
    set_password,
    stored_protocol,
)
from sqlalchemy import select, update

from backend.clock import utcnow
from backend.models import Account, AccountLink, Beneficiary, Protocol, RateLimit
from backend.rate_limits import REPEAT_WINDOW

pytestmark = pytest.mark.asyncio
GOOD = "Oliveira#2025"


async def _activation_path(client, outbox, email="jose.oliveira@exemplo.com.br") -> str:
    seen = {url for _, text in outbox() for url in links_in(text)}
    status, body = await register(client, JOSE, email)
    assert status == 201, body
    [new] = {url for _, text in outbox() for url in links_in(text)} - seen
    return path_of(new)


async def _jose(session):
    """José as stored now; ends the read (SQLite: the test session must not keep the write lock)."""
    session.expire_all()
    jose = (
        (await session.execute(select(Beneficiary).where(Beneficiary.card_number == JOSE["login"])))
        .unique()
        .scalar_one()
    )
    await session.commit()
    return jose


async def test_jose_registers_end_to_end(client, outbox, session, masked_log):
    status, body = await register(client, JOSE, "jose.oliveira@exemplo.com.br")
    assert status == 201, body
    await stored_protocol(session, body["protocol"], "registration", JOSE["login"])
    assert body == {
        "protocol": body["protocol"],
        "email_masked": "j***@exemplo.com.br",
        "expires_in_hours": 24,
        "repeated": False,
    }

    [(message, text)] = outbox()
    assert message["To"] == "jose.oliveira@exemplo.com.br" and "ative o seu cadastro" in message["Subject"]
    assert "Olá, José!" in text and body["protocol"] in text and "0800 888 9504" in text and "24 horas" in text
    assert "Caixa de Assistência Vida Sergipe" in text
    [url] = links_in(text)
    assert url.startswith("http://127.0.0.1:8080/conta/ativar/")
    assert url in message.get_body(("html",)).get_content()

    account = (await _jose(session)).account
    assert (account.status, account.password_hash) == ("pending", None)
    assert (await login(client, JOSE["login"], GOOD))[0] == 401  # pending: no login yet

    status, html, token = await open_form(client, path_of(url))
    assert status == 200 and token
    assert "Crie a sua senha" in html and "pelo menos 8 caracteres" in html and 'data-rule="symbol"' in html

    status, html = await set_password(client, path_of(url), GOOD)
    assert status == 200, html
    assert "Cadastro ativado!" in html and "Entre no aplicativo com a carteirinha, o CPF ou o e-mail." in html

    for login_value in (JOSE["login"], JOSE["cpf"], "jose.oliveira@exemplo.com.br"):
        status, answer = await login(client, login_value, GOOD)
        assert status == 200 and answer["must_change_password"] is False and "change_password_url" not in answer
    protocol = (await session.execute(select(Protocol).where(Protocol.number == body["protocol"]))).scalar_one()
    assert (protocol.kind, protocol.status) == ("registration", "completed")
    stored = (await session.execute(select(AccountLink.token_hash))).scalars().all()
    assert path_of(url).rsplit("/", 1)[1] not in stored  # only the hash is kept
    assert "jose.oliveira@" not in masked_log.getvalue() and GOOD not in masked_log.getvalue()


async def test_a_typed_address_other_than_the_one_on_file_gets_no_activation_link(client, outbox, session):
    """The whole path (notice, cancel, wait) is in test_backend_takeover.py."""
    status, body = await register(client, JOSE, "Jose.Novo@Exemplo.com.br")
    assert status == 202 and body["email_change_pending"] is True and body["wait_hours"] == 72
    assert (body["email_masked"], body["current_email_masked"]) == ("j***@exemplo.com.br", "j***@exemplo.com.br")
    mails = {message["To"]: text for message, text in outbox()}
    assert set(mails) == {"jose.novo@exemplo.com.br", "jose.oliveira@exemplo.com.br"}
    assert "/conta/ativar/" not in "".join(mails.values())
    assert "/conta/confirmar-email/" in mails["jose.novo@exemplo.com.br"]
    assert (await _jose(session)).email == "jose.oliveira@exemplo.com.br"


async def test_without_an_email_the_link_goes_to_the_one_on_file(client, outbox):
    status, body = await register(client, JOSE, None)
    assert status == 201 and body["email_masked"] == "j***@exemplo.com.br"
    assert [message["To"] for message, _ in outbox()] == ["jose.oliveira@exemplo.com.br"]


async def test_maria_is_already_registered(client, outbox):
    status, body = await register(client, MARIA, "maria.santos@exemplo.com.br")
    assert (status, body["error"]["code"]) == (409, "already_registered")
    assert "esqueci minha senha" in body["error"]["message"]
    assert outbox() == []


async def test_ana_beatriz_without_email_is_already_registered(client):
    status, body = await register(client, ANA_BEATRIZ, "ana.lima@exemplo.com.br")
    assert (status, body["error"]["code"]) == (409, "already_registered")


async def test_carlos_plan_is_cancelled(client, outbox):
    status, body = await register(client, CARLOS, "carlos.souza@exemplo.com.br")
    assert (status, body["error"]["code"]) == (409, "plan_cancelled")
    assert "0800 888 9504" in body["error"]["message"] and outbox() == []


async def test_email_of_someone_else_is_refused(client, outbox):
    status, body = await register(client, JOSE, "MARIA.SANTOS@exemplo.com.br")
    assert (status, body["error"]["code"]) == (409, "email_in_use")
    assert outbox() == []


@pytest.mark.parametrize("email", ["jose.oliveira@", "jose oliveira", ""])
async def test_invalid_email(client, email):
    status, body = await register(client, JOSE, email)
    assert status == 400 and "email" in body["error"]["fields"]


async def test_verification_must_be_valid(client):
    response = await client.post(
        "/api/registrations",
        json={"verification": "inventado", "conversation_id": "x", "channel": "rest", "email": "a@exemplo.com.br"},
    )
    assert response.status == 401 and (await response.json())["error"]["code"] == "verification_invalid"


async def _after_the_repeat_window(session):
    """Moves this test's requests and claims back by more than rate_limits.REPEAT_WINDOW."""
    back = REPEAT_WINDOW + timedelta(seconds=1)
    for model, column in ((AccountLink, "created_at"), (RateLimit, "window_start")):
        for row in (await session.execute(select(model))).scalars():
            setattr(row, column, getattr(row, column) - back)
    await session.commit()


async def test_a_repeat_within_minutes_sends_nothing_new(client, outbox):
    first_status, first = await register(client, JOSE, None)
    status, again = await register(client, JOSE, "JOSE.OLIVEIRA@exemplo.com.br")  # the same address
    assert (first_status, status) == (201, 201) and again["protocol"] == first["protocol"]
    assert (first["repeated"], again["repeated"]) == (False, True)
    assert len(outbox()) == 1


async def test_a_new_request_replaces_the_old_link(client, outbox, session):
    first = await _activation_path(client, outbox)
    await _after_the_repeat_window(session)
    second = await _activation_path(client, outbox)
    assert (await _jose(session)).account is not None  # still one pending account
    status, html, _ = await open_form(client, first)
    assert status == 410 and "quero me cadastrar" in html
    assert (await set_password(client, second, GOOD))[0] == 200


async def test_used_link_is_gone(client, outbox):
    path = await _activation_path(client, outbox)
    assert (await set_password(client, path, GOOD))[0] == 200
    status, html, token = await open_form(client, path)
    assert status == 410 and token is None
    assert "já foi usado" in html and "quero me cadastrar" in html


async def test_expired_link_is_gone(client, outbox, session):
    path = await _activation_path(client, outbox)
    await session.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    status, html, token = await open_form(client, path)
    assert status == 410 and token is None
    assert "Este link venceu" in html and "escreva 'quero me cadastrar'" in html


async def test_link_expires_in_24_hours(client, outbox, session):
    await _activation_path(client, outbox)
    link = (await session.execute(select(AccountLink))).scalar_one()
    await session.commit()
    assert link.expires_at - link.created_at == timedelta(hours=24)


async def test_unknown_link(client):
    status, html, _ = await open_form(client, "/conta/ativar/nao-existe")
    assert status == 404 and "Link não encontrado" in html and "quero me cadastrar" in html


async def test_csrf_missing_or_wrong(client, outbox, session):
    path = await _activation_path(client, outbox)
    fields = {"nova_senha": GOOD, "confirmacao": GOOD}
    response = await client.post(path, data=fields)  # no token, no cookie
    assert response.status == 403 and "abra o link de novo" in await response.text()
    _, _, token = await open_form(client, path)  # the cookie is set now
    response = await client.post(path, data={**fields, "csrf_token": token[:-2] + "xx"})
    assert response.status == 403
    client.session.cookie_jar.clear()
    response = await client.post(path, data={**fields, "csrf_token": token})  # token without its cookie
    assert response.status == 403
    account = (await _jose(session)).account
    assert account.status == "pending"


async def test_page_is_safe_to_show(client, outbox):
    path = await _activation_path(client, outbox)
    response = await client.get(path)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer" and response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={path}" in cookie
    html = await response.text()
    assert '<meta name="viewport"' in html and "http" not in html.split("<main>")[0].replace("http-equiv", "")
    for asset in ("/static/conta.css", "/static/senha.js"):
        assert asset in html and (await client.get(asset)).status == 200


async def test_pending_account_cannot_reset_password(client, outbox):
    await _activation_path(client, outbox)
    status, body = await _reset(client)
    assert (status, body["error"]["code"]) == (409, "no_account")


async def _reset(client):
    from backend_api import request_password_reset

    return await request_password_reset(client, {**JOSE, "conversation_id": "outra"})


async def test_account_created_once(client, outbox, session):
    await _activation_path(client, outbox)
    await _after_the_repeat_window(session)
    await _activation_path(client, outbox)
    jose = await _jose(session)
    accounts = (await session.execute(select(Account).where(Account.beneficiary_id == jose.id))).scalars().all()
    assert len(accounts) == 1
