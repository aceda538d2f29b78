"""Abuse resistance (backend.rate_limits): counters in the database counted before the check, the
login lockout reserved before bcrypt, the identity check's limits per person, conversation and
globally, HMAC keys, the client's address, handoff and e-mail limits, idempotent resets and
registrations. Every scenario runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

import asyncio
import dataclasses
import hashlib
import hmac
from datetime import timedelta

import bcrypt
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from backend_api import JOSE, MARIA, links_in, register, request_password_reset, verify
from sqlalchemy import func, select, update

import backend.auth
from backend.app import create_app
from backend.models import Account, AccountLink, Beneficiary, HandoffTicket, IdentityAttempt, Protocol, RateLimit
from backend.rate_limits import REPEAT_WINDOW, DataKeys, RateLimited, Rule, client_address, count, hit, try_again_text

MARIA_CARD, MARIA_CPF = "100200300401", "94580730224"


def _retry_answer(response, body) -> int:
    """A 429/423 says, in the header and in pt-BR, when to try again."""
    seconds = int(response.headers["Retry-After"])
    assert seconds > 0 and body["error"]["retry_after_minutes"] >= 1
    assert "Tente de novo daqui a" in body["error"]["message"]
    return seconds


async def _age(session, by: timedelta) -> None:
    """Moves every counter, protocol and link back in time by `by` (SQLite keeps datetimes as
    text, so this is done row by row)."""
    from backend.models import EmailChange

    for model, columns in (
        (RateLimit, ("window_start", "expires_at")),
        (Protocol, ("created_at",)),
        (AccountLink, ("created_at",)),
        (EmailChange, ("requested_at",)),
    ):
        for row in (await session.execute(select(model))).scalars():
            for column in columns:
                setattr(row, column, getattr(row, column) - by)
    await session.commit()


# --- the counter ---------------------------------------------------------------------------------


async def test_counter_counts_before_checking_even_concurrently(sessions):
    """20 concurrent hits, each in its own session and transaction: totals 1..20, exactly the
    limit passes (a read-then-write counter would let more through)."""
    keys, rule = DataKeys(b"k" * 32), Rule("test.concurrent", 7, timedelta(minutes=5), "Muitos pedidos.")

    async def one() -> bool:
        async with sessions() as session:
            try:
                await hit(session, keys, rule, "alguém")
                return True
            except RateLimited:
                return False
            finally:
                await session.commit()

    passed = await asyncio.gather(*(one() for _ in range(20)))
    assert sum(passed) == 7
    async with sessions() as session:
        [row] = (await session.execute(select(RateLimit))).scalars().all()
        assert row.hits == 20 and row.bucket == keys.key("rate:test.concurrent", "alguém")


async def test_window_starts_again_after_it_ends(session):
    counted = await count(session, "b" * 64, timedelta(minutes=5))
    await session.commit()
    assert counted.hits == 1
    assert (await count(session, "b" * 64, timedelta(minutes=5))).hits == 2
    await session.commit()
    later = counted.window_start + timedelta(minutes=5, seconds=1)
    again = await count(session, "b" * 64, timedelta(minutes=5), now=later)
    await session.commit()
    assert (again.hits, again.window_start) == (1, later)


def test_try_again_text_is_pt_br():
    from datetime import datetime

    now = datetime(2026, 3, 4, 15, 0)  # naive UTC: 12h00 in Brasília
    assert try_again_text(12 * 60, now) == "Tente de novo daqui a 12 minutos (a partir das 12h12)."
    assert try_again_text(30, now) == "Tente de novo daqui a 1 minuto (a partir das 12h00)."
    assert try_again_text(24 * 3600, now) == "Tente de novo daqui a cerca de 24 horas (a partir de 05/03 às 12h00)."


# --- identity check -------------------------------------------------------------------------------


async def test_rotating_card_numbers_with_one_cpf_is_limited(client):
    """With Maria's CPF and birth date, each made-up card is a new login with its own lockout;
    the person's limit stops the guessing at 10 failures an hour — then even the right card waits."""
    statuses = []
    for n in range(10):
        response = await client.post(
            "/api/identity/verifications",
            json={**MARIA, "login": f"9{n:02d}200300401", "conversation_id": f"rotating-{n}"},
        )
        statuses.append(response.status)
    assert statuses == [401] * 10
    response = await client.post(
        "/api/identity/verifications", json={**MARIA, "login": "900000000001", "conversation_id": "rotating-x"}
    )
    body = await response.json()
    assert (response.status, body["error"]["code"]) == (429, "too_many_attempts")
    _retry_answer(response, body)
    response = await client.post("/api/identity/verifications", json={**MARIA, "conversation_id": "rotating-y"})
    assert response.status == 429


