"""POST /api/inbound-files: the channels hand the backend every file a user sends (type by content,
size limit, the upload policy's codes and texts), bound to the conversation it came from (channel +
sender id) and kept in the database (backend.uploads), never on the backend's disk; an action attaches
it by id to a reimbursement (POST /api/reimbursement-documents {"file_id"}) — only from that
conversation, only once, only before it expires, and only a document: a spreadsheet is refused there
and stays for the company's movements (tests/backend/test_company_movement_batch_by_chat.py)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from backend_api import JOSE, MARIA, verify
from openpyxl import Workbook
from sqlalchemy import func, select, update

import backend.uploads
from backend.api.errors import STATUS_BY_CODE
from backend.clock import utcnow
from backend.inbound_files import INBOUND_FILE_TTL, MAX_WAITING_FILES
from backend.models import FileBlob, InboundFile, ReimbursementDocument
from backend.retention import purge
from backend.uploads import read_stored
from common.uploads import MAX_UPLOAD_BYTES, REFUSAL_STATUS, REFUSAL_TEXTS

pytestmark = pytest.mark.asyncio

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
RECEIPT = "receipt"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "tipo;cpf;nome\r\ninclusao;650.283.194-05;João da Conceição\r\n".encode("cp1252")  # as Excel saves it


def xlsx() -> bytes:
    book = Workbook()
    book.active.append(["tipo", "cpf"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx_like() -> bytes:
    """A zip that is an Office file but no workbook."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


async def receive(
    client,
    content,
    *,
    channel: str | None = "rest",
    conversation_id: str = MARIA["conversation_id"],
    filename: str | None = "recibo.pdf",
    content_type: str = "application/pdf",
    headers: dict | None = None,
):
    """What a channel does with a file a user sent."""
    sent = {"X-Conversation-Id": conversation_id, "Content-Type": content_type, **(headers or {})}
    if channel is not None:
        sent["X-Channel"] = channel
    params = {"filename": filename} if filename is not None else None
    response = await client.post("/api/inbound-files", data=content, params=params, headers=sent)
    return response.status, await response.json()


async def attach(client, token: str, file_id: str, persona: dict = MARIA, kind: str = RECEIPT, channel: str = "rest"):
    """What the action does with the id the channel passed it."""
    headers = {"X-Verification": token, "X-Conversation-Id": persona["conversation_id"], "X-Channel": channel}
    response = await client.post(
        "/api/reimbursement-documents", json={"file_id": file_id, "kind": kind}, headers=headers
    )
    return response.status, await response.json()


async def rows(sessions, model):
    async with sessions() as session:
        return (await session.execute(select(model))).scalars().all()


async def stored(sessions, key: str) -> bytes | None:
    async with sessions() as session:
        return await read_stored(session, key)


async def nothing_kept(settings, sessions) -> bool:
    """No stored bytes, and nothing on the backend's disk."""
    return await rows(sessions, FileBlob) == [] and not (settings.var_dir / "uploads").exists()


# --- receiving ------------------------------------------------------------------------------------


async def test_a_file_is_stored_with_its_conversation_and_gets_an_opaque_id(client, settings, sessions):
    status, body = await receive(
        client, PDF, channel="whatsapp", conversation_id="whatsapp:+5579998110001", filename="../../recibo março.pdf"
    )
    assert status == 201, body
    assert set(body) == {"id", "filename", "content_type", "size"}
    assert (body["filename"], body["content_type"], body["size"]) == ("recibo março.pdf", "application/pdf", len(PDF))
    assert len(body["id"]) >= 24 and body["id"].replace("-", "").replace("_", "").isalnum()
    [row] = await rows(sessions, InboundFile)
    assert (row.id, row.channel, row.conversation_id) == (body["id"], "whatsapp", "whatsapp:+5579998110001")
    assert await stored(sessions, row.storage_path) == PDF and row.sha256 == hashlib.sha256(PDF).hexdigest()
    assert "recibo" not in row.storage_path  # a random key; the user's name is only in the row
    assert not (settings.var_dir / "uploads").exists()  # in the database, not on this backend's disk
    # a second file of the same conversation gets another id
    status, other = await receive(client, PDF, channel="whatsapp", conversation_id="whatsapp:+5579998110001")
    assert status == 201 and other["id"] != body["id"]


