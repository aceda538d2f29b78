"""Rasa's socketio channel, fixed for the website widget (credentials.yml:
`channels.web.socketio_channel.WebSocketIOInput`, same settings as `socketio`), plus the widget's
file upload.

Two bugs of rasa 3.6's SocketIOInput with the python-socketio 5.18 we pin:
- `sio.enter_room()` became a coroutine and Rasa does not await it, so with session_persistence the
  browser never joins its session's room and every answer is lost;
- `send_custom_json` passes the action's json_message as keyword arguments of `sio.emit()`, so any
  custom payload not wrapped in {"data": ...} (e.g. {"type": "document", ...}) raises TypeError.
Everything else (events, session_persistence, jwt, metadata, /socket.io path) is Rasa's.

Files from the widget (docs/widget.md), the same contract as WhatsApp and Telegram (channels/common.py):
- POST /webhooks/socketio/upload, multipart `file` + `session_id` (a session this server confirmed):
  the file is checked and stored by channels.common.store_attachment under var/uploads/inbound/, and
  the browser gets 201 {"upload_id", "filename", "content_type", "size"} — never the server path;
- the widget then emits user_uttered with metadata {"upload_ids": [...]}; the channel swaps them for
  {"attachments": [{"path", "content_type", "filename", "size"}]} (ids of other sessions, used or
  expired ids are ignored; "attachments" sent by a browser are always dropped) before Rasa sees it.
Cross-origin sites: the route is a simple CORS request (multipart, no custom header); Rasa's own
`--cors` (Sanic-CORS, every route of the app) answers it and its preflight, as for /socket.io."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.common import (
    ALLOWED_CONTENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    Attachment,
    AttachmentRefused,
    check_attachment,
    inbound_dir,
    store_attachment,
)

logger = logging.getLogger(__name__)

# what the session ids Rasa hands out (uuid4().hex) and the widget keeps look like
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
UPLOAD_LIMIT = 10  # files per session...
UPLOAD_WINDOW_S = 10 * 60  # ...in this many seconds
UPLOAD_TTL_S = 60 * 60  # an upload not sent to the assistant by then is forgotten (and deleted)
SESSION_TTL_S = 24 * 60 * 60  # a session not seen for a day is no longer known
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, headers and the session_id field around the file
MAX_UPLOAD_IDS = UPLOAD_LIMIT  # per message

TEXT_UNKNOWN_SESSION = "Não encontrei esta conversa. Recarregue a página e tente de novo."
TEXT_NO_FILE = "Escolha um arquivo (foto ou PDF) para enviar."
TEXT_TOO_MANY = "Você enviou muitos arquivos em pouco tempo. Espere alguns minutos e tente de novo."
TEXT_NOT_SAVED = "Não consegui guardar o arquivo. Tente de novo em instantes."
TEXT_UPLOAD_LOST = "Não encontrei o arquivo que você enviou. Envie de novo, por favor."


def _error(status: int, code: str, message: str) -> HTTPResponse:
    """The backend's error shape ({"error": {"code", "message"}}), which the widget shows as is."""
    return response.json({"error": {"code": code, "message": message}}, status=status)


def _size_refusal(size: int) -> str:
    """channels.common's own message for a file of this size (the type is one it takes)."""
    try:
        check_attachment(next(iter(ALLOWED_CONTENT_TYPES)), size)
    except AttachmentRefused as exc:
        return exc.message
    return TEXT_NOT_SAVED


def _forget_file(path: str) -> None:
    """Deletes a stored upload nobody sent to the assistant (only inside the inbound directory)."""
    try:
        file = Path(path).resolve()
        if inbound_dir().resolve() in file.parents:
            file.unlink(missing_ok=True)
            file.parent.rmdir()
    except OSError:
        pass