async def test_successes_do_not_use_up_the_persons_limit(client):
    for n in range(12):
        await verify(client, {**MARIA, "conversation_id": f"legit-{n}"})


async def test_global_ceiling(client, monkeypatch):
    monkeypatch.setattr(
        "backend.identity.IDENTITY_GLOBAL",
        Rule("identity.global", 3, timedelta(minutes=1), "Estamos recebendo pedidos demais agora."),
        raising=False,
    )
    for n in range(3):
        await verify(client, {**JOSE, "conversation_id": f"global-{n}"})
    response = await client.post("/api/identity/verifications", json={**MARIA, "conversation_id": "global-x"})
    body = await response.json()
    assert response.status == 429 and body["error"]["message"].startswith("Estamos recebendo pedidos demais agora.")
    _retry_answer(response, body)


async def test_concurrent_guesses_on_one_login_reach_the_check_five_times(client, session):
    """The lockout read and the failure written are one step per login (its counter row is held):
    10 concurrent wrong guesses record exactly 5 failures; the others meet the lock."""
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/identity/verifications",
                json={**MARIA, "birth_date": f"{n + 1:02d}/01/1985", "conversation_id": f"guess-{n}"},
            )
            for n in range(10)
        )
    )
    assert sorted(r.status for r in responses) == [401] * 4 + [423] * 6
    failures = (
        await session.execute(
            select(func.count()).select_from(IdentityAttempt).where(IdentityAttempt.succeeded.is_(False))
        )
    ).scalar_one()
    assert failures == 5


async def test_keys_are_hmacs_never_bare_hashes(client, session, settings):
    response = await client.post("/api/identity/verifications", json={**MARIA, "birth_date": "01/01/1990"})
    assert response.status == 401
    [attempt] = (await session.execute(select(IdentityAttempt))).scalars().all()
    assert attempt.key != hashlib.sha256(f"card:{MARIA_CARD}".encode()).hexdigest()
    assert attempt.key == DataKeys(settings.data_hmac_secret).key("identity-attempt", "card", MARIA_CARD)
    buckets = set((await session.execute(select(RateLimit.bucket))).scalars())
    assert len(buckets) >= 3
    for value in (MARIA_CPF, MARIA_CARD, f"cpf:{MARIA_CPF}", f"card:{MARIA_CARD}"):
        assert hashlib.sha256(value.encode()).hexdigest() not in buckets
        assert all(value not in bucket for bucket in buckets)
    other = DataKeys(b"another secret")
    assert other.key("identity-attempt", "card", MARIA_CARD) != attempt.key


# --- the app's login ------------------------------------------------------------------------------


async def test_concurrent_wrong_logins_lock_exactly_at_the_limit(client, monkeypatch, session):
    """8 concurrent wrong passwords: the lockout is reserved before bcrypt, so exactly 5 reach
    bcrypt; 4 answer 401 and the one that locks plus the 3 refused outright answer 423."""
    checked = []
    real = backend.auth.verify_password

    async def counting(password, password_hash):
        checked.append(password)
        return await real(password, password_hash)

    monkeypatch.setattr("backend.auth.verify_password", counting)
    wrong = {"login": MARIA_CARD, "password": "Errada@123"}
    responses = await asyncio.gather(*(client.post("/api/auth/login", json=wrong) for _ in range(8)))
    assert sorted(r.status for r in responses) == [401] * 4 + [423] * 4
    assert len(checked) == 5
    for response in responses:
        if response.status == 423:
            _retry_answer(response, await response.json())
    right = await client.post("/api/auth/login", json={"login": MARIA_CARD, "password": "Saude@2024"})
    assert right.status == 423 and len(checked) == 5
    account = (
        await session.execute(
            select(Account)
            .join(Beneficiary, Account.beneficiary_id == Beneficiary.id)
            .where(Beneficiary.card_number == MARIA_CARD)
        )
    ).scalar_one()
    assert account.locked_until is not None and account.failed_logins == 0


