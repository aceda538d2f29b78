"""E-mail takeover (backend.email_change, backend.registration): with card, CPF and birth date —
data that leaks together — nobody gets an activation link or a new e-mail on file for someone
else. With an e-mail on file, the activation link goes to it; another address must confirm itself
and wait 72 h, which the address on file can cancel. Without one (Ana Clara here, no CPF and no
e-mail), the typed address gets the activation link and is stored only when the link is used."""

from datetime import timedelta

from backend_api import (
    ANA_CLARA,
    JOSE,
    MARIA,
    call_with_verification,
    links_in,
    login,
    open_form,
    path_of,
    register,
    set_password,
    submit_form,
    verify,
)
from sqlalchemy import select, update

from backend.clock import utcnow
from backend.models import AccountLink, Beneficiary, EmailChange, Protocol

ATTACKER = "invasor@exemplo.net"


async def _email_of(session, card):
    session.expire_all()
    email = (await session.execute(select(Beneficiary.email).where(Beneficiary.card_number == card))).scalar_one()
    await session.commit()
    return email


def _mails(outbox) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for message, text in outbox():
        found.setdefault(message["To"], []).append(text)
    return found


def _link(texts: list[str], path: str) -> str:
    [url] = [url for text in texts for url in links_in(text) if f"/conta/{path}/" in url]
    return path_of(url)


async def _end_the_wait(session) -> None:
    await session.execute(update(EmailChange).values(effective_at=utcnow() - timedelta(seconds=1)))
    await session.commit()


async def test_registration_never_sends_the_activation_link_to_a_typed_address(client, outbox, session):
    """The attacker knows José's card, CPF and birth date (he never registered) and types their own
    address: no activation link reaches it; José's address is warned and cancels; even after the
    wait, and although the attacker confirmed, nothing changes."""
    status, body = await register(client, JOSE, ATTACKER)
    assert status == 202 and body["email_change_pending"] is True, body
    mails = _mails(outbox)
    assert set(mails) == {ATTACKER, "jose.oliveira@exemplo.com.br"}
    assert all("/conta/ativar/" not in text for texts in mails.values() for text in texts)
    notice = mails["jose.oliveira@exemplo.com.br"][0]
    assert "i***@exemplo.net" in notice and body["effective_text"] in notice and ATTACKER not in notice

    # the attacker confirms their address: not enough
    status, html = await submit_form(client, _link(mails[ATTACKER], "confirmar-email"), {})
    assert status == 200 and "E-mail confirmado!" in html
    assert await _email_of(session, JOSE["login"]) == "jose.oliveira@exemplo.com.br"

    # José cancels from the notice (GET only shows the button: mail scanners open links)
    cancel = _link([notice], "cancelar-troca-de-email")
    status, html, token = await open_form(client, cancel)
    assert status == 200 and token and "i***@exemplo.net" in html
    response = await client.post(cancel, data={"csrf_token": "forjado"})
    assert response.status == 403
    status, html = await submit_form(client, cancel, {})
    assert status == 200 and "Troca de e-mail cancelada" in html and "0800 888 9504" in html
    status, html, _ = await open_form(client, cancel)
    assert status == 410 and "já foi cancelada" in html

    await _end_the_wait(session)
    await verify(client, {**JOSE, "conversation_id": "depois"})  # a check after the wait applies due changes
    assert await _email_of(session, JOSE["login"]) == "jose.oliveira@exemplo.com.br"
    protocol = (await session.execute(select(Protocol.status).where(Protocol.number == body["protocol"]))).scalar_one()
    assert protocol == "cancelled"


async def test_an_uncancelled_change_happens_only_after_the_wait(client, outbox, session):
    """José really has a new address: he confirms it, nobody cancels, the change happens after the
    wait; registering again then sends the activation link to the new address on file."""
    new = "jose.novo@exemplo.com.br"
    status, body = await register(client, JOSE, new)
    assert status == 202
    await submit_form(client, _link(_mails(outbox)[new], "confirmar-email"), {})
    await verify(client, {**JOSE, "conversation_id": "antes"})
    assert await _email_of(session, JOSE["login"]) == "jose.oliveira@exemplo.com.br"  # still waiting

    await _end_the_wait(session)
    await verify(client, {**JOSE, "conversation_id": "depois"})
    assert await _email_of(session, JOSE["login"]) == new
    status, body = await register(client, {**JOSE, "conversation_id": "depois"}, None)
    assert status == 201 and body["email_masked"] == "j***@exemplo.com.br"
    activation = _link(_mails(outbox)[new], "ativar")
    assert (await set_password(client, activation, "Oliveira#2025"))[0] == 200
    assert (await login(client, new, "Oliveira#2025"))[0] == 200


async def test_an_unconfirmed_change_never_happens(client, outbox, session):
    status, _ = await register(client, JOSE, ATTACKER)
    assert status == 202
    await _end_the_wait(session)
    await verify(client, {**JOSE, "conversation_id": "depois"})
    assert await _email_of(session, JOSE["login"]) == "jose.oliveira@exemplo.com.br"


async def test_email_change_with_an_address_on_file_can_be_cancelled(client, outbox, session):
    """The chat's 'alterar e-mail' (full name asked) follows the same rule."""
    status, body = await call_with_verification(
        client, "/api/email-changes", MARIA, full_name="Maria Aparecida Santos", new_email=ATTACKER
    )
    assert status == 201 and body.get("wait_hours") == 72
    mails = _mails(outbox)
    await submit_form(client, _link(mails[ATTACKER], "confirmar-email"), {})
    status, html = await submit_form(client, _link(mails["maria.santos@exemplo.com.br"], "cancelar-troca-de-email"), {})
    assert status == 200 and "cancelada" in html
    await _end_the_wait(session)
    assert (await login(client, ATTACKER, "Saude@2024"))[0] == 401
    assert await _email_of(session, MARIA["login"]) == "maria.santos@exemplo.com.br"


async def test_activation_never_replaces_the_email_on_file(client, outbox, session):
    """A link whose address is no longer the one on file (the e-mail changed meanwhile) does not
    activate, and cannot write its address over the one on file."""
    status, _ = await register(client, JOSE, None)
    assert status == 201
    activation = _link(_mails(outbox)["jose.oliveira@exemplo.com.br"], "ativar")
    await session.execute(
        update(Beneficiary).where(Beneficiary.card_number == JOSE["login"]).values(email="jose.atual@exemplo.com.br")
    )
    await session.commit()
    status, _ = await set_password(client, activation, "Oliveira#2025")
    assert status == 410
    assert await _email_of(session, JOSE["login"]) == "jose.atual@exemplo.com.br"


async def test_without_email_on_file_the_typed_address_confirms_itself(client, outbox, session):
    """Ana Clara has no e-mail on file (and no CPF): the activation link goes to the typed address,
    which becomes the e-mail on file only when the link is used."""
    status, body = await register(client, ANA_CLARA, "responsavel.ana@exemplo.com.br")
    assert status == 201 and body["email_masked"] == "r***@exemplo.com.br", body
    [(message, text)] = outbox()
    assert message["To"] == "responsavel.ana@exemplo.com.br"
    assert await _email_of(session, ANA_CLARA["login"]) is None
    assert (await set_password(client, _link([text], "ativar"), "Responsavel#2025"))[0] == 200
    assert await _email_of(session, ANA_CLARA["login"]) == "responsavel.ana@exemplo.com.br"
    link = (await session.execute(select(AccountLink))).scalar_one()
    assert link.used_at is not None
