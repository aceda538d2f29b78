"""Reimbursement documents: the files a reimbursement request will carry.

    POST   /api/reimbursement-documents        JSON {file_id, kind?}: attaches an inbound file -> 201 document
    GET    /api/reimbursement-documents        documents of this conversation not yet submitted
    DELETE /api/reimbursement-documents/{id}   drops one of those                   -> 204

They carry the verification in the headers X-Verification, X-Conversation-Id and X-Channel. The
file itself reached the backend before, from the channel (POST /api/inbound-files, under the upload
policy of common/uploads.py); the action names it by the id the channel got. Only a document (photo
or PDF) is attached: a spreadsheet the policy took for the company's movements is refused. The use cases are
backend.reimbursements's (check_may_attach, attach_inbound_file, pending_document_views,
remove_pending_document).
"""

from __future__ import annotations

from aiohttp import web

from backend.api.context import SESSIONS
from backend.api.forms import Form, required
from backend.api.identity import request_channel, verified_from_headers
from backend.api.responses import json_response
from backend.reimbursements import (
    DOCUMENT_KINDS,
    MAX_PENDING_DOCUMENTS,
    attach_inbound_file,
    check_may_attach,
    pending_document_views,
    remove_pending_document,
)

routes = web.RouteTableDef()

DEFAULT_KIND = "other"
FILE_ID_MAX_LENGTH = 64


async def _attachment(request: web.Request) -> tuple[str, str]:
    """The body's (file_id, kind); 400 with the fields that are wrong."""
    form = await Form.read(request)
    file_id = form.text("file_id", "o arquivo recebido (file_id)", max_length=FILE_ID_MAX_LENGTH)
    kind = form.optional("kind", max_length=20) or DEFAULT_KIND
    if kind not in DOCUMENT_KINDS:
        form.errors["kind"] = f"Tipo de documento inválido: use {', '.join(DOCUMENT_KINDS)}."
    form.validate()
    return required(file_id), kind


@routes.post("/api/reimbursement-documents")
async def attach_document(request: web.Request) -> web.Response:
    """JSON {file_id, kind?}: `file_id` is the id POST /api/inbound-files gave the channel, for a
    file sent in this very conversation (same channel and sender id as the verification), unexpired
    and not attached before; `kind` one of DOCUMENT_KINDS (default "other").

    201 {id, kind, kind_label, filename, size, content_type, pending_count}; 400 bad body / bad kind;
    401; 404 inbound_file_not_found (unknown, of another conversation, expired or already attached);
    409 plan_cancelled / too_many_documents; 415 not_a_document (a spreadsheet: the file stays
    unattached, for the use it was sent for).
    """
    conversation_id = request.headers.get("X-Conversation-Id", "")
    async with request.app[SESSIONS]() as session:  # before the body: who asks comes first
        uploader = await verified_from_headers(request, session)
        await check_may_attach(session, uploader, conversation_id)
    channel = request_channel(request)
    file_id, kind = await _attachment(request)
    async with request.app[SESSIONS]() as session:
        document = await attach_inbound_file(
            session, uploader, channel=channel, conversation_id=conversation_id, file_id=file_id, kind=kind
        )
    return json_response(document, status=201)


@routes.get("/api/reimbursement-documents")
async def list_pending_documents(request: web.Request) -> web.Response:
    """The documents sent in this conversation and not yet part of a request: {documents: [...], limit}."""
    async with request.app[SESSIONS]() as session:
        uploader = await verified_from_headers(request, session)
        documents = await pending_document_views(session, uploader, request.headers["X-Conversation-Id"])
    return json_response({"documents": documents, "limit": MAX_PENDING_DOCUMENTS})


@routes.delete("/api/reimbursement-documents/{id}")
async def delete_pending_document(request: web.Request) -> web.Response:
    """204; 404 document_not_found (unknown, of another conversation, or already submitted)."""
    async with request.app[SESSIONS]() as session:
        uploader = await verified_from_headers(request, session)
        await remove_pending_document(session, uploader, request.headers["X-Conversation-Id"], request.match_info["id"])
    return web.Response(status=204)
