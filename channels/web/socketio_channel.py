"""Rasa's socketio channel for the website widget (credentials.yml:
`channels.web.socketio_channel.WebSocketIOInput`, same settings as `socketio`), with server-issued,
signed session ids and the widget's file upload. See docs/widget.md.

Sessions. Rasa's own channel takes any `session_id` a browser sends in `session_request`, joins the
socket to a room of that name and uses it as the conversation's sender_id: a second client that
replays (or guesses) a victim's id reads the victim's conversation. Here:
- the server issues the id: `<rid>.<expires>.<signature>` (rid: 144 random bits; expires: unix time;
  signature: HMAC-SHA256 of "rid.expires" under a key derived from WIDGET_SESSION_SECRET). A
  `session_request` resumes a conversation only with a valid, unexpired id, compared with
  hmac.compare_digest; anything else (missing, raw, tampered, expired, of another secret) gets a fresh
  one. A resumed id is re-issued with a new expiry (WIDGET_SESSION_HOURS after the last reload);
- the conversation's sender_id (and the socket.io room its answers go to) is an HMAC of the rid under
  another derived key: knowing a sender_id (agent console, logs) gives no way to a session id;
- the socket is bound to its session on `session_request` (python-socketio's per-socket session):
  `user_uttered` uses that binding, never the `session_id` in the message, so a client can only talk
  in the conversation it holds a valid id for. Nothing is stored per issued id: the registry of
  sessions is the signature itself, and a socket is in at most one conversation room.

Two bugs of rasa 3.6's SocketIOInput with the python-socketio 5.18 we pin are also fixed:
`sio.enter_room()` became a coroutine that Rasa does not await (with session_persistence every answer
was lost), and `send_custom_json` passed a bare json_message as keyword arguments of `sio.emit()`.

Files from the widget, the same contract as WhatsApp and Telegram (channels/common.py):
- POST /webhooks/socketio/upload, multipart `file` + `session_id` (a valid signed id): the file is
  checked against the upload policy (common/uploads.py) and handed to the backend for the session's
  conversation (channels.inbound_files; nothing is written to this machine's disk), and the browser
  gets 201 {"upload_id", "filename", "content_type", "size"} — never the backend's id;
- the widget then emits user_uttered with metadata {"upload_ids": [...]}; the channel swaps them for
  {"attachments": [{"file_id", "content_type", "filename", "size"}]} (ids of other sessions, used or
  expired ids are ignored; "attachments" sent by a browser are always dropped) before Rasa sees it;
- bounded (channels.shared_state.UploadRegistry): uploads at once (per process), files per session in a
  window, files and bytes waiting per session and in total; an upload not sent to the assistant within
  an hour is forgotten (also by a sweep every minute; the backend expires the file itself).
Cross-origin sites: the route is a simple CORS request (multipart, no custom header); Rasa's own
`--cors` (Sanic-CORS, every route of the app) answers it and its preflight, as for /socket.io.

Several Rasa instances (CHANNEL_REDIS_URL, channels.shared_state): the socket.io server's client manager
is python-socketio's AsyncRedisManager, so an answer emitted by any instance (an agent's reply arrives
through whichever instance the backend called) reaches the browser connected to another; the upload
registry lives in Redis too (the upload may go through one instance, the message through another). The
signed ids need nothing shared but WIDGET_SESSION_SECRET. Without it, everything stays in this process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import engineio  # type: ignore[import-untyped]
from rasa.core.channels.channel import InputChannel, UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer  # type: ignore[import-untyped]

from channels.common import AttachmentRefused, env, var_dir
from channels.inbound_files import BackendFiles
from channels.shared_state import (
    IN_FLIGHT,
    MB,
    PENDING_BYTES,
    PENDING_FILES,
    UploadLimitReached,
    UploadLimits,
    channel_state,
)
from common.local_secrets import load_or_create
from common.uploads import (
    EMPTY_FILE,
    FILE_TOO_LARGE,
    MAX_UPLOAD_BYTES,
    REFUSAL_STATUS,
    REFUSAL_TEXTS,
    UploadRefused,
    check_content,
    check_declared,
)

logger = logging.getLogger(__name__)

# sessions
SESSION_SECRET_ENV = "WIDGET_SESSION_SECRET"  # noqa: S105 (the variable's name, not a secret)
SESSION_HOURS = 12  # WIDGET_SESSION_HOURS: an id not used for a reload in this long starts a new conversation
MIN_SECRET_LENGTH = 16
TOKEN_RE = re.compile(r"^([A-Za-z0-9_-]{24})\.([0-9]{10,12})\.([A-Za-z0-9_-]{43})$")
MAX_TOKEN_LENGTH = 100  # anything longer is not looked at

# uploads (the limits: channels.shared_state.UploadLimits)
SWEEP_EVERY_S = 60
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, headers and the session_id field around the file

TEXT_UNKNOWN_SESSION = "Não encontrei esta conversa. Recarregue a página e tente de novo."
TEXT_NO_FILE = "Escolha um arquivo (foto, PDF ou planilha) para enviar."
TEXT_TOO_MANY = "Você enviou muitos arquivos em pouco tempo. Espere alguns minutos e tente de novo."
TEXT_BUSY = "Estou recebendo muitos arquivos agora. Tente de novo em alguns minutos."
TEXT_UPLOAD_LOST = "Não encontrei o arquivo que você enviou. Envie de novo, por favor."


def _setting(name: str, default: float) -> float:
    """A positive number from the environment, else the default (a bad value is logged, not fatal)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0
    if value <= 0:
        logger.warning("%s=%r ignored: expected a positive number; using %s", name, raw, default)
        return default
    return value


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _error(status: int, code: str, message: str) -> HTTPResponse:
    """The backend's error shape ({"error": {"code", "message"}}), which the widget shows as is."""
    return response.json({"error": {"code": code, "message": message}}, status=status)


