"""Reimbursement documents: the files a reimbursement request will carry.

    POST   /api/reimbursement-documents        multipart/form-data: file (+ kind)   -> 201 document
    GET    /api/reimbursement-documents        documents of this conversation not yet submitted
    DELETE /api/reimbursement-documents/{id}   drops one of those                   -> 204

They carry the verification in the headers X-Verification and X-Conversation-Id.
"""

from __future__ import annotations

from aiohttp import BodyPartReader, web
from sqlalchemy import select

from backend.api.context import SESSIONS, SETTINGS
from backend.api.errors import ApiError, invalid_request
from backend.api.identity import verified_from_headers
from backend.api.reimbursements import plan_cancelled_error
from backend.api.responses import json_response
from backend.models import ACTIVE, Beneficiary, ReimbursementDocument
from backend.reimbursements import (
    DOCUMENT_KINDS,
    MAX_PENDING_DOCUMENTS,
    count_pending_documents,
    document_view,
    pending_documents,
)
from backend.uploads import MAX_UPLOAD_BYTES, UploadRefused, remove_stored, safe_filename, store_stream

routes = web.RouteTableDef()

UPLOAD_AREA = "reimbursements"
CHUNK_BYTES = 64 * 1024
SMALL_FIELD_BYTES = 1024
MULTIPART_OVERHEAD = 64 * 1024


_UPLOAD_REFUSALS = {
    "file_too_large": (
        413,
        (
            "O arquivo passa do limite de 10 MB. Envie uma foto ou um PDF menor "
            "(se precisar, mande uma foto de cada página)."
        ),
    ),
    "unsupported_type": (
        415,
        "Só consigo receber fotos (JPG ou PNG) e arquivos PDF. Envie o documento em um desses formatos.",
    ),
    "empty_file": (400, "O arquivo chegou vazio. Envie de novo, por favor."),
}


def _too_many_documents() -> ApiError:
    return ApiError(
        409,
        "too_many_documents",
        f"Você já enviou {MAX_PENDING_DOCUMENTS} documentos nesta conversa, que é o máximo por pedido. "
        "Conclua o pedido de reembolso ou remova algum documento.",
        limit=MAX_PENDING_DOCUMENTS,
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


async def _chunks(part: BodyPartReader):
    while True:
        chunk = await part.read_chunk(CHUNK_BYTES)
        if not chunk:
            return
        yield chunk


async def _small_field(part: BodyPartReader) -> str | None:
    data = bytearray()
    async for chunk in _chunks(part):
        data += chunk
        if len(data) > SMALL_FIELD_BYTES:
            return None
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None


@routes.post("/api/reimbursement-documents")
async def upload_document(request: web.Request) -> web.Response:
    """multipart/form-data with the file in the field `file` (JPEG, PNG or PDF, at most 10 MB) and
    optionally `kind` (recibo | nota_fiscal | relatorio | outro; default outro).

    201 {id, kind, kind_label, filename, size, content_type, pending_count}; 400 no file / bad kind /
    empty file; 401; 409 plan_cancelled / too_many_documents; 413 file_too_large; 415 unsupported_type.
    """
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD:
        raise ApiError(413, "file_too_large", _UPLOAD_REFUSALS["file_too_large"][1], max_bytes=MAX_UPLOAD_BYTES)
    if not request.content_type.startswith("multipart/"):
        raise invalid_request({"file": "Envie o arquivo como multipart/form-data, no campo 'file'."})
    beneficiary, conversation_id = await _verified_uploader(request)

    var_dir = request.app[SETTINGS].var_dir
    stored = None
    filename = None
    kind = "outro"
    errors: dict[str, str] = {}
    try:
        reader = await request.multipart()
        # next() rather than `async for`: aiohttp types the iteration as BodyPartReader only, while a
        # part may be a nested multipart (MultipartReader), which is refused here
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                errors["file"] = "Envie um arquivo por vez, no campo 'file'."
                break
            if part.name == "file":
                if stored is not None:
                    errors["file"] = "Envie um arquivo por vez."
                    break
                stored = await store_stream(_chunks(part), var_dir, UPLOAD_AREA)
                filename = part.filename
            elif part.name == "kind":
                kind = await _small_field(part) or ""
            else:
                await _small_field(part)
    except UploadRefused as exc:
        status, message = _UPLOAD_REFUSALS[exc.code]
        raise ApiError(status, exc.code, message, max_bytes=MAX_UPLOAD_BYTES) from None
    except ValueError:  # malformed multipart
        errors.setdefault("file", "Não consegui ler o arquivo enviado. Envie de novo.")
    if stored is None and "file" not in errors:
        errors["file"] = "Envie o arquivo (foto ou PDF) no campo 'file'."
    if kind not in DOCUMENT_KINDS:
        errors["kind"] = "Tipo de documento inválido: use recibo, nota_fiscal, relatorio ou outro."
    if errors or stored is None:  # no file: errors["file"] says so
        if stored is not None:
            await remove_stored(var_dir, stored.relative_path)
        raise invalid_request(errors)

    async with request.app[SESSIONS]() as session:
        # Lock like a request submission does, so two parallel uploads cannot pass the limit.
        await session.execute(select(Beneficiary.id).where(Beneficiary.id == beneficiary.id).with_for_update())
        pending = await count_pending_documents(session, conversation_id)
        if pending >= MAX_PENDING_DOCUMENTS:
            await remove_stored(var_dir, stored.relative_path)
            raise _too_many_documents()
        document = ReimbursementDocument(
            beneficiary_id=beneficiary.id,
            conversation_id=conversation_id,
            kind=kind,
            filename=safe_filename(filename, stored.extension),
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_path=stored.relative_path,
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
