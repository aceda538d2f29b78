"""Inbound files: the channels hand the backend every file a user sends (backend.inbound_files).

    POST /api/inbound-files[?filename=<name>]   body: the file's bytes   -> 201 {id, filename, content_type, size}

Called by the channels (in the Rasa process) with the service credential, like every service route.
Headers: `X-Conversation-Id` (the sender id) and `X-Channel` (the channel's name; "rest" when
absent, as for a verification): the file belongs to that conversation only. The body is the raw
file, streamed under the upload policy of common/uploads.py (type by its first bytes, size limit,
not empty) into the database (backend.uploads), where every backend process finds it; `Content-Type`
is only what the client claims and is not trusted.

Errors: the policy's codes and pt-BR texts (backend.uploads, with `max_bytes`): 400 empty_file,
413 file_too_large, 415 unsupported_type; 400 invalid_request (the headers, the file name); 429
too_many_files (backend.inbound_files.MAX_WAITING_FILES not yet attached in this conversation, with
`limit`).
"""

from __future__ import annotations

import re

from aiohttp import web

from backend.api.context import SESSIONS
from backend.api.errors import invalid_request
from backend.api.identity import request_channel
from backend.api.responses import json_response
from backend.inbound_files import MAX_CONVERSATION_ID_LENGTH, receive

routes = web.RouteTableDef()

CHUNK_BYTES = 64 * 1024
FILENAME_MAX_LENGTH = 255
_CHANNEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")  # as backend.api.forms


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
    """See the module's docstring."""
    channel, conversation_id = _conversation(request)
    received = await receive(
        request.app[SESSIONS],
        request.content.iter_chunked(CHUNK_BYTES),
        channel=channel,
        conversation_id=conversation_id,
        filename=request.query.get("filename"),
        declared_length=request.content_length,
    )
    return json_response(received, status=201)