class WebUploads:
    """In memory, per session: the sessions this server confirmed, the recent uploads (rate limit) and
    the stored files waiting to be sent, by an opaque token. One Rasa process (as today's setup)."""

    def __init__(self, limit: int = UPLOAD_LIMIT, window_s: float = UPLOAD_WINDOW_S,
                 ttl_s: float = UPLOAD_TTL_S, session_ttl_s: float = SESSION_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.ttl_s, self.session_ttl_s = limit, window_s, ttl_s, session_ttl_s
        self.clock = clock
        self._sessions: Dict[str, float] = {}
        self._recent: Dict[str, List[float]] = {}
        self._files: Dict[str, Dict[str, tuple]] = {}  # session -> token -> (stamp, Attachment)

    def seen(self, session_id: str) -> None:
        self._sessions[session_id] = self.clock()
        if len(self._sessions) > 10_000:
            self.prune()

    def known(self, session_id: str) -> bool:
        stamp = self._sessions.get(session_id)
        return stamp is not None and self.clock() - stamp <= self.session_ttl_s

    def allow(self, session_id: str) -> bool:
        """Counts one upload attempt of the session; False when it already made `limit` in the window."""
        now = self.clock()
        recent = [t for t in self._recent.get(session_id, []) if now - t < self.window_s]
        if len(recent) >= self.limit:
            self._recent[session_id] = recent
            return False
        recent.append(now)
        self._recent[session_id] = recent
        return True

    def add(self, session_id: str, attachment: Attachment) -> str:
        self.prune()
        token = secrets.token_urlsafe(18)
        self._files.setdefault(session_id, {})[token] = (self.clock(), attachment)
        return token

    def take(self, session_id: str, upload_ids: Iterable[Any]) -> List[Attachment]:
        """The session's own files for these ids (each id once); anything else is ignored."""
        files = self._files.get(session_id) or {}
        now, taken = self.clock(), []
        for upload_id in list(upload_ids)[:MAX_UPLOAD_IDS]:
            entry = files.pop(upload_id, None) if isinstance(upload_id, str) else None
            if entry and now - entry[0] <= self.ttl_s:
                taken.append(entry[1])
            elif entry:
                _forget_file(entry[1].path)
        if not files:
            self._files.pop(session_id, None)
        return taken

    def prune(self) -> None:
        now = self.clock()
        for session_id in list(self._files):
            files = self._files[session_id]
            for token in [t for t, (stamp, _) in files.items() if now - stamp > self.ttl_s]:
                _forget_file(files.pop(token)[1].path)
            if not files:
                del self._files[session_id]
        for session_id in [s for s, stamps in self._recent.items() if not stamps or now - stamps[-1] >= self.window_s]:
            del self._recent[session_id]
        for session_id in [s for s, stamp in self._sessions.items() if now - stamp > self.session_ttl_s]:
            del self._sessions[session_id]


class WebSocketIOOutput(SocketIOOutput):
    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        """{"data": {...}} (Rasa's documented shape) and a bare {...} both reach the widget as {...}."""
        payload = json_message.get("data") if set(json_message) <= {"data", "room"} else json_message
        await self._send_message(json_message.get("room", recipient_id), payload)


class WebSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.uploads = WebUploads()

    def get_output_channel(self) -> Optional[WebSocketIOOutput]:
        return WebSocketIOOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        uploads = self.uploads

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if isinstance(data["session_id"], str):
                uploads.seen(data["session_id"])
            if self.session_persistence:
                await sio.enter_room(sid, data["session_id"], namespace=self.namespace)
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Dict) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                if not data.get("session_id"):
                    logger.warning("socketio message without session_id ignored (send session_request first)")
                    return
                sender_id = data["session_id"]
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            if not isinstance(metadata, dict):
                metadata = {}
            output = WebSocketIOOutput(sio, self.bot_message_evt)
            # files only ever come from this channel's own upload route, never from the browser's metadata
            metadata.pop("attachments", None)
            upload_ids = metadata.pop("upload_ids", None)
            if upload_ids:
                session_id = data.get("session_id")
                ids = upload_ids if isinstance(upload_ids, list) else [upload_ids]
                attachments = uploads.take(session_id, ids) if isinstance(session_id, str) else []
                if not attachments:
                    await output.send_text_message(sender_id, TEXT_UPLOAD_LOST)
                    return
                metadata["attachments"] = [attachment.as_metadata() for attachment in attachments]
            await on_new_message(UserMessage(
                data.get("message", ""), output, sender_id, input_channel=self.name(), metadata=metadata))

        @blueprint.route("/upload", methods=["POST"], stream=True)
        async def upload(request: Request) -> HTTPResponse:
            limit = MAX_ATTACHMENT_BYTES + MULTIPART_OVERHEAD
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                return _error(413, "too_large", _size_refusal(int(declared)))  # Sanic drains the rest
            chunks, size = [], 0
            while True:
                chunk = await request.stream.read()
                if chunk is None:
                    break
                size += len(chunk)
                if size > limit:
                    return _error(413, "too_large", _size_refusal(size))
                chunks.append(chunk)
            request.body = b"".join(chunks)
            try:
                session_id = request.form.get("session_id") or ""
                file = request.files.get("file")
            except Exception:  # not a multipart form
                session_id, file = "", None
            if not SESSION_ID_RE.match(session_id) or not uploads.known(session_id):
                return _error(400, "unknown_session", TEXT_UNKNOWN_SESSION)
            if not uploads.allow(session_id):
                return _error(429, "too_many_uploads", TEXT_TOO_MANY)
            if file is None or not file.body:
                return _error(400, "no_file", TEXT_NO_FILE)
            try:
                check_attachment(file.type, None)
            except AttachmentRefused as exc:
                return _error(415, "unsupported_type", exc.message)
            try:
                attachment = await asyncio.get_running_loop().run_in_executor(
                    None, store_attachment, file.body, file.type, file.name)
            except AttachmentRefused as exc:
                return _error(413, "too_large", exc.message)
            except OSError:
                logger.exception("socketio upload: could not store the file")
                return _error(500, "not_saved", TEXT_NOT_SAVED)
            token = uploads.add(session_id, attachment)
            logger.info("socketio upload: %s, %d bytes", attachment.content_type, attachment.size)
            return response.json({"upload_id": token, "filename": attachment.filename,
                                  "content_type": attachment.content_type, "size": attachment.size}, status=201)

        return blueprint