async def test_the_type_comes_from_the_bytes_and_names_the_file(client):
    status, body = await receive(client, PNG, filename="nota.jpg", content_type="image/jpeg")
    assert status == 201, body
    assert (body["content_type"], body["filename"]) == ("image/png", "nota.png")
    status, body = await receive(client, PDF, filename=None, content_type="application/octet-stream")
    assert status == 201 and body["filename"] == "documento.pdf"


@pytest.mark.parametrize(
    ("content", "content_type", "filename", "expected"),
    [
        (CSV, "text/csv", "movimentação.csv", ("text/csv", "movimentação.csv")),
        (CSV, "application/vnd.ms-excel", "lote", ("text/csv", "lote.csv")),  # what Windows calls a CSV
        (xlsx(), XLSX_TYPE, "lote.xlsx", (XLSX_TYPE, "lote.xlsx")),
        (xlsx(), "application/octet-stream", "lote.zip", (XLSX_TYPE, "lote.xlsx")),
    ],
    ids=["csv", "csv-as-excel", "xlsx", "xlsx-undeclared"],
)
async def test_spreadsheets_are_taken_too_by_their_content(client, sessions, content, content_type, filename, expected):
    status, body = await receive(client, content, filename=filename, content_type=content_type)
    assert status == 201, body
    assert (body["content_type"], body["filename"]) == expected
    [row] = await rows(sessions, InboundFile)
    assert await stored(sessions, row.storage_path) == content


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code"),
    [
        (EXE, "application/pdf", 415, "unsupported_type"),  # an executable renamed recibo.pdf
        (WEBP, "image/webp", 415, "unsupported_type"),
        (docx_like(), XLSX_TYPE, 415, "unsupported_type"),  # a zip, but no workbook
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "application/vnd.ms-excel", 415, "unsupported_type"),
        (b"tipo;cpf\r\n" * 4 + b"\x00\x01\x02", "text/csv", 415, "unsupported_type"),  # text, then binary
        (b"\x7fELF\x02\x01\x01" + bytes(range(256)), "text/csv", 415, "unsupported_type"),  # junk called .csv
        (b"", "application/pdf", 400, "empty_file"),
        (PDF + b"0" * MAX_UPLOAD_BYTES, "application/pdf", 413, "file_too_large"),
    ],
)
async def test_what_the_policy_refuses_gets_its_code_and_text_and_nothing_is_kept(
    client, settings, sessions, content, content_type, status, code
):
    answer_status, body = await receive(client, content, content_type=content_type)
    assert (answer_status, body["error"]["code"]) == (status, code), body
    assert body["error"] == {"code": code, "message": REFUSAL_TEXTS[code], "max_bytes": MAX_UPLOAD_BYTES}
    assert await rows(sessions, InboundFile) == []
    assert await nothing_kept(settings, sessions)


async def test_the_backend_answers_the_policys_refusals_with_the_policys_statuses():
    """The channels answer with common.uploads.REFUSAL_STATUS, the backend with STATUS_BY_CODE: the same."""
    assert {code: STATUS_BY_CODE[code] for code in REFUSAL_STATUS} == REFUSAL_STATUS
    assert backend.uploads.REFUSALS == REFUSAL_TEXTS  # the policy's words


async def test_a_streamed_file_without_length_is_cut_at_10_mb(client, settings, sessions):
    """A channel may forward a download chunked (no Content-Length): the limit holds while streaming."""

    async def body():
        yield PDF
        for _ in range(11):
            yield b"0" * (1024 * 1024)

    status, answer = await receive(client, body())
    assert status == 413 and answer["error"]["code"] == "file_too_large"
    assert await rows(sessions, InboundFile) == []
    assert await nothing_kept(settings, sessions)


