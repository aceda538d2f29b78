"""Inbound files: the channels hand the backend every file a user sends (backend.inbound_files).

    POST /api/inbound-files[?filename=<name>]   body: the file's bytes   -> 201 {id, filename, content_type, size}

Called by the channels (in the Rasa process) with the service credential, like every service route.
Headers: `X-Conversation-Id` (the sender id) and `X-Channel` (the channel's name; "rest" when
absent, as for a verification): the file belongs to that conversation only. The body is the raw
file, streamed to disk under the upload policy of common/uploads.py (type by its first bytes, size
limit, not empty); `Content-Type` is only what the client claims and is not trusted.

Errors (the policy's codes and pt-BR texts): 400 empty_file / invalid_request; 413 file_too_large;
415 unsupported_type; 429 too_many_files (MAX_WAITING_FILES not yet attached in this conversation).
"""

from __future__ import annotations

import re

from aiohttp import web

from backend.api.context import SESSIONS, SETTINGS
from backend.api.errors import ApiError, invalid_request
from backend.api.identity import request_channel
from backend.api.responses import json_response
from backend.inbound_files import (
    INBOUND_AREA,
    MAX_CONVERSATION_ID_LENGTH,
    MAX_WAITING_FILES,
    record,
    view,
    waiting_count,
)
from backend.uploads import remove_stored, store_stream
from common.uploads import EMPTY_FILE, FILE_TOO_LARGE, MAX_UPLOAD_BYTES, UploadRefused

routes = web.RouteTableDef()

CHUNK_BYTES = 64 * 1024
FILENAME_MAX_LENGTH = 255
_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")  # as backend.api.forms


def _refused(exc: UploadRefused) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, max_bytes=MAX_UPLOAD_BYTES)


def _too_many_files() -> ApiError:
    return ApiError(
        429,
        "too_many_files",
        "Você enviou muitos arquivos nesta conversa. Use os que já mandou ou espere um pouco para enviar outros.",
        limit=MAX_WAITING_FILES,
    )


def _conversation(request: web.Request) -> tuple[str, str]:
    conversation_id = request.headers.get("X-Conversation-Id", "")
    channel = request_channel(request)
    errors = {}
    if not conversation_id or len(conversation_id) > MAX_CONVERSATION_ID_LENGTH:
        errors["X-Conversation-Id"] = (
            f"Informe a conversa (o id do remetente, até {MAX_CONVERSATION_ID_LENGTH} caracteres)."
        )
    if not _CHANNEL_RE.match(channel):
        errors["X-Channel"] = "Canal inválido: use letras minúsculas, como 'whatsapp' ou 'telegram'."
    if len(request.query.get("filename", "")) > FILENAME_MAX_LENGTH:
        errors["filename"] = f"Use um nome de arquivo de até {FILENAME_MAX_LENGTH} caracteres."
    if errors:
        raise invalid_request(errors)
    return channel, conversation_id


@routes.post("/api/inbound-files")
async def receive_inbound_file(request: web.Request) -> web.Response:
    channel, conversation_id = _conversation(request)
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
        raise _refused(UploadRefused(FILE_TOO_LARGE))
    if request.content_length == 0:
        raise _refused(UploadRefused(EMPTY_FILE))
    async with request.app[SESSIONS]() as session:
        if await waiting_count(session, channel, conversation_id) >= MAX_WAITING_FILES:
            raise _too_many_files()

    var_dir = request.app[SETTINGS].var_dir
    try:
        stored = await store_stream(request.content.iter_chunked(CHUNK_BYTES), var_dir, INBOUND_AREA)
    except UploadRefused as exc:
        raise _refused(exc) from None
    try:
        async with request.app[SESSIONS]() as session:
            row = record(stored, channel, conversation_id, request.query.get("filename"))
            session.add(row)
            await session.commit()
    except BaseException:
        await remove_stored(var_dir, stored.relative_path)
        raise
    return json_response(view(row), status=201)
