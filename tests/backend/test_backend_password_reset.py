"""POST /api/identity/verifications + /api/password-resets: identity check, temporary password by
e-mail, refusals, lockout."""

import logging
import re
from datetime import timedelta

import pytest
from backend_api import request_password_reset as _reset
from backend_api import stored_protocol
from sqlalchemy import select, update

from backend.clock import utcnow
from backend.models import Account, Beneficiary, IdentityAttempt, IdentityVerification, Protocol

pytestmark = pytest.mark.asyncio
TEMP_PASSWORD_RE = re.compile(r"Sua senha temporária é: (\S+)")


async def test_happy_path_for_maria(client, maria, outbox, session, caplog, masked_log):
    caplog.set_level(logging.DEBUG)
    status, body = await _reset(client, maria)
    assert status == 201, body
    await stored_protocol(session, body["protocol"], "password_reset", maria["login"])
    assert body["email_masked"] == "m***@exemplo.com.br"

    [(message, text)] = outbox()
    assert message["To"] == "maria.santos@exemplo.com.br"
    assert "senha temporária" in message["Subject"] and body["protocol"] in text
    assert "0800 888 9504" in text
    password = TEMP_PASSWORD_RE.search(text).group(1)
    assert password not in str(body)

    response = await client.post("/api/auth/login", json={"login": maria["login"], "password": password})
    assert response.status == 200
    assert (await response.json())["must_change_password"] is True
    old = await client.post("/api/auth/login", json={"login": maria["login"], "password": "Saude@2024"})
    assert old.status == 401

    assert "temporary password sent" in masked_log.getvalue()
    raw = caplog.text + "".join(str(vars(record)) for record in caplog.records)
    assert password not in raw and password not in masked_log.getvalue()
    assert "94580730224" not in masked_log.getvalue() and "maria.santos@" not in masked_log.getvalue()

    protocol = (await session.execute(select(Protocol).where(Protocol.number == body["protocol"]))).scalar_one()
    assert (protocol.kind, protocol.status, protocol.channel) == ("password_reset", "completed", "rest")
    account = (
        await session.execute(
            select(Account)
            .join(Beneficiary, Account.beneficiary_id == Beneficiary.id)
            .where(Beneficiary.card_number == maria["login"])
        )
    ).scalar_one()
    assert account.must_change_password and account.password_hash.startswith("$2b$12$")


async def test_reset_with_email_as_login_and_masked_cpf_and_br_date(client, maria, outbox):
    maria.update(login="Maria.Santos@exemplo.com.br", cpf="94580730224", birth_date="12/03/1985")
    status, body = await _reset(client, maria)
    assert status == 201, body
    assert len(outbox()) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"cpf": "157.368.193-84"},  # a valid CPF, but João's
        {"birth_date": "1985-03-13"},
        {"login": "999999999999"},  # unknown card
        {"login": "ninguem@exemplo.com.br"},  # unknown e-mail
    ],
)
async def test_same_answer_whatever_does_not_match(client, maria, outbox, change):
    status, body = await _reset(client, {**maria, **change})
    assert status == 401
    assert body["error"]["code"] == "identity_not_confirmed"
    assert body["error"]["attempts_left"] == 4
    assert body["error"]["message"].startswith("Não consegui confirmar seus dados")
    assert outbox() == []


async def test_five_failures_lock_even_the_right_data(client, maria, session):
    wrong = {**maria, "birth_date": "1985-03-13"}
    answers = [await _reset(client, wrong) for _ in range(5)]
    assert [status for status, _ in answers] == [401, 401, 401, 401, 423]
    assert [body["error"].get("attempts_left") for _, body in answers[:4]] == [4, 3, 2, 1]
    status, body = await _reset(client, maria)
    assert status == 423
    assert body["error"]["code"] == "identity_locked" and 25 <= body["error"]["retry_after_minutes"] <= 30

    await session.execute(update(IdentityAttempt).values(created_at=IdentityAttempt.created_at - timedelta(minutes=31)))
    await session.commit()
    status, body = await _reset(client, maria)
    assert status == 201, body


