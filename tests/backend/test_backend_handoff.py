"""Call-centre handoff (docs/handoff.md), backend side: the bot's POST /api/handoffs, the agent API
and the delivery through Rasa's HTTP API (a fake Rasa on loopback records the calls)."""

import asyncio
import dataclasses
import json
import re
import time
from datetime import datetime

import aiohttp
import pytest
from backend_api import MARIA, service_client, verify
from sqlalchemy import select

from backend.api import agent as agent_api
from backend.app import create_app
from backend.auth import issue_token
from backend.clock import OPERATOR_TZ, local_today
from backend.models import Agent, HandoffTicket, Protocol

pytestmark = pytest.mark.asyncio

IN_HOURS = datetime(2026, 3, 4, 10, 30, tzinfo=OPERATOR_TZ)  # a Wednesday morning
OUT_OF_HOURS = datetime(2026, 3, 7, 22, 0, tzinfo=OPERATOR_TZ)  # a Saturday night
TRANSCRIPT = [
    {"from": "user", "text": "quero pedir reembolso", "at": "2026-03-04T13:20:00Z"},
    {"from": "bot", "text": "Para confirmar, qual o seu CPF?", "at": "2026-03-04T13:20:01Z"},
    {"from": "user", "text": "945.807.302-24", "at": "2026-03-04T13:20:09Z"},
    {"from": "user", "text": "nasci em 12/03/1985, e-mail maria.santos@exemplo.com.br", "at": "2026-03-04T13:20:15Z"},
    {"from": "user", "text": "quero falar com um atendente", "at": "2026-03-04T13:20:30Z"},
]