async def test_login_is_limited_per_client_address(settings, monkeypatch):
    """X-Forwarded-For is believed only from a trusted proxy: a client rotating it gets nowhere.
    (The login is public: these clients carry no service credential.)"""
    monkeypatch.setattr(
        "backend.auth.LOGIN_PER_ADDRESS",
        Rule("login.address", 3, timedelta(minutes=15), "Foram muitas tentativas de entrar a partir da sua rede."),
        raising=False,
    )

    async def attempts(client, n: int, prefix: str) -> list[int]:
        statuses = []
        for i in range(n):
            response = await client.post(
                "/api/auth/login",
                json={"login": f"{prefix}{i}@exemplo.com.br", "password": "x"},
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
            )
            statuses.append(response.status)
            if response.status == 429:
                body = await response.json()
                _retry_answer(response, body)
                assert "rede" in body["error"]["message"]
        return statuses

    async with TestClient(TestServer(create_app(settings))) as client:  # 127.0.0.1 is not a trusted proxy
        assert await attempts(client, 5, "a") == [401, 401, 401, 429, 429]
    trusting = dataclasses.replace(settings, trusted_proxies=("127.0.0.1",))
    async with TestClient(TestServer(create_app(trusting))) as client:  # behind our proxy: one bucket per client
        assert await attempts(client, 5, "b") == [401] * 5


async def test_login_is_limited_per_login(client):
    statuses = [
        (await client.post("/api/auth/login", json={"login": "ninguem@exemplo.com.br", "password": "x"})).status
        for _ in range(11)
    ]
    assert statuses == [401] * 10 + [429]


def test_client_address():
    def address(remote, forwarded=None, trusted=()):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return client_address(
            make_mocked_request("POST", "/api/auth/login", headers=headers).clone(remote=remote), trusted
        )

    assert address("198.51.100.7", "1.2.3.4") == "198.51.100.7"  # not a proxy: the header is ignored
    assert address("10.0.0.2", "1.2.3.4, 203.0.113.9", ("10.0.0.0/8",)) == "203.0.113.9"
    assert address("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.5", ("10.0.0.0/8",)) == "203.0.113.9"
    assert address("10.0.0.2", "lixo", ("10.0.0.0/8",)) == "10.0.0.2"
    assert address("10.0.0.2", None, ("10.0.0.0/8",)) == "10.0.0.2"


# --- handoffs -------------------------------------------------------------------------------------


async def _handoff(client, conversation_id: str):
    response = await client.post("/api/handoffs", json={"conversation_id": conversation_id, "channel": "rest"})
    return response, await response.json()


async def test_new_handoff_tickets_per_conversation(client, session):
    """Asking again while a ticket is open costs nothing; a 4th new ticket within the hour is refused."""
    for _ in range(3):
        response, body = await _handoff(client, "insistente")
        assert response.status == 201, body
        assert (await _handoff(client, "insistente"))[0].status == 200  # the same open ticket
        await session.execute(update(HandoffTicket).values(status="closed"))
        await session.commit()
    response, body = await _handoff(client, "insistente")
    assert response.status == 429 and "0800 888 9504" in body["error"]["message"]
    _retry_answer(response, body)
    assert (await _handoff(client, "outra-conversa"))[0].status == 201


async def test_handoff_global_ceiling(client, monkeypatch):
    monkeypatch.setattr(
        "backend.handoff.HANDOFF_GLOBAL",
        Rule("handoff.global", 2, timedelta(minutes=10), "A fila de atendimento recebeu pedidos demais agora."),
        raising=False,
    )
    assert [(await _handoff(client, f"fila-{n}"))[0].status for n in range(3)] == [201, 201, 429]


# --- password resets: idempotent, committed first, limited ----------------------------------------


