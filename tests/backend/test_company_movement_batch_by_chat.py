"""Movements by file, the file sent through the chat: the channel hands it to POST /api/inbound-files
(the upload policy takes CSV and XLSX), the action sends POST /api/company/movements/batches
{"file_id"} with the conversation's headers; the file of another conversation is not found, a photo or
PDF is no spreadsheet, and a refused file stays where it was."""

from __future__ import annotations

import pytest
from company_support import login_headers
from sqlalchemy import func, select
from test_company_movement_batch import BRUNO_LINE, csv_file, row, xlsx_file
from test_company_movements import PAULO, person

from backend.models import CompanyMovementBatch, FileBlob, InboundFile

pytestmark = pytest.mark.asyncio

CONVERSATION = "whatsapp:+5579998110099"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NOT_FOUND = "Não encontrei esse arquivo nesta conversa. Envie a planilha de novo."


@pytest.fixture
async def fernanda(client):
    """The company user, in the WhatsApp conversation the files come from."""
    return {**await login_headers(client), "X-Channel": "whatsapp", "X-Conversation-Id": CONVERSATION}


async def hand_over(client, content: bytes, filename: str, conversation: str = CONVERSATION, channel="whatsapp"):
    """What the channel does with the file the user sent: the inbound file's view."""
    response = await client.post(
        "/api/inbound-files",
        data=content,
        params={"filename": filename},
        headers={"X-Channel": channel, "X-Conversation-Id": conversation, "Content-Type": "application/octet-stream"},
    )
    body = await response.json()
    assert response.status == 201, body
    return body


async def process(client, headers, file_id):
    """What the action does with the id the channel passed it."""
    response = await client.post("/api/company/movements/batches", json={"file_id": file_id}, headers=headers)
    return response.status, await response.json()


async def count(session, model) -> int:
    found = (await session.execute(select(func.count()).select_from(model))).scalar_one()
    await session.commit()
    return found


async def test_a_csv_sent_in_the_chat_is_processed_under_a_protocol_and_used_once(client, session, fernanda):
    changed = row(tipo="alteracao", carteirinha=PAULO, nome_mae="Sônia Maria Dias Lima")
    received = await hand_over(client, csv_file([BRUNO_LINE, changed], encoding="cp1252"), "movimentação.csv")
    assert (received["content_type"], received["filename"]) == ("text/csv", "movimentação.csv")
    status, body = await process(client, fernanda, received["id"])
    assert status == 201, body
    assert body["counts"] == {"inclusion": 1, "data_change": 1} and body["refused_lines"] == 0
    assert body["protocol"].isdigit() and body["protocol"] in body["message"]
    assert (body["file_format"], body["filename"]) == ("csv", "movimentação.csv")
    assert (await person(session, "500100000301")).name == "Bruno Almeida"
    assert (await person(session, PAULO)).mother_name == "Sônia Maria Dias Lima"
    # the file served once: its row and its bytes went with the batch
    assert await count(session, InboundFile) == 0 and await count(session, FileBlob) == 0
    status, again = await process(client, fernanda, received["id"])
    assert (status, again["error"]) == (404, {"code": "inbound_file_not_found", "message": NOT_FOUND})
    assert await count(session, CompanyMovementBatch) == 1


async def test_an_xlsx_sent_in_the_chat_is_processed(client, fernanda):
    received = await hand_over(client, xlsx_file([BRUNO_LINE]), "lote.xlsx")
    assert (received["content_type"], received["filename"]) == (XLSX_TYPE, "lote.xlsx")
    status, body = await process(client, fernanda, received["id"])
    assert status == 201, body
    assert (body["file_format"], body["counts"], body["applied_lines"]) == ("xlsx", {"inclusion": 1}, 1)


@pytest.mark.parametrize(
    ("conversation", "channel"),
    [("whatsapp:+5579998110000", "whatsapp"), (CONVERSATION, "telegram")],
    ids=["another-conversation", "another-channel"],
)
async def test_the_file_of_another_conversation_is_not_found_and_stays(
    client, session, fernanda, conversation, channel
):
    received = await hand_over(client, csv_file([BRUNO_LINE]), "movimentacao.csv", conversation, channel)
    status, body = await process(client, fernanda, received["id"])
    assert (status, body["error"]) == (404, {"code": "inbound_file_not_found", "message": NOT_FOUND})
    assert await count(session, InboundFile) == 1 and await count(session, CompanyMovementBatch) == 0
    for unknown in ("nao-existe", received["id"] + "x"):
        status, body = await process(client, fernanda, unknown)
        assert (status, body["error"]["code"]) == (404, "inbound_file_not_found")
    without = {key: value for key, value in fernanda.items() if key != "X-Conversation-Id"}
    status, body = await process(client, without, received["id"])
    assert (status, body["error"]["code"]) == (404, "inbound_file_not_found")


async def test_a_pdf_is_no_spreadsheet_and_stays_for_its_own_use(client, session, fernanda):
    received = await hand_over(client, PDF, "recibo.pdf")
    status, body = await process(client, fernanda, received["id"])
    assert (status, body["error"]["code"]) == (415, "not_a_spreadsheet"), body
    assert "CSV ou XLSX" in body["error"]["message"]
    assert await count(session, InboundFile) == 1 and await count(session, FileBlob) == 1


async def test_a_spreadsheet_refused_whole_is_not_used_up(client, session, fernanda):
    received = await hand_over(client, b"nome;cpf\r\nBruno;65028319405\r\n", "planilha.csv")
    status, body = await process(client, fernanda, received["id"])
    assert (status, body["error"]["code"]) == (400, "batch_columns_missing"), body
    assert await count(session, InboundFile) == 1 and await count(session, CompanyMovementBatch) == 0


async def test_a_json_body_needs_the_file_id(client, fernanda):
    for body in ({}, {"file_id": ""}, {"file_id": "x" * 65}):
        response = await client.post("/api/company/movements/batches", json=body, headers=fernanda)
        answer = await response.json()
        assert response.status == 400 and "file_id" in answer["error"]["fields"], answer


async def test_the_file_id_needs_the_company_credential(client):
    received = await hand_over(client, csv_file([BRUNO_LINE]), "movimentacao.csv")
    headers = {"X-Channel": "whatsapp", "X-Conversation-Id": CONVERSATION}
    status, body = await process(client, headers, received["id"])
    assert (status, body["error"]["code"]) == (401, "company_unauthorized")
