"""Reimbursements: documents (a file the channel handed over, attached by id: type by content, size,
per-conversation ownership), the request
(provider CPF/CNPJ, date, amount, documents, protocol and deadline, no duplicates), status and history."""

import asyncio
import hashlib
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from backend_api import CARLOS, JOSE, MARIA, stored_protocol, verify
from PIL import Image
from sqlalchemy import func, select, update

from backend.clock import local_today
from backend.models import (
    Beneficiary,
    FileBlob,
    Protocol,
    Reimbursement,
    ReimbursementDocument,
    ReimbursementStatusChange,
)
from backend.uploads import read_stored

pytestmark = pytest.mark.asyncio

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
CNPJ_ALPHANUMERIC = "12.ABC.345/01DE-35"
JOAO_CARD = "100200300402"
MARIA_CARD = "100200300401"


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 180, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


def headers(token: str, persona: dict) -> dict:
    return {"X-Verification": token, "X-Conversation-Id": persona["conversation_id"]}


async def upload(
    client, token, persona, content: bytes, filename="recibo.pdf", kind="receipt", content_type="application/pdf"
):
    """What a user's file goes through: the channel hands it to the backend (POST /api/inbound-files,
    for the persona's conversation), the action attaches it by id. The status and body of the step
    that refused it, or of the attachment."""
    response = await client.post(
        "/api/inbound-files",
        data=content,
        params={"filename": filename},
        headers={"X-Conversation-Id": persona["conversation_id"], "X-Channel": "rest", "Content-Type": content_type},
    )
    received = await response.json()
    if response.status != 201:
        return response.status, received
    body = {"file_id": received["id"]} if kind is None else {"file_id": received["id"], "kind": kind}
    response = await client.post("/api/reimbursement-documents", json=body, headers=headers(token, persona))
    return response.status, await response.json()


def request_body(token: str, persona: dict, document_ids: list[int], **changes) -> dict:
    today = local_today()
    body = {
        "verification": token,
        "conversation_id": persona["conversation_id"],
        "channel": "rest",
        "provider_name": "Clínica Bem Viver",
        "provider_document": CNPJ_ALPHANUMERIC,
        "service_date": f"{today - timedelta(days=10):%d/%m/%Y}",
        "description": "Consulta com cardiologista",
        "amount": "R$ 1.250,00",
        "document_ids": document_ids,
    }
    body.update(changes)
    return body


async def submit(client, body: dict):
    response = await client.post("/api/reimbursements", json=body)
    return response.status, await response.json()


async def one(sessions, statement):
    """Short transactions: on SQLite every transaction holds the write lock (BEGIN IMMEDIATE)."""
    async with sessions() as session:
        return (await session.execute(statement)).unique().scalar_one()


async def every(sessions, statement):
    async with sessions() as session:
        return (await session.execute(statement)).unique().scalars().all()


async def nothing_stored(settings, sessions) -> bool:
    """No stored bytes, and nothing on the backend's disk."""
    blobs = await one(sessions, select(func.count()).select_from(FileBlob))
    return blobs == 0 and not (settings.var_dir / "uploads").exists()


async def receipt(client, token, persona=MARIA) -> int:
    status, body = await upload(client, token, persona, PDF)
    assert status == 201, body
    return body["id"]


# --- documents ------------------------------------------------------------------------------------


async def test_pdf_and_jpeg_are_stored_under_a_random_key_with_their_hash(client, settings, sessions):
    token = await verify(client, MARIA)
    status, pdf = await upload(client, token, MARIA, PDF, filename="../../recibo consulta.pdf")
    assert status == 201, pdf
    assert pdf["kind"] == "receipt" and pdf["content_type"] == "application/pdf" and pdf["size"] == len(PDF)
    assert pdf["filename"] == "recibo consulta.pdf"
    photo = jpeg()
    # the claimed type is ignored: the content decides
    status, image = await upload(
        client, token, MARIA, photo, filename="nota.png", kind="invoice", content_type="image/png"
    )
    assert status == 201, image
    assert image["content_type"] == "image/jpeg" and image["filename"] == "nota.jpg"
    assert image["pending_count"] == 2

    rows = await every(sessions, select(ReimbursementDocument).order_by(ReimbursementDocument.id))
    assert [(row.conversation_id, row.reimbursement_id) for row in rows] == [(MARIA["conversation_id"], None)] * 2
    for row, content in zip(rows, (PDF, photo), strict=True):
        async with sessions() as session:
            assert await read_stored(session, row.storage_path) == content  # the bytes the channel handed over
        assert row.sha256 == hashlib.sha256(content).hexdigest()
        assert "recibo" not in row.storage_path and "nota" not in row.storage_path
    assert not (settings.var_dir / "uploads").exists()  # in the database, not on the backend's disk

    response = await client.get("/api/reimbursement-documents", headers=headers(token, MARIA))
    assert [item["id"] for item in (await response.json())["documents"]] == [pdf["id"], image["id"]]


