"""Access to the company portal without the password (seed 003): "Primeiro acesso", "Esqueci minha
senha", "Esqueci meu usuário" — links and codes only to the e-mail on file, the same answer
whether or not the data matched, and the page that creates the password (single use, CSRF)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from backend_api import open_form, path_of, set_password
from company_support import CNPJ, DIEGO_CODE, FERNANDA, GROUP_CNPJ

from backend.clock import utcnow

pytestmark = pytest.mark.asyncio
LINK_RE = re.compile(r"https?://\S+/conta/senha-empresa/[A-Za-z0-9_-]+")
NEW_PASSWORD = "Horizonte#2025"


async def _post(client, path, **body):
    body = {"channel": "rest", "conversation_id": "conversa-acesso", **body}
    response = await client.post(f"/api/company/access/{path}", json=body)
    return response.status, await response.json()


def _link(outbox) -> str:
    (link,) = {m.group(0) for _, text in outbox() if (m := LINK_RE.search(text))}
    return path_of(link)


async def _login(client, user_code, password):
    response = await client.post("/api/company/auth/login", json={"user_code": user_code, "password": password})
    return response.status


async def test_first_access_by_user_code_creates_the_password_and_the_login_works(client, outbox):
    assert await _login(client, DIEGO_CODE, NEW_PASSWORD) == 401  # no portal access yet
    status, body = await _post(
        client, "first-access", user_code="rh500102", cnpj=CNPJ, email="DP@horizonte.exemplo.com.br"
    )
    assert status == 202 and "24 horas" in body["message"]
    ((message, text),) = outbox()
    assert message["To"] == "dp@horizonte.exemplo.com.br" and "RH500102" in text and "primeiro acesso" in text
    path = _link(outbox)
    status, html, _ = await open_form(client, path)
    assert status == 200 and "RH500102" in html and "Construtora Horizonte Ltda" in html
    status, html = await set_password(client, path, NEW_PASSWORD)
    assert status == 200 and "Senha criada!" in html
    assert await _login(client, DIEGO_CODE, NEW_PASSWORD) == 200
    assert (await client.get(path)).status == 410  # single use


async def test_first_access_by_company_code_finds_the_user_by_email(client, outbox):
    status, _ = await _post(
        client, "first-access", company_code="500100", cnpj=CNPJ, email="dp@horizonte.exemplo.com.br"
    )
    assert status == 202
    ((message, _),) = outbox()
    assert message["To"] == "dp@horizonte.exemplo.com.br"


@pytest.mark.parametrize(
    "body",
    [
        {"user_code": "RH500102", "cnpj": CNPJ, "email": "outro@exemplo.com.br"},  # not the e-mail on file
        {"user_code": "RH500102", "cnpj": GROUP_CNPJ, "email": "dp@horizonte.exemplo.com.br"},  # other company
        {"user_code": "RH999999", "cnpj": CNPJ, "email": "dp@horizonte.exemplo.com.br"},
        {"company_code": "500200", "cnpj": CNPJ, "email": "dp@horizonte.exemplo.com.br"},
    ],
)
async def test_first_access_answers_the_same_when_nothing_matches(client, outbox, body):
    right = await _post(client, "first-access", user_code="RH500102", cnpj=CNPJ, email="dp@horizonte.exemplo.com.br")
    outbox_before = len(outbox())
    assert await _post(client, "first-access", conversation_id="outra", **body) == right
    assert len(outbox()) == outbox_before


async def test_forgot_password_sends_a_link_and_the_new_password_replaces_the_old(client, outbox):
    status, body = await _post(client, "password-reset", user_code="RH500101", cnpj="33445566000186")
    assert status == 202 and "30 minutos" in body["message"]
    ((message, _),) = outbox()
    assert message["To"] == "rh@horizonte.exemplo.com.br"
    status, html = await set_password(client, _link(outbox), NEW_PASSWORD)
    assert status == 200
    assert await _login(client, "RH500101", FERNANDA["password"]) == 401
    assert await _login(client, "RH500101", NEW_PASSWORD) == 200


async def test_forgot_password_unknown_data_answers_the_same_and_sends_nothing(client, outbox):
    right = await _post(client, "password-reset", user_code="RH500101", cnpj=CNPJ)
    wrong = await _post(client, "password-reset", user_code="RH500101", cnpj=GROUP_CNPJ, conversation_id="x")
    assert wrong == right and len(outbox()) == 1


async def test_a_new_password_ends_the_login_sessions_and_clears_the_lock(client, outbox):
    response = await client.post("/api/company/auth/login", json=FERNANDA)
    old = {"X-Company-Session": (await response.json())["token"]}
    for _ in range(5):
        await _login(client, "RH500101", "Errada@2024")
    assert await _login(client, "RH500101", FERNANDA["password"]) == 423
    await _post(client, "password-reset", user_code="RH500101", cnpj=CNPJ)
    assert (await set_password(client, _link(outbox), NEW_PASSWORD))[0] == 200
    assert await _login(client, "RH500101", NEW_PASSWORD) == 200
    assert (await client.get("/api/company", headers=old)).status == 401


async def test_the_password_page_checks_the_policy_and_the_confirmation(client, outbox):
    await _post(client, "password-reset", user_code="RH500101", cnpj=CNPJ)
    path = _link(outbox)
    status, html = await set_password(client, path, "fraca")
    assert status == 400 and "Confira o que falta" in html
    status, html = await set_password(client, path, NEW_PASSWORD, "Diferente#2025")
    assert status == 400
    status, html = await set_password(client, path, "Rh500101#x")
    assert status == 400 and "código de usuário" in html
    assert (await set_password(client, path, NEW_PASSWORD))[0] == 200  # the link survived the refusals


async def test_the_page_refuses_a_post_without_its_csrf_token(client, outbox):
    await _post(client, "password-reset", user_code="RH500101", cnpj=CNPJ)
    path = _link(outbox)
    response = await client.post(path, data={"nova_senha": NEW_PASSWORD, "confirmacao": NEW_PASSWORD})
    assert response.status == 403
    assert await _login(client, "RH500101", NEW_PASSWORD) == 401


async def test_unknown_expired_and_replaced_links(client, outbox, monkeypatch):
    assert (await client.get("/conta/senha-empresa/" + "x" * 43)).status == 404
    await _post(client, "password-reset", user_code="RH500101", cnpj=CNPJ)
    first = _link(outbox)
    await _post(client, "password-reset", user_code="RH500101", cnpj=CNPJ)
    second = ({path_of(m.group(0)) for _, t in outbox() if (m := LINK_RE.search(t))} - {first}).pop()
    assert (await client.get(first)).status == 410  # replaced by the newer one
    later = utcnow() + timedelta(minutes=31)
    monkeypatch.setattr("backend.company.access.utcnow", lambda: later)
    assert (await client.get(second)).status == 410


async def test_forgot_user_sends_the_user_code_only_to_the_email_on_file(client, outbox):
    status, body = await _post(
        client, "user-code", company_code="500100", cnpj=CNPJ, email="rh@horizonte.exemplo.com.br"
    )
    assert status == 202 and "código de usuário" in body["message"]
    ((message, text),) = outbox()
    assert message["To"] == "rh@horizonte.exemplo.com.br" and "RH500101" in text
    wrong = await _post(client, "user-code", company_code="500100", cnpj=CNPJ, email="x@exemplo.com.br")
    assert wrong == (status, body) and len(outbox()) == 1


async def test_invalid_cnpj_and_missing_fields_are_refused(client, outbox):
    status, body = await _post(client, "user-code", company_code="500100", cnpj="33.445.566/0001-00", email="a@b.com")
    assert status == 400 and "cnpj" in body["error"]["fields"]
    status, body = await _post(client, "first-access", cnpj=CNPJ, email="dp@horizonte.exemplo.com.br")
    assert status == 400 and "user_code" in body["error"]["fields"]


async def test_a_user_gets_at_most_three_emails_an_hour_and_the_answer_does_not_change(client, outbox):
    answers = set()
    for number in range(4):
        status, body = await _post(
            client, "password-reset", user_code="RH500101", cnpj=CNPJ, conversation_id=f"c{number}"
        )
        answers.add((status, body["message"]))
    assert len(answers) == 1 and len(outbox()) == 3


async def test_the_conversation_is_limited(client, outbox):
    statuses = [(await _post(client, "password-reset", user_code="RH999999", cnpj=CNPJ))[0] for _ in range(6)]
    assert statuses == [202] * 5 + [429]