async def test_a_file_of_exactly_10_mb_is_taken(client):
    status, body = await receive(client, PDF + b"0" * (MAX_UPLOAD_BYTES - len(PDF)))
    assert status == 201, body
    assert body["size"] == MAX_UPLOAD_BYTES


async def test_only_the_assistants_services_may_hand_files_over(client, sessions):
    status, body = await receive(client, PDF, headers={"Authorization": "Bearer outro-token"})
    assert status == 401 and body["error"]["code"] == "service_unauthorized"
    status, body = await receive(client, PDF, conversation_id="")
    assert status == 400 and "X-Conversation-Id" in body["error"]["fields"]
    status, body = await receive(client, PDF, channel="WhatsApp!")
    assert status == 400 and "X-Channel" in body["error"]["fields"]
    assert await rows(sessions, InboundFile) == []


async def test_a_conversation_cannot_pile_up_files(client, monkeypatch):
    monkeypatch.setattr("backend.inbound_files.MAX_WAITING_FILES", 2)
    assert MAX_WAITING_FILES >= 10  # the real limit
    for _ in range(2):
        assert (await receive(client, PDF))[0] == 201
    status, body = await receive(client, PDF)
    assert status == 429 and body["error"]["code"] == "too_many_files"
    assert body["error"]["limit"] == 2 and "muitos arquivos" in body["error"]["message"]
    assert (await receive(client, PDF, conversation_id="outra-conversa"))[0] == 201  # per conversation


# --- attaching ------------------------------------------------------------------------------------


async def test_the_action_attaches_the_file_of_its_conversation_once(client, settings, sessions):
    token = await verify(client, MARIA)
    status, received = await receive(client, PDF, filename="recibo consulta.pdf")
    assert status == 201
    status, document = await attach(client, token, received["id"])
    assert status == 201, document
    assert (document["kind"], document["filename"], document["content_type"], document["size"]) == (
        RECEIPT,
        "recibo consulta.pdf",
        "application/pdf",
        len(PDF),
    )
    assert document["pending_count"] == 1
    [row] = await rows(sessions, ReimbursementDocument)
    assert (row.conversation_id, row.reimbursement_id) == (MARIA["conversation_id"], None)
    assert await stored(sessions, row.storage_path) == PDF
    assert len(await rows(sessions, FileBlob)) == 1  # the same bytes, not copied
    assert await rows(sessions, InboundFile) == []  # the id served once

    status, again = await attach(client, token, received["id"])
    assert status == 404 and again["error"]["code"] == "inbound_file_not_found"
    assert len(await rows(sessions, ReimbursementDocument)) == 1


async def test_two_simultaneous_attachments_of_one_file_make_one_document(client, sessions):
    token = await verify(client, MARIA)
    _, received = await receive(client, PDF)
    answers = await asyncio.gather(*(attach(client, token, received["id"]) for _ in range(2)))
    assert sorted(status for status, _ in answers) == [201, 404]
    assert len(await rows(sessions, ReimbursementDocument)) == 1


async def test_a_file_of_another_sender_or_channel_is_refused_and_stays_its_owners(client, sessions):
    maria_token = await verify(client, MARIA)
    _, jose_file = await receive(client, PDF, conversation_id=JOSE["conversation_id"])
    _, same_sender_other_channel = await receive(client, PDF, channel="whatsapp")
    for file_id in (jose_file["id"], same_sender_other_channel["id"], "id-que-nao-existe"):
        status, body = await attach(client, maria_token, file_id)
        assert status == 404 and body["error"]["code"] == "inbound_file_not_found", file_id
        assert "Envie" in body["error"]["message"]
    assert await rows(sessions, ReimbursementDocument) == []
    jose_token = await verify(client, JOSE)
    assert (await attach(client, jose_token, jose_file["id"], persona=JOSE))[0] == 201  # still José's to use


