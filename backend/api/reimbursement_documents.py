"""Reimbursement documents: the files a reimbursement request will carry.

    POST   /api/reimbursement-documents        JSON {file_id, kind?}: attaches an inbound file -> 201 document
    GET    /api/reimbursement-documents        documents of this conversation not yet submitted
    DELETE /api/reimbursement-documents/{id}   drops one of those                   -> 204

They carry the verification in the headers X-Verification, X-Conversation-Id and X-Channel. The
file itself reached the backend before, from the channel (POST /api/inbound-files, under the upload
policy of common/uploads.py); the action names it by the id the channel got.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from backend.api.context import SESSIONS, SETTINGS
from backend.api.errors import ApiError
from backend.api.forms import Form, required
from backend.api.identity import request_channel, verified_from_headers
from backend.api.reimbursements import plan_cancelled_error
from backend.api.responses import json_response
from backend.inbound_files import claim
from backend.models import ACTIVE, Beneficiary, ReimbursementDocument
from backend.reimbursements import (
    DOCUMENT_KINDS,
    MAX_PENDING_DOCUMENTS,
    count_pending_documents,
    document_view,
    pending_documents,
)
from backend.uploads import remove_stored

routes = web.RouteTableDef()

DEFAULT_KIND = "other"
FILE_ID_MAX_LENGTH = 64


def _too_many_documents() -> ApiError:
    return ApiError(
        409,
        "too_many_documents",
        f"Você já enviou {MAX_PENDING_DOCUMENTS} documentos nesta conversa, que é o máximo por pedido. "
        "Conclua o pedido de reembolso ou remova algum documento.",
        limit=MAX_PENDING_DOCUMENTS,
    )


def _inbound_file_not_found() -> ApiError:
    return ApiError(
        404,
        "inbound_file_not_found",
        "Não encontrei esse arquivo entre os que você enviou nesta conversa (ele pode já ter sido "
        "anexado ou ter passado do prazo). Envie o arquivo de novo, por favor.",
    )


# --- documents ----------------------------------------------------------------------------------


async def _verified_uploader(request: web.Request) -> tuple[Beneficiary, str]:
    conversation_id = request.headers.get("X-Conversation-Id", "")
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_from_headers(request, session)
        if beneficiary.status != ACTIVE:
            raise plan_cancelled_error(request)
        if await count_pending_documents(session, conversation_id) >= MAX_PENDING_DOCUMENTS:
            raise _too_many_documents()
    return beneficiary, conversation_id


@routes.post("/api/reimbursement-documents")
async def attach_document(request: web.Request) -> web.Response:
    """JSON {file_id, kind?}: `file_id` is the id POST /api/inbound-files gave the channel, for a
    file sent in this very conversation (same channel and sender id as the verification), unexpired
    and not attached before; `kind` one of DOCUMENT_KINDS (default "other").

    201 {id, kind, kind_label, filename, size, content_type, pending_count}; 400 bad body / bad kind;
    401; 404 inbound_file_not_found (unknown, of another conversation, expired or already attached);
    409 plan_cancelled / too_many_documents.
    """
    beneficiary, conversation_id = await _verified_uploader(request)  # before the body: who asks comes first
    channel = request_channel(request)
    form = await Form.read(request)
    file_id = form.text("file_id", "o arquivo recebido (file_id)", max_length=FILE_ID_MAX_LENGTH)
    kind = form.optional("kind", max_length=20) or DEFAULT_KIND
    if kind not in DOCUMENT_KINDS:
        form.errors["kind"] = f"Tipo de documento inválido: use {', '.join(DOCUMENT_KINDS)}."
    form.validate()

    async with request.app[SESSIONS]() as session:
        # Lock like a request submission does, so two parallel attachments cannot pass the limit.
        await session.execute(select(Beneficiary.id).where(Beneficiary.id == beneficiary.id).with_for_update())
        pending = await count_pending_documents(session, conversation_id)
        if pending >= MAX_PENDING_DOCUMENTS:
            raise _too_many_documents()
        inbound = await claim(session, required(file_id), channel, conversation_id)
        if inbound is None:
            raise _inbound_file_not_found()
        document = ReimbursementDocument(
            beneficiary_id=beneficiary.id,
            conversation_id=conversation_id,
            kind=kind,
            filename=inbound.filename,
            content_type=inbound.content_type,
            size=inbound.size,
            sha256=inbound.sha256,
            storage_path=inbound.storage_path,  # the inbound file's bytes are the document's now
        )
        session.add(document)
        await session.commit()
    return json_response({**document_view(document), "pending_count": pending + 1}, status=201)


@routes.get("/api/reimbursement-documents")
async def list_pending_documents(request: web.Request) -> web.Response:
    """The documents sent in this conversation and not yet part of a request: {documents: [...]}."""
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_from_headers(request, session)
        documents = await pending_documents(session, request.headers["X-Conversation-Id"], beneficiary.id)
    return json_response(
        {"documents": [document_view(document) for document in documents], "limit": MAX_PENDING_DOCUMENTS}
    )


@routes.delete("/api/reimbursement-documents/{id}")
async def delete_pending_document(request: web.Request) -> web.Response:
    """204; 404 document_not_found (unknown, of another conversation, or already submitted)."""
    document_id = request.match_info["id"]
    async with request.app[SESSIONS]() as session:
        beneficiary = await verified_from_headers(request, session)
        documents = await pending_documents(session, request.headers["X-Conversation-Id"], beneficiary.id)
        document = next((item for item in documents if str(item.id) == document_id), None)
        if document is None:
            raise ApiError(404, "document_not_found", "Não encontrei esse documento entre os enviados nesta conversa.")
        await session.delete(document)
        await session.commit()
    await remove_stored(request.app[SETTINGS].var_dir, document.storage_path)
    return web.Response(status=204)