async def test_double_submitted_reset_sends_one_email_with_one_protocol(client, outbox):
    token = await verify(client, MARIA)
    body = {"verification": token, "channel": "rest", "conversation_id": MARIA["conversation_id"]}
    responses = await asyncio.gather(*(client.post("/api/password-resets", json=body) for _ in range(2)))
    answers = [await response.json() for response in responses]
    assert [response.status for response in responses] == [201, 201], answers
    assert answers[0]["protocol"] == answers[1]["protocol"]
    assert sorted(answer["repeated"] for answer in answers) == [False, True]
    assert len(outbox()) == 1


async def test_the_temporary_password_works_before_its_email_leaves(client, sessions, monkeypatch, outbox):
    from backend.mail import send_temporary_password

    seen = []

    async def check_then_send(mailer, operator, to, first_name, password, protocol):
        async with sessions() as other:  # what any other process sees at this moment
            stored = (
                await other.execute(
                    select(Account.password_hash)
                    .join(Beneficiary, Account.beneficiary_id == Beneficiary.id)
                    .where(Beneficiary.card_number == MARIA_CARD)
                )
            ).scalar_one()
            status = (await other.execute(select(Protocol.status).where(Protocol.number == protocol))).scalar_one()
        seen.append((bcrypt.checkpw(password.encode(), stored.encode()), status))
        await send_temporary_password(mailer, operator, to, first_name, password, protocol)

    monkeypatch.setattr("backend.password_reset.send_temporary_password", check_then_send)
    status, body = await request_password_reset(client, MARIA)
    assert status == 201, body
    assert seen == [(True, "completed")] and len(outbox()) == 1


async def test_resets_are_limited_per_beneficiary(client, outbox, session):
    protocols = []
    for n in range(3):
        status, body = await request_password_reset(client, {**MARIA, "conversation_id": f"reset-{n}"})
        assert status == 201 and not body.get("repeated"), body
        protocols.append(body["protocol"])
        await _age(session, REPEAT_WINDOW + timedelta(seconds=1))
    assert len(set(protocols)) == 3 and len(outbox()) == 3
    token = await verify(client, {**MARIA, "conversation_id": "reset-4"})
    response = await client.post(
        "/api/password-resets", json={"verification": token, "channel": "rest", "conversation_id": "reset-4"}
    )
    body = await response.json()
    assert (response.status, body["error"]["code"]) == (429, "rate_limited")
    _retry_answer(response, body)
    assert len(outbox()) == 3


# --- registration: idempotent and limited ---------------------------------------------------------


async def test_double_submitted_registration_sends_one_email(client, outbox, session):
    token = await verify(client, JOSE)
    body = {"verification": token, "channel": "rest", "conversation_id": JOSE["conversation_id"]}
    responses = await asyncio.gather(*(client.post("/api/registrations", json=body) for _ in range(3)))
    answers = [await response.json() for response in responses]
    assert [response.status for response in responses] == [201] * 3, answers
    assert len({answer["protocol"] for answer in answers}) == 1
    assert sorted(answer["repeated"] for answer in answers) == [False, True, True]
    [(message, text)] = outbox()
    assert message["To"] == "jose.oliveira@exemplo.com.br" and len(links_in(text)) == 1
    assert (await session.execute(select(func.count()).select_from(AccountLink))).scalar_one() == 1


async def test_activation_emails_are_limited(client, outbox, session):
    for n in range(3):
        status, body = await register(client, {**JOSE, "conversation_id": f"cadastro-{n}"}, None)
        assert status == 201 and not body.get("repeated"), body
        await _age(session, REPEAT_WINDOW + timedelta(seconds=1))
    status, body = await register(client, {**JOSE, "conversation_id": "cadastro-4"}, None)
    assert (status, body["error"]["code"]) == (429, "rate_limited")
    assert "Tente de novo daqui a" in body["error"]["message"]
    assert len(outbox()) == 3


async def test_handmade_hmac_matches(sqlite_settings):
    settings = sqlite_settings  # no database involved
    keys = DataKeys(settings.data_hmac_secret)
    expected = hmac.new(settings.data_hmac_secret, b"rate:x\x1fy", hashlib.sha256).hexdigest()
    assert keys.key("rate:x", "y") == expected