async def test_attaching_needs_a_verification_of_this_conversation_and_a_known_kind(client, sessions):
    _, received = await receive(client, PDF)
    status, body = await attach(client, "token-falso", received["id"])
    assert status == 401 and body["error"]["code"] == "verification_invalid"
    token = await verify(client, MARIA)
    status, body = await attach(client, token, received["id"], channel="whatsapp")  # made on "rest"
    assert status == 401 and body["error"]["code"] == "verification_invalid"
    status, body = await attach(client, token, received["id"], kind="boleto")
    assert status == 400 and "kind" in body["error"]["fields"]
    response = await client.post(
        "/api/reimbursement-documents",
        json={"kind": RECEIPT},
        headers={"X-Verification": token, "X-Conversation-Id": MARIA["conversation_id"]},
    )
    assert response.status == 400 and "file_id" in (await response.json())["error"]["fields"]
    assert len(await rows(sessions, InboundFile)) == 1  # nothing was used up


async def test_a_spreadsheet_is_no_reimbursement_document_and_stays(client, sessions):
    token = await verify(client, MARIA)
    _, received = await receive(client, CSV, filename="planilha.csv", content_type="text/csv")
    status, body = await attach(client, token, received["id"])
    assert (status, body["error"]) == (
        415,
        {"code": "not_a_document", "message": "Para o reembolso, envie uma foto (JPG ou PNG) ou um PDF do documento."},
    )
    assert await rows(sessions, ReimbursementDocument) == []
    [row] = await rows(sessions, InboundFile)  # not used up: still there for the use it was sent for
    assert row.id == received["id"] and await stored(sessions, row.storage_path) == CSV
    _, sheet = await receive(client, xlsx(), filename="lote.xlsx", content_type=XLSX_TYPE)
    assert (await attach(client, token, sheet["id"]))[1]["error"]["code"] == "not_a_document"
    assert len(await rows(sessions, InboundFile)) == 2


# --- expiry ---------------------------------------------------------------------------------------


async def test_an_unused_file_expires_and_retention_deletes_it(client, settings, sessions):
    token = await verify(client, MARIA)
    _, old = await receive(client, PDF)
    _, fresh = await receive(client, PNG, filename="foto.png", content_type="image/png")
    async with sessions() as session:
        await session.execute(
            update(InboundFile)
            .where(InboundFile.id == old["id"])
            .values(created_at=utcnow() - INBOUND_FILE_TTL - timedelta(minutes=1))
        )
        await session.commit()
        old_key = (await session.get(InboundFile, old["id"])).storage_path
        await session.commit()

    status, body = await attach(client, token, old["id"])
    assert status == 404 and body["error"]["code"] == "inbound_file_not_found"

    env = {"VAR_DIR": str(settings.var_dir), "DATABASE_URL": settings.database_url}
    dry = await purge(settings, 180, env=env, dry_run=True)
    assert dry.uploaded_files == 1 and await stored(sessions, old_key) == PDF
    deleted = await purge(settings, 180, env=env)
    assert deleted.uploaded_files == 1
    assert await stored(sessions, old_key) is None
    assert [row.id for row in await rows(sessions, InboundFile)] == [fresh["id"]]
    assert (await attach(client, token, fresh["id"]))[0] == 201  # the fresh one is untouched
    again = await purge(settings, 180, env=env)
    assert again.uploaded_files == 0 and again.orphan_files == 0
    async with sessions() as session:
        [document_key] = (await session.execute(select(ReimbursementDocument.storage_path))).scalars().all()
        assert (await session.execute(select(func.count()).select_from(InboundFile))).scalar_one() == 0
    assert await stored(sessions, document_key) == PNG  # the attached file is the document's now
