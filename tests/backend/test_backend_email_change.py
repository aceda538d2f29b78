"""Alterar e-mail: POST /api/email-changes, the two e-mails and /conta/confirmar-email."""

from datetime import timedelta

import pytest
from backend_api import (
    ANA_BEATRIZ,
    JOSE,
    MARIA,
    call_with_verification,
    links_in,
    open_form,
    path_of,
    stored_protocol,
    submit_form,
)
from sqlalchemy import select, update

from backend.clock import utcnow
from backend.models import Beneficiary, EmailChange, Protocol

pytestmark = pytest.mark.asyncio
NEW = "maria.nova@exemplo.com.br"


async def _change(client, persona=MARIA, full_name="Maria Aparecida Santos", new_email=NEW):
    return await call_with_verification(client, "/api/email-changes", persona, full_name=full_name, new_email=new_email)


async def _email_of(session, card):
    session.expire_all()
    email = (await session.execute(select(Beneficiary.email).where(Beneficiary.card_number == card))).scalar_one()
    await session.commit()
    return email


async def test_maria_changes_her_email(client, outbox, session):
    """With an address on file the change waits 72 h after the new address confirms (the notice's
    cancel link is tested in test_backend_takeover.py)."""
    status, body = await _change(client, full_name="  maria APARECIDA  santos ")
    assert status == 201, body
    assert body == {
        "protocol": body["protocol"],
        "new_email_masked": "m***@exemplo.com.br",
        "wait_hours": 72,
        "effective_at": body["effective_at"],
        "effective_text": body["effective_text"],
        "repeated": False,
    }

    mails = {message["To"]: (message, text) for message, text in outbox()}
    assert set(mails) == {"maria.santos@exemplo.com.br", NEW}
    notice = mails["maria.santos@exemplo.com.br"][1]
    assert "Pediram a troca do e-mail" in notice and "se não foi você" in notice.lower()
    assert "0800 888 9504" in notice and NEW not in notice and body["effective_text"] in notice
    assert [path_of(url).rsplit("/", 1)[0] for url in links_in(notice)] == ["/conta/cancelar-troca-de-email"]
    [url] = links_in(mails[NEW][1])
    assert "/conta/confirmar-email/" in url and body["protocol"] in mails[NEW][1]

    assert await _email_of(session, MARIA["login"]) == "maria.santos@exemplo.com.br"  # nothing changed yet
    status, html, token = await open_form(client, path_of(url))
    assert status == 200 and token and "m***@exemplo.com.br" in html and "Confirmar e-mail" in html
    assert await _email_of(session, MARIA["login"]) == "maria.santos@exemplo.com.br"  # opening is not confirming

    status, html = await submit_form(client, path_of(url), {})
    assert status == 200 and "E-mail confirmado!" in html and body["effective_text"] in html
    assert await _email_of(session, MARIA["login"]) == "maria.santos@exemplo.com.br"  # not before the wait
    await session.execute(update(EmailChange).values(effective_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    response = await client.post("/api/auth/login", json={"login": NEW, "password": "Saude@2024"})
    assert response.status == 200  # the first login after the wait applies the change
    assert await _email_of(session, MARIA["login"]) == NEW
    protocol = (await session.execute(select(Protocol).where(Protocol.number == body["protocol"]))).scalar_one()
    await session.commit()
    assert (protocol.kind, protocol.status) == ("email_change", "completed")

    status, html, token = await open_form(client, path_of(url))
    assert status == 410 and token is None and "quero mudar meu e-mail" in html


async def test_without_email_on_file_only_the_new_address_gets_mail(client, outbox, session):
    """Nobody to warn: the confirmation by the new address is enough, at once."""
    status, body = await _change(client, ANA_BEATRIZ, "Ana Beatriz Lima", "ana.lima@exemplo.com.br")
    assert status == 201, body
    assert (body["effective_at"], body["wait_hours"]) == (None, 0)
    [(message, text)] = outbox()
    assert message["To"] == "ana.lima@exemplo.com.br"
    [url] = links_in(text)
    assert await _email_of(session, ANA_BEATRIZ["login"]) is None
    status, html = await submit_form(client, path_of(url), {})
    assert status == 200 and "E-mail atualizado!" in html
    assert await _email_of(session, ANA_BEATRIZ["login"]) == "ana.lima@exemplo.com.br"


async def test_confirmation_needs_csrf(client, outbox, session):
    await _change(client)
    [url] = [url for _, text in outbox() for url in links_in(text) if "/conta/confirmar-email/" in url]
    response = await client.post(path_of(url), data={})
    assert response.status == 403
    _, _, token = await open_form(client, path_of(url))
    response = await client.post(path_of(url), data={"csrf_token": "outro"})
    assert response.status == 403
    assert await _email_of(session, MARIA["login"]) == "maria.santos@exemplo.com.br"


async def test_wrong_full_name_counts_as_a_failed_verification(client, outbox):
    statuses = []
    for attempt in range(5):
        status, body = await _change(client, {**MARIA, "conversation_id": f"c{attempt}"}, full_name="Maria Santos")
        statuses.append((status, body["error"]["code"]))
    assert statuses == [(401, "identity_not_confirmed")] * 4 + [(423, "identity_locked")]
    assert outbox() == []
    response = await client.post("/api/identity/verifications", json={**MARIA, "conversation_id": "depois"})
    assert response.status == 423  # the card is locked for every flow


async def test_refusals(client, outbox):
    status, body = await _change(client, new_email="Maria.Santos@exemplo.com.br")
    assert (status, body["error"]["code"]) == (409, "same_email")
    status, body = await _change(client, new_email="jose.oliveira@exemplo.com.br")
    assert (status, body["error"]["code"]) == (409, "email_in_use")
    status, body = await _change(client, new_email="maria@")
    assert status == 400 and set(body["error"]["fields"]) == {"new_email"}
    assert outbox() == []


async def test_jose_without_account_may_change_his_email(client, outbox, session):
    status, body = await _change(client, JOSE, "José Carlos Oliveira", "jose.novo@exemplo.com.br")
    assert status == 201, body
    await stored_protocol(session, body["protocol"], "email_change", JOSE["login"])