async def test_an_executable_renamed_pdf_is_refused_and_nothing_is_kept(client, settings, sessions):
    token = await verify(client, MARIA)
    status, body = await upload(client, token, MARIA, EXE, filename="recibo.pdf")
    assert status == 415, body
    assert body["error"]["code"] == "unsupported_type" and "PDF" in body["error"]["message"]
    assert await one(sessions, select(func.count()).select_from(ReimbursementDocument)) == 0
    assert await nothing_stored(settings, sessions)


async def test_a_file_over_10_mb_is_refused_with_413(client, settings, sessions):
    token = await verify(client, MARIA)
    too_big = PDF + b"0" * (10 * 1024 * 1024)
    status, body = await upload(client, token, MARIA, too_big)
    assert status == 413, body
    assert body["error"]["code"] == "file_too_large" and "10 MB" in body["error"]["message"]
    assert await nothing_stored(settings, sessions)


async def test_a_file_of_exactly_10_mb_is_accepted(client):
    token = await verify(client, MARIA)
    status, body = await upload(client, token, MARIA, PDF + b"0" * (10 * 1024 * 1024 - len(PDF)))
    assert status == 201, body
    assert body["size"] == 10 * 1024 * 1024


async def test_upload_needs_a_verified_conversation_and_a_known_kind(client):
    status, body = await upload(client, "token-falso", MARIA, PDF)
    assert status == 401 and body["error"]["code"] == "verification_invalid"
    token = await verify(client, MARIA)
    status, body = await upload(client, token, MARIA, PDF, kind="boleto")
    assert status == 400 and "kind" in body["error"]["fields"]
    response = await client.post(
        "/api/reimbursement-documents", json={"kind": "receipt"}, headers=headers(token, MARIA)
    )
    assert response.status == 400 and "file_id" in (await response.json())["error"]["fields"]
    status, body = await upload(client, token, MARIA, PDF, kind=None)  # the kind defaults to "other"
    assert status == 201 and body["kind"] == "other"


async def test_at_most_ten_pending_documents_per_conversation(client):
    token = await verify(client, MARIA)
    for _ in range(10):
        assert (await upload(client, token, MARIA, PDF))[0] == 201
    status, body = await upload(client, token, MARIA, PDF)
    assert status == 409 and body["error"]["code"] == "too_many_documents"
    assert body["error"]["limit"] == 10
    assert body["error"]["message"].startswith("Você já enviou 10 documentos nesta conversa, que é o máximo")
    listed = await (await client.get("/api/reimbursement-documents", headers=headers(token, MARIA))).json()
    response = await client.delete(
        f"/api/reimbursement-documents/{listed['documents'][0]['id']}", headers=headers(token, MARIA)
    )
    assert response.status == 204
    assert (await upload(client, token, MARIA, PDF))[0] == 201


async def test_documents_of_another_conversation_cannot_be_attached(client, sessions):
    maria_token = await verify(client, MARIA)
    document_id = await receipt(client, maria_token)
    jose_token = await verify(client, JOSE)
    status, body = await submit(client, request_body(jose_token, JOSE, [document_id]))
    assert status == 422 and body["error"]["code"] == "documents_invalid"
    assert body["error"]["unknown_ids"] == [document_id]
    # nor by Maria herself from another conversation
    other = {**MARIA, "conversation_id": "outra-conversa-da-maria"}
    other_token = await verify(client, other)
    status, body = await submit(client, request_body(other_token, other, [document_id]))
    assert status == 422 and body["error"]["code"] == "documents_invalid"
    response = await client.delete(f"/api/reimbursement-documents/{document_id}", headers=headers(jose_token, JOSE))
    assert response.status == 404
    assert (await response.json())["error"] == {
        "code": "document_not_found",
        "message": "Não encontrei esse documento entre os enviados nesta conversa.",
    }
    row = await one(sessions, select(ReimbursementDocument).where(ReimbursementDocument.id == document_id))
    assert row.reimbursement_id is None


