"""The chat's check of a company user: user code + CNPJ -> a one-time code by e-mail -> the code
in the same conversation -> a verification bound to (channel, conversation). Wrong, expired and
locked codes; the same answer whether or not the data matched; never the password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from company_support import CNPJ, DIEGO_CODE, GROUP_CNPJ, ask_code, codes, last_code, verified_headers, verify
from sqlalchemy import select

from backend.clock import utcnow
from backend.models import CompanyLoginCode

pytestmark = pytest.mark.asyncio


async def test_a_code_goes_to_the_email_on_file_and_verifies_the_conversation(client, outbox, session):
    response = await ask_code(client, user_code="rh500101", cnpj="33445566000186")
    assert response.status == 202
    body = await response.json()
    assert body["expires_in_minutes"] == 10 and "e-mail cadastrado" in body["message"]
    ((message, text),) = outbox()
    assert message["To"] == "rh@horizonte.exemplo.com.br"
    code = last_code(outbox)
    assert "10 minutos" in text and "Construtora Horizonte Ltda" in text
    stored = (await session.execute(select(CompanyLoginCode))).scalar_one()
    await session.commit()  # end the read (SQLite: the test's transaction would block the app's)
    assert code not in stored.code_hash and len(stored.code_hash) == 64  # an HMAC, never the code
    response = await verify(client, code)
    assert response.status == 201
    verified = await response.json()
    assert verified["user"]["user_code"] == "RH500101" and verified["user"]["role"] == "admin"
    assert verified["company"]["code"] == "500100" and verified["expires_in_minutes"] == 15
    headers = {"X-Company-Verification": verified["token"], "X-Conversation-Id": "conversa-rh", "X-Channel": "rest"}
    company = await client.get("/api/company", headers=headers)
    assert company.status == 200 and (await company.json())["company"]["name"] == "Construtora Horizonte Ltda"


async def test_a_code_serves_once(client, outbox):
    await ask_code(client)
    code = last_code(outbox)
    assert (await verify(client, code)).status == 201
    again = await verify(client, code)
    assert again.status == 401 and (await again.json())["error"]["code"] == "company_code_invalid"


@pytest.mark.parametrize(
    "user_code, cnpj",
    [
        ("RH999999", CNPJ),  # unknown user
        ("RH500101", GROUP_CNPJ),  # a real CNPJ, but of another company
    ],
)
async def test_asking_answers_the_same_whether_or_not_the_data_matched(client, outbox, user_code, cnpj):
    right = await (await ask_code(client, conversation="c1")).json()
    wrong = await ask_code(client, user_code=user_code, cnpj=cnpj, conversation="c2")
    assert wrong.status == 202 and await wrong.json() == right
    assert len(outbox()) == 1  # only the right one sent anything


@pytest.mark.parametrize("cnpj", ["33.445.566/0001-87", "123", "12.ABC.345/01DE-36"])
async def test_an_invalid_cnpj_is_refused_before_anything(client, outbox, cnpj):
    response = await ask_code(client, cnpj=cnpj)
    assert response.status == 400 and "cnpj" in (await response.json())["error"]["fields"]
    assert outbox() == []


async def test_a_wrong_code_says_how_many_attempts_are_left(client, outbox):
    await ask_code(client)
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    response = await verify(client, wrong)
    assert response.status == 401
    error = (await response.json())["error"]
    assert error == {
        "code": "company_code_invalid",
        "message": "O código não confere. Confira o e-mail mais recente e digite os 6 números de novo.",
        "attempts_left": 4,
    }
    assert (await verify(client, code)).status == 201  # the right one still works


async def test_five_wrong_codes_lock_and_void_the_code(client, outbox):
    await ask_code(client)
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    statuses = [(await verify(client, wrong)).status for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    response = await verify(client, code)  # even the right code, now
    assert response.status == 423
    error = (await response.json())["error"]
    assert error["code"] == "company_code_locked" and "Tente de novo" in error["message"]
    assert response.headers["Retry-After"]
    assert 25 <= error["retry_after_minutes"] <= 30


async def test_the_lock_is_per_user_code_across_conversations(client, outbox):
    """Rotating conversations does not give a guesser more attempts on one user."""
    for number in range(5):
        await verify(client, "123456", conversation=f"conversa-{number}")
    await ask_code(client, conversation="conversa-nova")
    response = await verify(client, last_code(outbox), conversation="conversa-nova")
    assert response.status == 423


async def test_an_expired_code_is_refused_with_a_clear_message(client, outbox, monkeypatch):
    await ask_code(client)
    code = last_code(outbox)
    later = utcnow() + timedelta(minutes=10, seconds=1)
    monkeypatch.setattr("backend.company.identity.utcnow", lambda: later)
    response = await verify(client, code)
    assert response.status == 410
    assert (await response.json())["error"] == {
        "code": "company_code_expired",
        "message": "Esse código venceu: ele vale por 10 minutos. Peça um novo código.",
    }


async def test_a_code_just_inside_ten_minutes_works(client, outbox, monkeypatch):
    await ask_code(client)
    code = last_code(outbox)
    later = utcnow() + timedelta(minutes=9, seconds=50)
    monkeypatch.setattr("backend.company.identity.utcnow", lambda: later)
    assert (await verify(client, code)).status == 201


async def test_a_new_code_voids_the_previous_one(client, outbox):
    await ask_code(client)
    first = last_code(outbox)
    await ask_code(client)
    second = (codes(outbox) - {first} or {first}).pop()
    if first != second:
        assert (await verify(client, first)).status == 401
    assert (await verify(client, second)).status == 201


async def test_the_code_serves_only_the_conversation_that_asked_for_it(client, outbox):
    await ask_code(client, conversation="conversa-rh")
    code = last_code(outbox)
    assert (await verify(client, code, conversation="conversa-intrusa")).status == 401
    assert (await verify(client, code, channel="whatsapp")).status == 401
    assert (await verify(client, code)).status == 201


async def test_the_verification_is_bound_to_its_channel_and_conversation(client, outbox):
    headers = await verified_headers(client, outbox)
    assert (await client.get("/api/company", headers=headers)).status == 200
    for other in ({"X-Conversation-Id": "outra"}, {"X-Channel": "whatsapp"}):
        response = await client.get("/api/company", headers={**headers, **other})
        assert response.status == 401 and (await response.json())["error"]["code"] == "company_unauthorized"


async def test_the_verification_expires_when_idle(client, outbox, monkeypatch):
    headers = await verified_headers(client, outbox)
    later = utcnow() + timedelta(minutes=16)
    monkeypatch.setattr("backend.company.auth.utcnow", lambda: later)
    assert (await client.get("/api/company", headers=headers)).status == 401


async def test_a_user_without_portal_access_can_still_verify_in_the_chat(client, outbox):
    """The chat's check never uses the password: Diego (no password yet) gets his code."""
    headers = await verified_headers(client, outbox, user_code=DIEGO_CODE, conversation="conversa-dp")
    body = await (await client.get("/api/company", headers=headers)).json()
    assert body["user"]["role"] == "user"


async def test_the_conversation_cannot_ask_codes_endlessly(client, outbox):
    statuses = [(await ask_code(client)).status for _ in range(6)]
    assert statuses == [202] * 5 + [429]
    assert len(outbox()) == 5


async def test_concurrent_wrong_codes_lock_exactly_at_the_limit(client, outbox):
    """Each check is counted before it is made, in one statement: 7 guesses at once, 4 get 'wrong'
    and the rest 'locked'."""
    import asyncio

    await ask_code(client)
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    responses = await asyncio.gather(*(verify(client, wrong) for _ in range(7)))
    assert sorted(r.status for r in responses) == [401] * 4 + [423] * 3
    assert (await verify(client, code)).status == 423
