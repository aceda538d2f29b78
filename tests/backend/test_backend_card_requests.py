"""POST/GET /api/card-requests: reasons as people say them, police report, family rules, one request
in progress per beneficiary, cancelled plan, listing with pt-BR statuses."""

from datetime import date, timedelta

import pytest
from backend_api import CARLOS, JOAO, JOSE, MARIA, call_with_verification, get_with_verification, stored_protocol
from sqlalchemy import select

from backend.card_requests import add_business_days
from backend.clock import local_today
from backend.models import CardRequest, Protocol
from common.card_reasons import CARD_REISSUE_REASONS, ROBBERY, normalize_reason


async def _post(client, persona: dict, **body) -> tuple[int, dict]:
    return await call_with_verification(client, "/api/card-requests", persona, **body)


async def _one(sessions, statement):
    """Reads in a short transaction (an open SQLite transaction would block the app's writes)."""
    async with sessions() as session:
        return (await session.execute(statement)).scalar_one()


async def _list(client, persona: dict) -> dict:
    status, body = await get_with_verification(client, "/api/card-requests", persona)
    assert status == 200
    return body


@pytest.mark.parametrize(
    "said, expected",
    [
        ("Danificação", "Danificação"),
        ("danificacao", "Danificação"),
        ("quebrou", "Danificação"),
        ("estragou", "Danificação"),
        ("EXTRAVIO", "Extravio"),
        ("perdi", "Extravio"),
        ("perdi minha carteirinha", "Extravio"),
        ("renovação", "Renovação"),
        ("venceu", "Renovação"),
        ("Roubo C/ B.O", "Roubo C/ B.O"),
        ("roubo com bo", "Roubo C/ B.O"),
        ("roubo com B.O.", "Roubo C/ B.O"),
        ("fui assaltado e fiz boletim de ocorrência", "Roubo C/ B.O"),
        ("Roubo S/ B.O", "Roubo S/ B.O"),
        ("roubo sem bo", "Roubo S/ B.O"),
        ("furto sem boletim", "Roubo S/ B.O"),
        ("roubaram minha bolsa", ROBBERY),
        ("qualquer coisa", None),
        ("", None),
    ],
)
def test_reason_normalisation(said, expected):
    assert normalize_reason(said) == expected


def test_robbery_with_a_report_number_is_with_report():
    assert normalize_reason("roubaram", police_report="BO 123/2025") == "Roubo C/ B.O"


def test_business_days_skip_weekends():
    assert add_business_days(date(2025, 3, 7), 15) == date(2025, 3, 28)  # Friday -> Friday, 3 weeks
    assert add_business_days(date(2025, 3, 8), 1) == date(2025, 3, 10)  # Saturday -> Monday


async def test_maria_sees_joaos_request_in_production(client, session):
    body = await _list(client, MARIA)
    [item] = body["requests"]
    assert item["beneficiary"]["name"] == "João Pedro Santos" and item["reason"] == "Extravio"
    assert (item["status"], item["status_label"]) == ("in_production", "em produção")
    # the seed's request, made five days ago by Maria (the holder) for João
    await stored_protocol(session, item["protocol"], "card_reissue", MARIA["login"], local_today() - timedelta(days=5))
    assert item["expected_by"]
    assert [m["name"] for m in body["members"]] == ["Maria Aparecida Santos", "João Pedro Santos", "Ana Clara Santos"]
    assert [m["role"] for m in body["members"]] == ["holder", "dependent", "dependent"]
    assert item["beneficiary"]["role_label"] == "dependente"
    assert item["in_progress"] is True


async def test_request_for_herself_then_duplicate_is_refused(client, sessions):
    status, body = await _post(client, MARIA, reason="quebrou", note="Chip rachado")
    assert status == 201, body
    async with sessions() as session:
        await stored_protocol(session, body["protocol"], "card_reissue", MARIA["login"])
    assert body["beneficiary"]["name"] == "Maria Aparecida Santos" and body["reason"] == "Danificação"
    assert (body["status"], body["status_label"], body["expected_days"]) == ("requested", "solicitada", 15)
    assert body["protocol"] in body["message"] and "15 dias úteis" in body["message"]
    due = date.fromisoformat(body["expected_by"])
    assert f"{due:%d/%m/%Y}" in body["message"] and due.weekday() < 5

    protocol = await _one(sessions, select(Protocol).where(Protocol.number == body["protocol"]))
    assert (protocol.kind, protocol.status, protocol.channel) == ("card_reissue", "open", "rest")
    stored = await _one(sessions, select(CardRequest).where(CardRequest.protocol_number == body["protocol"]))
    assert (stored.reason, stored.note, stored.police_report) == ("Danificação", "Chip rachado", None)

    listed = await _list(client, MARIA)
    assert listed["requests"][0]["protocol"] == body["protocol"]  # newest first
    assert len(listed["requests"]) == 2

    status, again = await _post(client, MARIA, reason="Extravio")
    assert status == 409
    assert again["error"]["code"] == "already_requested"
    assert again["error"]["protocol"] == body["protocol"] and again["error"]["status_label"] == "solicitada"
    assert again["error"]["request"]["status"] == "requested"
    assert body["protocol"] in again["error"]["message"]