# --- the request ----------------------------------------------------------------------------------


async def test_maria_requests_a_reimbursement_with_an_alphanumeric_cnpj(client, sessions):
    token = await verify(client, MARIA)
    receipt_id = await receipt(client, token)
    status, report = await upload(
        client, token, MARIA, jpeg(), filename="laudo.jpg", kind="report", content_type="image/jpeg"
    )
    assert status == 201
    status, body = await submit(client, request_body(token, MARIA, [receipt_id, report["id"]]))
    assert status == 201, body
    async with sessions() as session:
        await stored_protocol(session, body["protocol"], "reimbursement", MARIA["login"])
    assert body["status"] == "received" and body["status_label"] == "recebido" and body["duplicate"] is False
    due = local_today() + timedelta(days=30)
    assert body["answer_due_on"] == due.isoformat() and body["answer_due_on_text"] == f"{due:%d/%m/%Y}"
    assert "R$ 1.250,00" in body["summary"] and "12.ABC.345/01DE-35" in body["summary"]
    assert body["protocol"] in body["summary"] and "Maria Aparecida Santos" in body["summary"]
    item = body["reimbursement"]
    assert [document["id"] for document in item["documents"]] == [receipt_id, report["id"]]
    assert [step["label"] for step in item["history"]] == ["recebido"]

    row = await one(sessions, select(Reimbursement).where(Reimbursement.protocol_number == body["protocol"]))
    assert (row.provider_document, row.amount_requested, row.status) == (
        "12ABC34501DE35",
        Decimal("1250.00"),
        "received",
    )
    protocol = await one(sessions, select(Protocol).where(Protocol.number == body["protocol"]))
    assert (protocol.kind, protocol.channel) == ("reimbursement", "rest")
    # the documents now belong to the request: no longer pending, cannot be reused
    pending = await (await client.get("/api/reimbursement-documents", headers=headers(token, MARIA))).json()
    assert pending["documents"] == []


async def test_a_provider_who_is_a_person_is_identified_by_cpf_and_shown_masked(client):
    token = await verify(client, MARIA)
    status, body = await submit(
        client,
        request_body(
            token, MARIA, [await receipt(client, token)], provider_document="529.982.247-25", amount="150 reais"
        ),
    )
    assert status == 201, body
    assert body["reimbursement"]["provider_document"] == "***.982.247-**"
    assert body["reimbursement"]["amount_requested"] == "150.00"
    assert "52998224725" not in str(body)


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("provider_document", "12.ABC.345/01DE-36", "dígitos verificadores"),
        ("provider_document", "11.222.333/0001-82", "dígitos verificadores"),
        ("provider_document", "529.982.247-24", "CPF não é válido"),
        ("service_date", "tomorrow", "Não entendi"),
        ("amount", "R$ 0,00", "maior que zero"),
        ("amount", "R$ 100.000,01", "R$ 100.000,00"),
        ("description", "x", "pelo menos 3"),
        ("description", "a" * 301, "máximo de 300"),
        ("provider_name", "", "Informe o nome"),
    ],
)
async def test_bad_fields_get_a_pt_br_message_per_field(client, field, value, says):
    token = await verify(client, MARIA)
    status, body = await submit(client, request_body(token, MARIA, [1], **{field: value}))
    assert status == 400, body
    assert says in body["error"]["fields"][field]


async def test_a_future_date_of_service_is_refused(client):
    token = await verify(client, MARIA)
    tomorrow = local_today() + timedelta(days=1)
    status, body = await submit(client, request_body(token, MARIA, [1], service_date=f"{tomorrow:%d/%m/%Y}"))
    assert status == 400 and "futuro" in body["error"]["fields"]["service_date"]


async def test_a_service_13_months_old_is_refused_and_one_of_11_months_accepted(client):
    token = await verify(client, MARIA)
    today = local_today()
    old = today - timedelta(days=396)
    status, body = await submit(client, request_body(token, MARIA, [1], service_date=old.isoformat()))
    assert status == 400 and "12 meses" in body["error"]["fields"]["service_date"]
    recent = today - timedelta(days=335)
    status, body = await submit(
        client, request_body(token, MARIA, [await receipt(client, token)], service_date=recent.isoformat())
    )
    assert status == 201, body