async def test_lock_is_per_login_key(client, maria):
    for _ in range(5):
        await _reset(client, {**maria, "cpf": "157.368.193-84", "conversation_id": "other"})
    status, _ = await _reset(client, {**maria, "login": "maria.santos@exemplo.com.br"})
    assert status == 201


async def test_conversation_rate_limit(client):
    jose = {
        "login": "200300400501",
        "cpf": "036.426.212-52",
        "birth_date": "1960-08-14",
        "conversation_id": "busy-conversation",
    }
    statuses = [(await _reset(client, jose))[0] for _ in range(10)]
    assert statuses == [409] * 10
    status, body = await _reset(client, jose)
    assert status == 429 and body["error"]["code"] == "too_many_attempts"
    status, _ = await _reset(client, {**jose, "conversation_id": "another-conversation"})
    assert status == 409


@pytest.mark.parametrize(
    "body, code",
    [
        ({"login": "300400500601", "cpf": "997.220.033-72", "birth_date": "1992-02-02"}, "no_email_on_file"),
        ({"login": "400500600701", "cpf": "224.538.323-01", "birth_date": "1978-09-19"}, "plan_cancelled"),
        ({"login": "200300400501", "cpf": "036.426.212-52", "birth_date": "1960-08-14"}, "no_account"),
    ],
)
async def test_refusals_after_identity_is_confirmed(client, outbox, body, code):
    status, answer = await _reset(client, body)
    assert status == 409
    assert answer["error"]["code"] == code
    assert outbox() == []


async def test_refusal_messages_point_to_the_right_phone(client):
    _, answer = await _reset(client, {"login": "300400500601", "cpf": "99722003372", "birth_date": "02/02/1992"})
    assert "(79) 3218-4331" in answer["error"]["message"]


async def test_malformed_fields(client):
    status, body = await _reset(client, {"login": "12345", "cpf": "111.111.111-11", "birth_date": "31/02/1990"})
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert set(body["error"]["fields"]) == {"login", "cpf", "birth_date"}
    status, body = await _reset(client, {})
    assert body["error"]["fields"]["cpf"] == "Informe o CPF."


async def test_mail_failure_keeps_the_old_password(client, maria, monkeypatch):
    from backend.mail import MailError

    async def fail(*args, **kwargs):
        raise MailError("smtp down")

    monkeypatch.setattr("backend.password_reset.send_temporary_password", fail)
    status, body = await _reset(client, maria)
    assert status == 503 and body["error"]["code"] == "email_not_sent"
    response = await client.post("/api/auth/login", json={"login": maria["login"], "password": "Saude@2024"})
    assert response.status == 200


async def test_verification_token_is_bound_to_its_conversation_and_expires(client, maria, session, outbox):
    response = await client.post("/api/identity/verifications", json=maria)
    assert response.status == 201
    verified = await response.json()
    assert verified["first_name"] == "Maria" and verified["expires_in_minutes"] == 15
    assert set(verified) == {
        "token",
        "expires_in_minutes",
        "first_name",
        "email_masked",
        "has_account",
        "plan_active",
        "dependents",
        "scope",
    }  # nothing unmasked
    assert (
        verified["email_masked"],
        verified["has_account"],
        verified["plan_active"],
        verified["dependents"],
        verified["scope"],
    ) == ("m***@exemplo.com.br", True, True, 2, "full")

    async def reset(**body):
        response = await client.post("/api/password-resets", json=body)
        return response.status, await response.json()

    status, body = await reset(verification=verified["token"], conversation_id="someone-else")
    assert (status, body["error"]["code"]) == (401, "verification_invalid")
    status, body = await reset(verification="not-a-token", conversation_id=maria["conversation_id"])
    assert (status, body["error"]["code"]) == (401, "verification_invalid")
    status, body = await reset(conversation_id=maria["conversation_id"])
    assert (status, body["error"]["code"]) == (400, "invalid_request")

    await session.execute(update(IdentityVerification).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    status, body = await reset(verification=verified["token"], conversation_id=maria["conversation_id"])
    assert (status, body["error"]["code"]) == (401, "verification_invalid")
    assert outbox() == []
    stored = (await session.execute(select(IdentityVerification.token_hash))).scalars().all()
    assert verified["token"] not in stored  # only its hash is kept