@pytest.fixture
def hours(monkeypatch):
    """Sets the operator's local time the handoff sees (opening hours: Mon-Fri 8h-18h)."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr("backend.handoff.local_now", lambda: moment)

    set_now(IN_HOURS)
    return set_now


@pytest.fixture
async def api(settings, rasa, hours):
    async with service_client(create_app(dataclasses.replace(settings, rasa_url=rasa.url))) as client:
        yield client


async def agent_token(client, username="atendente", password="Atende@2024") -> str:
    response = await client.post("/api/agent/login", json={"username": username, "password": password})
    assert response.status == 200, await response.text()
    return (await response.json())["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def online_agent(client) -> str:
    """The demo agent logged in and seen (the console or the API marks an agent online)."""
    token = await agent_token(client)
    response = await client.get("/api/agent/me", headers=bearer(token))
    assert response.status == 200
    return token


async def hand_off(client, conversation_id="conversa-1", channel="whatsapp", **extra) -> tuple[int, dict]:
    body = {"conversation_id": conversation_id, "channel": channel, "reason": "pediu atendente", **extra}
    response = await client.post("/api/handoffs", json=body)
    return response.status, await response.json()


async def claim(client, token, ticket_id) -> tuple[int, dict]:
    response = await client.post(f"/api/agent/tickets/{ticket_id}/claim", headers=bearer(token))
    return response.status, await response.json()


# --- agent login and authorization -------------------------------------------------------------


async def test_agent_login_with_demo_agent_and_wrong_credentials(api):
    assert await agent_token(api)
    for username, password in (("atendente", "errada"), ("ninguem", "Atende@2024")):
        response = await api.post("/api/agent/login", json={"username": username, "password": password})
        assert response.status == 401
        assert (await response.json())["error"]["message"] == "Usuário ou senha incorretos."
    response = await api.post("/api/agent/login", json={"username": "atendente"})
    assert response.status == 400


async def test_agent_login_is_locked_after_repeated_failures(api):
    for _ in range(5):
        response = await api.post("/api/agent/login", json={"username": "atendente", "password": "errada"})
    assert response.status == 423
    assert "Retry-After" in response.headers
    response = await api.post("/api/agent/login", json={"username": "atendente", "password": "Atende@2024"})
    assert response.status == 423  # even the right password waits for the lock to end


async def test_agent_endpoints_need_an_agent_token(api):
    _, ticket = await hand_off(api)
    paths = [
        ("GET", "/api/agent/tickets?status=open"),
        ("GET", f"/api/agent/tickets/{ticket['ticket_id']}"),
        ("POST", f"/api/agent/tickets/{ticket['ticket_id']}/claim"),
        ("POST", f"/api/agent/tickets/{ticket['ticket_id']}/messages"),
        ("POST", f"/api/agent/tickets/{ticket['ticket_id']}/close"),
        ("GET", "/api/agent/events"),
        ("GET", "/api/agent/me"),
    ]
    login = await api.post("/api/auth/login", json={"login": "100200300401", "password": "Saude@2024"})
    beneficiary_token = (await login.json())["token"]  # a beneficiary's token is not an agent's
    for headers in ({}, bearer("nao-existe"), bearer(beneficiary_token)):
        for method, path in paths:
            response = await api.request(method, path, headers=headers, json={"text": "oi", "resolution": "ok"})
            assert response.status == 401, (method, path, headers)
            assert (await response.json())["error"]["code"] == "unauthorized"


# --- the bot's request --------------------------------------------------------------------------


async def test_handoff_gets_protocol_queue_place_and_masked_transcript(api, session):
    await online_agent(api)
    token = await verify(api, {**MARIA, "channel": "socketio"})
    status, body = await hand_off(api, MARIA["conversation_id"], "socketio", verification=token, transcript=TRANSCRIPT)
    assert status == 201, body
    assert re.fullmatch(rf"419010{local_today():%Y%m%d}\d{{6}}", body["protocol"])
    assert (body["position"], body["agents_online"], body["within_hours"]) == (1, True, True)
    assert body["pause"] is True and body["callback"] is False
    assert body["protocol"] in body["message"] and "próximo da fila" in body["message"]

    status, second = await hand_off(api, "conversa-2", "telegram")
    assert status == 201 and second["position"] == 2
    assert "posição 2 da fila (1 pessoa na sua frente)" in second["message"]

    ticket = (await session.execute(select(HandoffTicket).where(HandoffTicket.id == body["ticket_id"]))).scalar_one()
    stored = json.dumps(ticket.transcript, ensure_ascii=False)
    assert len(ticket.transcript) == 5 and ticket.transcript[0]["text"] == "quero pedir reembolso"
    for secret in ("945.807.302-24", "12/03/1985", "maria.santos@"):
        assert secret not in stored
    assert "***.807.302-**" in stored
    assert ticket.beneficiary_id is not None and ticket.channel == "socketio" and ticket.status == "open"
    protocol = (await session.execute(select(Protocol).where(Protocol.number == body["protocol"]))).scalar_one()
    assert (protocol.kind, protocol.conversation_id) == ("handoff", MARIA["conversation_id"])


async def test_repeated_handoff_returns_the_same_ticket(api):
    status, first = await hand_off(api)
    assert status == 201
    status, again = await hand_off(api, reason="de novo")
    assert status == 200
    assert (again["protocol"], again["ticket_id"], again["position"]) == (first["protocol"], first["ticket_id"], 1)


async def test_handoff_without_identity_or_with_expired_verification_still_works(api, session):
    status, body = await hand_off(api, verification="token-vencido")
    assert status == 201
    ticket = await session.get(HandoffTicket, body["ticket_id"])
    assert ticket.beneficiary_id is None
    await session.commit()  # SQLite: the test's read transaction would hold the app's writes
    status, body = await hand_off(api, "conversa-x", transcript="não é lista")
    assert status == 400 and "transcript" in body["error"]["fields"]


async def test_out_of_hours_and_nobody_online_mean_a_call_back(api, hours):
    hours(OUT_OF_HOURS)
    await online_agent(api)
    status, body = await hand_off(api, "conversa-noite")
    assert status == 201
    assert (body["within_hours"], body["callback"], body["pause"]) == (False, True, False)
    assert "0800 888 9504" in body["message"] and "de segunda a sexta, das 8h às 18h" in body["message"]
    assert "retornar" in body["message"]

    hours(IN_HOURS)
    await api.post("/api/agent/logout", headers=bearer(await agent_token(api)))
    status, body = await hand_off(api, "conversa-sem-atendente")
    assert (body["within_hours"], body["agents_online"], body["callback"]) == (True, False, True)
    assert "não há atendente" in body["message"] and "0800 888 9504" in body["message"]


# --- the agent's side ---------------------------------------------------------------------------


async def test_list_claim_and_reply_reaches_the_users_channel(api, rasa, session):
    token = await online_agent(api)
    _, ticket = await hand_off(api, "conversa-zap", "whatsapp")
    response = await api.get("/api/agent/tickets?status=open", headers=bearer(token))
    [listed] = (await response.json())["tickets"]
    assert {k: listed[k] for k in ("id", "protocol", "channel", "reason", "status")} == {
        "id": ticket["ticket_id"],
        "protocol": ticket["protocol"],
        "channel": "whatsapp",
        "reason": "pediu atendente",
        "status": "open",
    }
    assert listed["created_at"].endswith("+00:00") and listed["wait_seconds"] >= 0 and listed["position"] == 1

    status, claimed = await claim(api, token, ticket["ticket_id"])
    assert status == 200 and claimed["ticket"]["status"] == "in_progress"
    assert [e["event"] for e in rasa.events("conversa-zap")] == ["pause"]  # claiming pauses the bot (again)

    response = await api.post(
        f"/api/agent/tickets/{ticket['ticket_id']}/messages",
        headers=bearer(token),
        json={"text": "Olá, Maria! Sou a atendente. Como posso ajudar?"},
    )
    assert response.status == 201, await response.text()
    [call] = [c for c in rasa.calls_to("tracker/events") if c.query.get("execute_side_effects")]
    assert call.conversation_id == "conversa-zap"
    assert call.query == {"output_channel": "whatsapp", "execute_side_effects": "true"}
    assert call.body[0]["event"] == "bot" and call.body[0]["text"] == "Olá, Maria! Sou a atendente. Como posso ajudar?"

    # another agent cannot take it over
    other = Agent(username="outra", name="Outra Atendente", password_hash="x")
    session.add(other)
    await session.flush()
    other_token = issue_token(session, agent_id=other.id)
    await session.commit()
    status, body = await claim(api, other_token, ticket["ticket_id"])
    assert status == 409 and body["error"]["code"] == "ticket_taken"
    response = await api.post(
        f"/api/agent/tickets/{ticket['ticket_id']}/messages", headers=bearer(other_token), json={"text": "oi"}
    )
    assert response.status == 409


async def test_users_messages_while_paused_reach_the_agent_masked_once(api, rasa, monkeypatch):
    monkeypatch.setattr("backend.handoff.PULL_INTERVAL_S", 0)  # every read of the ticket reads Rasa again
    token = await online_agent(api)
    _, ticket = await hand_off(api, "conversa-web", "socketio")
    rasa.user_says("conversa-web", "isto foi antes da pausa")
    rasa.trackers["conversa-web"].append({"event": "pause", "timestamp": time.time()})  # the bot pauses
    rasa.user_says("conversa-web", "Oi, meu CPF é 945.807.302-24")
    rasa.user_says("conversa-web", "preciso do reembolso")
    await claim(api, token, ticket["ticket_id"])

    reads_before = len([c for c in rasa.calls if c.action == "tracker" and c.method == "GET"])
    for _ in range(2):  # reading again does not duplicate
        response = await api.get(f"/api/agent/tickets/{ticket['ticket_id']}", headers=bearer(token))
        detail = await response.json()
        user_texts = [m["text"] for m in detail["messages"] if m["from"] == "user"]
        assert user_texts == ["Oi, meu CPF é ***.807.302-**", "preciso do reembolso"]
        assert detail["ticket"]["messages"] == len(detail["messages"])
    reads = [c for c in rasa.calls if c.action == "tracker" and c.method == "GET"]
    assert len(reads) - reads_before == 2 and {c.conversation_id for c in reads} == {"conversa-web"}


async def test_close_resumes_the_bot_and_frees_the_conversation(api, rasa, session):
    token = await online_agent(api)
    _, ticket = await hand_off(api, "conversa-fim", "telegram")
    await claim(api, token, ticket["ticket_id"])
    response = await api.post(
        f"/api/agent/tickets/{ticket['ticket_id']}/close",
        headers=bearer(token),
        json={"resolution": "Reembolso explicado; cliente vai enviar os recibos."},
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["ticket"]["status"] == "closed"
    events = [(e["event"], e.get("name")) for e in rasa.events("conversa-fim")]
    assert events[:3] == [("pause", None), ("resume", None), ("action", "action_listen")]  # a fresh turn
    [trigger] = rasa.calls_to("trigger_intent")
    assert trigger.body["name"] == "atendimento_encerrado" and trigger.query == {"output_channel": "telegram"}

    closed = await session.get(HandoffTicket, ticket["ticket_id"])
    assert closed.resolution.startswith("Reembolso explicado") and closed.closed_at is not None
    protocol = (await session.execute(select(Protocol).where(Protocol.number == ticket["protocol"]))).scalar_one()
    assert protocol.status == "completed"
    await session.commit()
    listed = await (await api.get("/api/agent/tickets?status=open", headers=bearer(token))).json()
    assert listed["tickets"] == []
    response = await api.post(
        f"/api/agent/tickets/{ticket['ticket_id']}/messages", headers=bearer(token), json={"text": "mais uma"}
    )
    assert response.status == 409 and (await response.json())["error"]["code"] == "ticket_closed"

    status, again = await hand_off(api, "conversa-fim", "telegram")  # a new request: a new ticket
    assert status == 201 and again["protocol"] != ticket["protocol"]
    latest = (
        await session.execute(
            select(HandoffTicket)
            .where(HandoffTicket.conversation_id == "conversa-fim")
            .order_by(HandoffTicket.id.desc())
            .limit(1)
        )
    ).scalar_one()
    assert latest.protocol_number == again["protocol"] and latest.status == "open"


async def test_close_without_the_bots_resume_intent_sends_a_plain_message(api, rasa):
    rasa.intents.clear()
    token = await online_agent(api)
    _, ticket = await hand_off(api, "conversa-antiga", "whatsapp")
    await claim(api, token, ticket["ticket_id"])
    response = await api.post(
        f"/api/agent/tickets/{ticket['ticket_id']}/close", headers=bearer(token), json={"resolution": "resolvido"}
    )
    assert response.status == 200
    bot = [e for e in rasa.events("conversa-antiga") if e["event"] == "bot"]
    assert "posso ajudar em mais alguma coisa" in bot[-1]["text"] and ticket["protocol"] in bot[-1]["text"]


async def test_rasa_down_reply_is_not_lost_silently_and_close_can_be_retried(api, rasa, session):
    token = await online_agent(api)
    _, ticket = await hand_off(api, "conversa-falha", "whatsapp")
    await claim(api, token, ticket["ticket_id"])
    rasa.down = True
    response = await api.post(
        f"/api/agent/tickets/{ticket['ticket_id']}/messages", headers=bearer(token), json={"text": "Está me ouvindo?"}
    )
    assert response.status == 502 and (await response.json())["error"]["code"] == "message_not_delivered"
    response = await api.post(
        f"/api/agent/tickets/{ticket['ticket_id']}/close", headers=bearer(token), json={"resolution": "ok"}
    )
    assert response.status == 502
    assert (await session.get(HandoffTicket, ticket["ticket_id"])).status == "in_progress"
    await session.commit()
    detail = await (await api.get(f"/api/agent/tickets/{ticket['ticket_id']}", headers=bearer(token))).json()
    [sent] = [m for m in detail["messages"] if m["from"] == "agent"]
    assert sent["delivered"] is False

    rasa.down = False
    response = await api.post(
        f"/api/agent/tickets/{ticket['ticket_id']}/close", headers=bearer(token), json={"resolution": "ok"}
    )
    assert response.status == 200


async def test_ticket_shows_customer_context_without_full_cpf(api):
    token = await online_agent(api)
    verification = await verify(api, MARIA)
    _, ticket = await hand_off(api, MARIA["conversation_id"], "rest", verification=verification, transcript=TRANSCRIPT)
    response = await api.get(f"/api/agent/tickets/{ticket['ticket_id']}", headers=bearer(token))
    raw = await response.text()
    detail = json.loads(raw)
    context = detail["context"]
    assert context["name"] == "Maria Aparecida Santos" and context["cpf_masked"] == "***.807.302-**"
    assert context["plan"]["segmentation"] == "ambulatorial, hospitalar, obstetrícia"
    assert (context["relationship"], context["relationship_label"]) == ("holder", "titular")
    assert [fee["status"] for fee in context["open_fees"]] == ["overdue", "open"]
    assert context["open_fees"][0]["amount"].startswith("R$ ")
    assert ticket["protocol"] in [p["protocol"] for p in context["recent_protocols"]]
    assert len(detail["transcript"]) == 5
    for secret in ("945.807.302-24", "94580730224", "maria.santos@exemplo", "12/03/1985"):
        assert secret not in raw

    _, anonymous = await hand_off(api, "conversa-anonima")
    detail = await (await api.get(f"/api/agent/tickets/{anonymous['ticket_id']}", headers=bearer(token))).json()
    assert detail["context"] is None
    response = await api.get("/api/agent/tickets/99999", headers=bearer(token))
    assert response.status == 404 and (await response.json())["error"]["code"] == "ticket_not_found"


async def test_event_stream_pushes_the_queue_as_it_changes(api, monkeypatch):
    monkeypatch.setattr(agent_api, "EVENTS_INTERVAL_S", 0.1)
    token = await agent_token(api)
    # opened as the console's EventSource does: the token in the query, no Authorization header
    async with aiohttp.ClientSession() as browser:
        response = await browser.get(api.make_url("/api/agent/events"), params={"access_token": token})
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")

        async def next_queue() -> dict:
            while True:
                line = (await asyncio.wait_for(response.content.readline(), 5)).decode()
                if line.startswith("data: "):
                    return json.loads(line[6:])

        first = await next_queue()
        assert first["tickets"] == [] and first["agents_online"] == 1  # the open stream counts as online
        _, ticket = await hand_off(api, "conversa-ao-vivo", "whatsapp")
        second = await next_queue()
        [listed] = second["tickets"]
        assert listed["protocol"] == ticket["protocol"] and listed["position"] == 1 and "wait_seconds" in listed
        response.close()


@pytest.mark.parametrize(
    "moment, expected",
    [
        (datetime(2026, 3, 4, 8, 0, tzinfo=OPERATOR_TZ), True),  # Wednesday, opening minute
        (datetime(2026, 3, 4, 17, 59, tzinfo=OPERATOR_TZ), True),
        (datetime(2026, 3, 4, 18, 0, tzinfo=OPERATOR_TZ), False),  # closes at 18h
        (datetime(2026, 3, 4, 7, 59, tzinfo=OPERATOR_TZ), False),
        (datetime(2026, 3, 8, 10, 0, tzinfo=OPERATOR_TZ), False),  # Sunday
    ],
)
async def test_opening_hours_of_the_demo_operator(moment, expected):
    from backend.handoff import within_hours
    from backend.operator_profile import load_profile

    assert within_hours(load_profile("demo").opening_hours, moment) is expected


async def test_conversation_ids_reach_rasa_as_they_are():
    """Rasa's router does not unquote path parameters: "whatsapp:+55..." must not become %3A%2B."""
    from yarl import URL

    from backend.rasa_client import RasaClient

    client = RasaClient("http://rasa:5005")
    url = URL(client._url("whatsapp:+5579998110077", "tracker"))
    assert url.raw_path == "/conversations/whatsapp:+5579998110077/tracker"
    assert URL(client._url("a/b c", "tracker")).raw_path == "/conversations/a%2Fb%20c/tracker"