async def test_a_receipt_or_invoice_is_required(client, sessions):
    token = await verify(client, MARIA)
    status, body = await submit(client, request_body(token, MARIA, []))
    assert status == 422 and body["error"]["code"] == "documents_required"
    status, report = await upload(client, token, MARIA, PDF, filename="laudo.pdf", kind="report")
    status, body = await submit(client, request_body(token, MARIA, [report["id"]]))
    assert status == 422 and body["error"]["code"] == "documents_required"
    assert "recibo ou a nota fiscal" in body["error"]["message"]
    assert await one(sessions, select(func.count()).select_from(Reimbursement)) == 3  # the seeded


async def test_a_repeated_request_returns_the_first_protocol(client, sessions):
    token = await verify(client, MARIA)
    status, first = await submit(client, request_body(token, MARIA, [await receipt(client, token)]))
    assert status == 201
    # same beneficiary, provider document (typed another way), date and amount (typed another way)
    status, again = await submit(
        client,
        request_body(token, MARIA, [await receipt(client, token)], provider_document="12abc34501de35", amount="1250"),
    )
    assert status == 200, again
    assert again["duplicate"] is True and again["protocol"] == first["protocol"]
    count = await one(
        sessions,
        select(func.count()).select_from(Reimbursement).where(Reimbursement.provider_document == "12ABC34501DE35"),
    )
    assert count == 1
    # another amount is another request
    status, other = await submit(client, request_body(token, MARIA, [await receipt(client, token)], amount="99,90"))
    assert status == 201 and other["protocol"] != first["protocol"]


async def test_simultaneous_repeated_submits_create_one_request(client, sessions):
    token = await verify(client, MARIA)
    ids = [await receipt(client, token), await receipt(client, token)]
    results = await asyncio.gather(*(submit(client, request_body(token, MARIA, [document_id])) for document_id in ids))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 201], results
    assert results[0][1]["protocol"] == results[1][1]["protocol"]
    count = await one(
        sessions,
        select(func.count()).select_from(Reimbursement).where(Reimbursement.provider_document == "12ABC34501DE35"),
    )
    assert count == 1


async def test_holder_requests_for_a_dependent_and_the_dependent_cannot_for_the_holder(client, sessions):
    token = await verify(client, MARIA)
    status, body = await submit(
        client, request_body(token, MARIA, [await receipt(client, token)], beneficiary=JOAO_CARD)
    )
    assert status == 201, body
    assert body["reimbursement"]["beneficiary"] == {"name": "João Pedro Santos", "card_number": JOAO_CARD}
    row = await one(sessions, select(Reimbursement).where(Reimbursement.protocol_number == body["protocol"]))
    joao = await one(sessions, select(Beneficiary).where(Beneficiary.card_number == JOAO_CARD))
    assert row.beneficiary_id == joao.id and row.requested_by_id == joao.holder_id

    joao_persona = {
        "login": JOAO_CARD,
        "cpf": "157.368.193-84",
        "birth_date": "30/07/2012",
        "channel": "rest",
        "conversation_id": "conversa-joao",
    }
    joao_token = await verify(client, joao_persona)
    status, body = await submit(
        client,
        request_body(
            joao_token, joao_persona, [await receipt(client, joao_token, joao_persona)], beneficiary=MARIA_CARD
        ),
    )
    assert status == 403 and body["error"]["code"] == "not_in_family"


async def test_cancelled_plan_gets_an_explanation(client):
    token = await verify(client, CARLOS)
    status, body = await upload(client, token, CARLOS, PDF)
    assert status == 409 and body["error"]["code"] == "plan_cancelled"
    status, body = await submit(client, request_body(token, CARLOS, [1]))
    assert status == 409 and body["error"]["code"] == "plan_cancelled"
    assert "cancelado" in body["error"]["message"] and "0800 888 9504" in body["error"]["message"]


async def test_expired_verification_is_refused(client):
    status, body = await submit(client, request_body("expirado", MARIA, [1]))
    assert status == 401 and body["error"]["code"] == "verification_invalid"


# --- status -----------------------------------------------------------------------------------------