def _policy_error(code: str) -> HTTPResponse:
    """A refusal of the upload policy (common/uploads.py): its status, code and pt-BR text."""
    return _error(REFUSAL_STATUS[code], code, REFUSAL_TEXTS[code])


# ---------------------------------------------------------------------------------------------------
# signed session ids


class WidgetSession(NamedTuple):
    token: str  # what the browser keeps and sends back
    sender_id: str  # the Rasa conversation (and socket.io room); never shown to the browser


class SessionSigner:
    """Issues and checks the widget's session ids. Stateless: any Rasa process with the same secret
    accepts the ids of the others, also after a restart."""

    def __init__(
        self, secret: str, ttl_s: float = SESSION_HOURS * 3600, clock: Callable[[], float] = time.time
    ) -> None:
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"{SESSION_SECRET_ENV} must have at least {MIN_SECRET_LENGTH} characters")
        key = secret.encode()
        self._sign_key = hmac.new(key, b"widget-session/signature", hashlib.sha256).digest()
        self._sender_key = hmac.new(key, b"widget-session/sender", hashlib.sha256).digest()
        self.ttl_s, self.clock = ttl_s, clock

    def _signature(self, body: str) -> str:
        return _b64(hmac.new(self._sign_key, body.encode(), hashlib.sha256).digest())

    def sender_id(self, rid: str) -> str:
        return hmac.new(self._sender_key, rid.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self, rid: str | None = None) -> WidgetSession:
        """A fresh session, or (rid given) the same conversation with a new expiry."""
        rid = rid or _b64(secrets.token_bytes(18))
        body = f"{rid}.{int(self.clock() + self.ttl_s)}"
        return WidgetSession(f"{body}.{self._signature(body)}", self.sender_id(rid))

    def rid(self, token: Any) -> str | None:
        """The random part of a valid, unexpired id; None for anything else."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            return None
        match = TOKEN_RE.match(token)
        if not match:
            return None
        rid, expires, signature = match.groups()
        if not hmac.compare_digest(signature, self._signature(f"{rid}.{expires}")):
            return None
        if int(expires) < self.clock():
            return None
        return rid

    def verify(self, token: Any) -> WidgetSession | None:
        rid = self.rid(token)
        return WidgetSession(token, self.sender_id(rid)) if rid else None

    def resume_or_issue(self, token: Any) -> tuple[WidgetSession, bool]:
        """(session, resumed): the same conversation for a valid id, else a new one."""
        rid = self.rid(token)
        return (self.issue(rid), True) if rid else (self.issue(), False)


# ---------------------------------------------------------------------------------------------------
# uploads waiting to be sent to the assistant (the registry: channels.shared_state)


def upload_limits_from_env() -> UploadLimits:
    return UploadLimits(
        total_files=int(_setting("WIDGET_UPLOADS_MAX_FILES", PENDING_FILES)),
        total_bytes=int(_setting("WIDGET_UPLOADS_MAX_MB", PENDING_BYTES / MB) * MB),
        in_flight=int(_setting("WIDGET_UPLOADS_IN_FLIGHT", IN_FLIGHT)),
    )


# an upload refused by a cap of the registry: (status, code, text)
LIMIT_REFUSALS = {
    "session": (429, "too_many_uploads", TEXT_TOO_MANY),
    "total": (503, "busy", TEXT_BUSY),
}


# ---------------------------------------------------------------------------------------------------
# the channel


class _EngineIOServer(engineio.AsyncServer):
    """engine.io's server with one change for Sanic 21.12: after a WebSocket upgrade, the request gets no
    HTTP answer. engine.io returns one when the socket ends, and Sanic, writing it on the connection the
    WebSocket already closed, logged "Exception occurred while handling uri: ...transport=websocket..."
    (AttributeError: 'NoneType' object has no attribute 'is_closing') at ERROR for widget users who left:
    99 lines in one 90 s phase of bench-cluster (2026-12-01). Sanic takes a None answer from handlers
    marked as WebSocket ones; every other request is answered as before."""

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        protocol = _protocol(args[0]) if args else None  # now: a closed transport no longer knows it
        answer = await super().handle_request(*args, **kwargs)
        return None if getattr(protocol, "websocket", None) is not None else answer

    handle_request.is_websocket = True  # type: ignore[attr-defined]


def _protocol(request: Any) -> Any:
    """Sanic's protocol object of the connection `request` came on; its `websocket` is set once the
    connection became a WebSocket (the handshake went through)."""
    transport = getattr(request, "transport", None)
    return transport.get_protocol() if transport is not None else None


class _SocketIOServer(AsyncServer):
    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return _EngineIOServer


class WebSocketIOOutput(SocketIOOutput):
    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """{"data": {...}} (Rasa's documented shape) and a bare {...} both reach the widget as {...}."""
        payload = json_message.get("data") if set(json_message) <= {"data", "room"} else json_message
        await self._send_message(json_message.get("room", recipient_id), payload)


class WebSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        channel = super().from_credentials(credentials)
        channel.session_secret = env(SESSION_SECRET_ENV, credentials, "session_secret")
        return channel

    def __init__(self, *args: Any, session_secret: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session_secret = session_secret
        self.signer: SessionSigner | None = None
        # in memory, or in Redis with CHANNEL_REDIS_URL (channels.shared_state): the upload registry and
        # the socket.io client manager that reaches browsers connected to another Rasa instance
        self.state = channel_state()
        self.uploads = self.state.web_uploads(upload_limits_from_env())
        self.files = BackendFiles()

    def _signer(self) -> SessionSigner:
        if self.signer is None:
            secret = self.session_secret or os.environ.get(SESSION_SECRET_ENV)
            if not secret:  # `make run` always passes one; a bare `rasa run` keeps one under var/secrets/
                secret = load_or_create(SESSION_SECRET_ENV, var_dir())
            self.signer = SessionSigner(secret, _setting("WIDGET_SESSION_HOURS", SESSION_HOURS) * 3600)
        return self.signer

    def get_output_channel(self) -> WebSocketIOOutput | None:
        return WebSocketIOOutput(self.sio, self.bot_message_evt) if self.sio else None

    def _socket_blueprint(self) -> Blueprint:
        """What Rasa's SocketIOInput.blueprint sets up besides the two handlers replaced below (health
        route, connect with the optional JWT, disconnect), on a server of our own: with
        CHANNEL_REDIS_URL its client manager is python-socketio's AsyncRedisManager, so an emit on any
        instance (an agent's reply through the Rasa API) reaches the browser wherever it is connected."""
        manager = self.state.socketio_manager()
        options = {"client_manager": manager} if manager is not None else {}
        # cors_allowed_origins=[]: CORS is Sanic-CORS's (rasa run --cors), as in Rasa's channel
        sio = _SocketIOServer(async_mode="sanic", cors_allowed_origins=[], **options)
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            logger.debug("socketio: %s disconnected", sid)

        return blueprint

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = self._socket_blueprint()
        sio = self.sio
        uploads = self.uploads
        signer = self._signer()
        namespace = self.namespace

        async def bind(sid: str, session: WidgetSession) -> None:
            """The socket now speaks for this conversation only (and, with session_persistence, gets its
            answers: the conversation's room; a previous room of the same socket is left)."""
            stored = await sio.get_session(sid, namespace=namespace)
            previous = stored.get("sender_id")
            if self.session_persistence and previous != session.sender_id:
                if previous:
                    await sio.leave_room(sid, previous, namespace=namespace)
                await sio.enter_room(sid, session.sender_id, namespace=namespace)
            await sio.save_session(sid, {"sender_id": session.sender_id}, namespace=namespace)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            asked = data.get("session_id") if isinstance(data, dict) else None
            session, resumed = signer.resume_or_issue(asked)
            if asked and not resumed:
                logger.info("socketio: session id refused (unsigned, tampered or expired); a new one issued")
            await bind(sid, session)
            await sio.emit("session_confirm", session.token, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            bound = (await sio.get_session(sid, namespace=namespace)).get("sender_id")
            if bound is None:  # a client that skipped session_request but holds a valid id
                session = signer.verify(data.get("session_id"))
                if session is not None:
                    await bind(sid, session)
                    bound = session.sender_id
            if self.session_persistence:
                if bound is None:
                    logger.warning("socketio message without a valid session ignored (send session_request first)")
                    return
                sender_id = bound
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            output = WebSocketIOOutput(sio, self.bot_message_evt)
            # files only ever come from this channel's own upload route, never from the browser's metadata
            metadata.pop("attachments", None)
            upload_ids = metadata.pop("upload_ids", None)
            if upload_ids:
                ids = upload_ids if isinstance(upload_ids, list) else [upload_ids]
                attachments = await uploads.take(bound, ids) if bound else []
                if not attachments:
                    await output.send_text_message(sender_id, TEXT_UPLOAD_LOST)
                    return
                metadata["attachments"] = [attachment.as_metadata() for attachment in attachments]
            message = data.get("message", "")
            await on_new_message(
                UserMessage(
                    message if isinstance(message, str) else "",
                    output,
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        @blueprint.route("/upload", methods=["POST"], stream=True)
        async def upload(request: Request) -> HTTPResponse:
            if uploads.in_flight >= uploads.limits.in_flight or await uploads.full():
                return _error(503, "busy", TEXT_BUSY)  # Sanic drains the body
            uploads.in_flight += 1
            try:
                return await receive(request)
            finally:
                uploads.in_flight -= 1

        async def receive(request: Request) -> HTTPResponse:
            limit = MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                return _policy_error(FILE_TOO_LARGE)
            stream = request.stream
            if stream is None:  # only a route declared with stream=True calls here
                raise RuntimeError("the upload route must be a streaming route")
            chunks, size = [], 0
            while True:
                chunk = await stream.read()
                if chunk is None:
                    break
                size += len(chunk)
                if size > limit:
                    return _policy_error(FILE_TOO_LARGE)
                chunks.append(chunk)
            request.body = b"".join(chunks)
            try:
                token = request.form.get("session_id") or ""
                file = request.files.get("file")
            except Exception:  # noqa: BLE001 - not a multipart form: sanic's parser raises assorted errors
                token, file = "", None
            session = signer.verify(token)
            if session is None:
                return _error(400, "unknown_session", TEXT_UNKNOWN_SESSION)
            if not await uploads.allow(session.sender_id):
                return _error(429, "too_many_uploads", TEXT_TOO_MANY)
            if file is None:
                return _error(400, "no_file", TEXT_NO_FILE)
            if not file.body:
                return _policy_error(EMPTY_FILE)
            try:
                check_declared(file.type, len(file.body))
                check_content(file.body)  # what the backend would refuse, refused here with its text
            except UploadRefused as exc:
                return _policy_error(exc.code)
            try:
                upload_id = await uploads.reserve(session.sender_id, len(file.body))
            except UploadLimitReached as exc:
                return _error(*LIMIT_REFUSALS[exc.scope])
            try:
                attachment = await self.files.store(
                    self.name(), session.sender_id, file.body, filename=file.name, content_type=file.type
                )
            except AttachmentRefused as exc:  # the backend refused it, or could not be reached
                await uploads.drop(session.sender_id, upload_id)
                return _error(exc.status, exc.code, exc.message)
            if not await uploads.fill(session.sender_id, upload_id, attachment):
                return _error(503, "busy", TEXT_BUSY)
            logger.info("socketio upload: %s, %d bytes", attachment.content_type, attachment.size)
            return response.json(
                {
                    "upload_id": upload_id,
                    "filename": attachment.filename,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                },
                status=201,
            )

        sweeper: dict[str, asyncio.Task] = {}

        async def sweep() -> None:
            while True:
                await asyncio.sleep(SWEEP_EVERY_S)
                try:
                    await uploads.prune()
                except Exception:  # Redis away for a moment: the next sweep tries again
                    logger.warning("socketio: the upload sweep failed", exc_info=True)

        @blueprint.listener("after_server_start")
        async def start_sweeper(*_: Any) -> None:
            sweeper["task"] = asyncio.ensure_future(sweep())
            if self.state.redis_url and not sio.manager_initialized:
                # listen to the other instances from the start (python-socketio would wait for the first
                # browser to connect here before subscribing)
                sio.manager_initialized = True
                sio.manager.initialize()

        @blueprint.listener("before_server_stop")
        async def stop_sweeper(*_: Any) -> None:
            tasks = [sweeper.pop("task", None), getattr(sio.manager, "thread", None)]
            for task in tasks:
                if isinstance(task, asyncio.Future):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await self.files.close()
            await self.state.close()

        return blueprint