async def test_joao_already_has_one_in_production(client):
    status, body = await _post(client, MARIA, beneficiary="100200300402", reason="perdi")
    assert status == 409
    assert body["error"]["code"] == "already_requested" and body["error"]["status_label"] == "em produção"
    assert "João Pedro Santos" in body["error"]["message"]


async def test_robbery_with_report_for_a_dependent_by_name(client, sessions):
    status, body = await _post(
        client, MARIA, beneficiary="ana clara", reason="roubo com bo", police_report="BO 4521/2025-SE"
    )
    assert status == 201, body
    assert body["beneficiary"]["card_number"] == "100200300403" and body["reason"] == "Roubo C/ B.O"
    stored = await _one(sessions, select(CardRequest).where(CardRequest.protocol_number == body["protocol"]))
    assert stored.police_report == "BO 4521/2025-SE"

    joao = await _list(client, JOAO)  # João sees only his own request, not his sister's
    assert [item["beneficiary"]["name"] for item in joao["requests"]] == ["João Pedro Santos"]
    assert [m["name"] for m in joao["members"]] == ["João Pedro Santos"]


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({"reason": "Roubo C/ B.O"}, "police_report", "número do boletim"),
        ({"reason": "roubo com bo", "police_report": "12"}, "police_report", "de 3 a 40"),
        ({"reason": "roubo com bo", "police_report": "x" * 41}, "police_report", "de 3 a 40"),
        ({"reason": "roubo com bo", "police_report": "<script>"}, "police_report", "só com letras"),
        ({"reason": "porque sim"}, "reason", "Danificação, Extravio"),
        ({}, "reason", "o motivo"),
        ({"reason": "perdi", "note": "a" * 301}, "note", "300"),
        ({"reason": "perdi", "beneficiary": "1234"}, "beneficiary", "12 dígitos"),
    ],
)
async def test_bad_input(client, body, field, words):
    status, answer = await _post(client, MARIA, **body)
    assert status == 400
    assert answer["error"]["code"] == "invalid_request" and field in answer["error"]["fields"]
    assert words in answer["error"]["fields"][field]


async def test_robbery_without_saying_about_the_report_asks(client):
    status, body = await _post(client, MARIA, reason="roubaram minha carteira")
    assert status == 400 and body["error"]["code"] == "reason_ambiguous"
    assert body["error"]["options"] == ["Roubo C/ B.O", "Roubo S/ B.O"]
    assert "B.O." in body["error"]["message"]


async def test_unknown_name_lists_the_family(client):
    status, body = await _post(client, MARIA, beneficiary="Pedro Álvares", reason="perdi")
    assert status == 400
    assert "Ana Clara Santos" in body["error"]["message"] and len(body["error"]["members"]) == 3


async def test_only_own_family(client):
    status, body = await _post(client, JOAO, beneficiary="100200300401", reason="perdi")
    assert status == 403 and body["error"]["code"] == "not_in_family"
    status, body = await _post(client, JOSE, beneficiary="100200300402", reason="perdi")
    assert status == 403


async def test_cancelled_plan(client):
    status, body = await _post(client, CARLOS, reason="perdi")
    assert status == 409 and body["error"]["code"] == "plan_cancelled"
    assert "cancelado" in body["error"]["message"] and "0800 888 9504" in body["error"]["message"]
    assert (await _list(client, CARLOS))["requests"] == []


async def test_needs_verification(client):
    response = await client.post(
        "/api/card-requests",
        json={"verification": "x" * 40, "reason": "perdi", "conversation_id": "c", "channel": "rest"},
    )
    assert response.status == 401
    response = await client.get("/api/card-requests")
    assert response.status == 401


async def test_every_reason_the_bot_offers_is_taken_as_it_is(client, sessions):
    """The bot offers common.card_reasons.CARD_REISSUE_REASONS as buttons: each is understood as it
    is, and only robbery with a police report asks for the report's number."""
    assert [normalize_reason(name) for name in CARD_REISSUE_REASONS] == list(CARD_REISSUE_REASONS)
    status, body = await _post(client, MARIA, reason="Roubo C/ B.O")
    assert status == 400 and list(body["error"]["fields"]) == ["police_report"]
    for name, persona in (("Renovação", MARIA), ("Roubo S/ B.O", JOSE)):
        status, body = await _post(client, persona, reason=name)
        assert status == 201 and (body["reason"], body["expected_days"]) == (name, 15)
        stored = await _one(sessions, select(CardRequest).where(CardRequest.protocol_number == body["protocol"]))
        assert (stored.reason, stored.police_report) == (name, None)