async def test_maria_sees_her_seeded_requests_newest_first_with_history(client):
    token = await verify(client, MARIA)
    response = await client.get("/api/reimbursements", headers=headers(token, MARIA))
    assert response.status == 200
    items = (await response.json())["reimbursements"]
    assert [item["provider_name"] for item in items] == [
        "Fisio Movimento Aracaju",
        "Dermacare Aracaju",
        "Endoclínica Aracaju",  # last year's, paid: the income-tax statement's example
    ]
    analysis, paid, last_year = items
    assert last_year["status"] == "paid" and last_year["service_date"][:4] == str(local_today().year - 1)
    assert (analysis["status"], analysis["status_label"]) == ("under_analysis", "em análise")
    assert [step["label"] for step in analysis["history"]] == ["recebido", "em análise"]
    assert analysis["amount_requested_text"] == "R$ 180,00" and analysis["amount_paid"] is None
    assert (paid["status_label"], paid["amount_paid_text"]) == ("pago", "R$ 240,00")
    assert [step["label"] for step in paid["history"]] == ["recebido", "em análise", "pago"]
    assert paid["paid_on"] == paid["history"][-1]["date"]
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", paid["history"][0]["date_text"])

    response = await client.get(f"/api/reimbursements?beneficiary={MARIA_CARD}", headers=headers(token, MARIA))
    assert response.status == 200 and (await response.json())["reimbursements"] == items


async def test_pending_and_denied_show_what_is_missing_and_why(client, sessions):
    token = await verify(client, MARIA)
    [analysis, paid, _] = (await (await client.get("/api/reimbursements", headers=headers(token, MARIA))).json())[
        "reimbursements"
    ]
    row = await one(sessions, select(Reimbursement).where(Reimbursement.protocol_number == analysis["protocol"]))
    async with sessions() as session:
        session.add(
            ReimbursementStatusChange(
                reimbursement_id=row.id, status="pending", note="Falta o pedido médico da fisioterapia."
            )
        )
        await session.execute(update(Reimbursement).where(Reimbursement.id == row.id).values(status="pending"))
        await session.commit()
    listed = (await (await client.get("/api/reimbursements", headers=headers(token, MARIA))).json())["reimbursements"]
    [item] = [listed_item for listed_item in listed if listed_item["protocol"] == analysis["protocol"]]
    assert item["status_label"] == "pendente de documentação"
    assert item["status_note"] == "Falta o pedido médico da fisioterapia."
    assert item["history"][-1]["note"] == "Falta o pedido médico da fisioterapia."


async def test_joao_sees_only_his_own_requests(client):
    maria_token = await verify(client, MARIA)
    status, body = await submit(
        client,
        request_body(
            maria_token,
            MARIA,
            [await receipt(client, maria_token)],
            beneficiary=JOAO_CARD,
            provider_document="529.982.247-25",
        ),
    )
    assert status == 201
    joao_protocol = body["protocol"]
    maria_items = (await (await client.get("/api/reimbursements", headers=headers(maria_token, MARIA))).json())[
        "reimbursements"
    ]
    assert len(maria_items) == 4 and maria_items[0]["protocol"] == joao_protocol
    only_joao = (
        await (
            await client.get(f"/api/reimbursements?beneficiary={JOAO_CARD}", headers=headers(maria_token, MARIA))
        ).json()
    )["reimbursements"]
    assert [item["protocol"] for item in only_joao] == [joao_protocol]

    joao = {
        "login": JOAO_CARD,
        "cpf": "157.368.193-84",
        "birth_date": "30/07/2012",
        "channel": "rest",
        "conversation_id": "conversa-joao",
    }
    joao_token = await verify(client, joao)
    response = await client.get("/api/reimbursements", headers=headers(joao_token, joao))
    items = (await response.json())["reimbursements"]
    assert [item["protocol"] for item in items] == [joao_protocol]
    assert maria_items[1]["protocol"] not in [item["protocol"] for item in items]  # his mother's stay hers
    response = await client.get(f"/api/reimbursements?beneficiary={MARIA_CARD}", headers=headers(joao_token, joao))
    assert response.status == 403


async def test_jose_sees_none_and_no_one_without_verification(client):
    token = await verify(client, JOSE)
    response = await client.get("/api/reimbursements", headers=headers(token, JOSE))
    assert (await response.json())["reimbursements"] == []
    response = await client.get("/api/reimbursements")
    assert response.status == 401
