"""The channels hand every file a user sends to the backend and pass the assistant only its id.

    POST {BACKEND_URL}/api/inbound-files?filename=<name>
    Authorization: Bearer <BACKEND_SERVICE_TOKEN>     (the same service credential as the actions)
    X-Channel: whatsapp | telegram | socketio          X-Conversation-Id: <sender id>
    Content-Type: <the type the provider announced>   body: the file's bytes
    -> 201 {"id", "filename", "content_type", "size"}

Nothing is written to the channel's disk: the channel (Rasa) and the action server may run on
different machines; the backend keeps the bytes, bound to the conversation, and the action attaches
them by id. The upload policy (common/uploads.py) is checked here first, so a file the backend would
refuse is refused at once with the same pt-BR text; the backend checks it again (it is the
authority: it reads the type from the bytes).

Every failure becomes AttachmentRefused with a message for the user: the policy's text, the
backend's own message for its other refusals, or TEXT_TRY_LATER when the backend cannot be reached.
"""

from __future__ import annotations

import asyncio
import logging
import os

import aiohttp

from channels.common import Attachment, AttachmentRefused, mask_address
from common.uploads import REFUSAL_TEXTS, UploadRefused, base_content_type, check_content

logger = logging.getLogger(__name__)

DEFAULT_BACKEND_URL = "http://127.0.0.1:8080"
PATH = "/api/inbound-files"
TIMEOUT_S = 30.0
RETRY_DELAYS = (0.2, 0.6)  # only when the connection could not be made (nothing was sent)

TEXT_TRY_LATER = "Não consegui receber o seu arquivo agora. Tente enviar de novo daqui a alguns minutos, por favor."
TEXT_NOT_KEPT = "Não consegui guardar esse arquivo. Envie de novo, por favor."


def policy_refusal(exc: UploadRefused) -> AttachmentRefused:
    return AttachmentRefused(exc.message, exc.code, exc.status)


def unavailable() -> AttachmentRefused:
    return AttachmentRefused(TEXT_TRY_LATER, "backend_unavailable", 503)


class BackendFiles:
    """The backend's inbound-file store, over one aiohttp session (created on the server's loop).
    base_url / service_token: BACKEND_URL and BACKEND_SERVICE_TOKEN from the environment when not given
    (read at each call, as the actions' client does at start)."""

    def __init__(self, base_url: str | None = None, service_token: str | None = None, timeout_s: float = TIMEOUT_S):
        self._base_url = base_url
        self._service_token = service_token
        self.timeout_s = timeout_s
        self.retry_delays = RETRY_DELAYS
        self._session: aiohttp.ClientSession | None = None

    @property
    def base_url(self) -> str:
        return (self._base_url or os.environ.get("BACKEND_URL") or DEFAULT_BACKEND_URL).rstrip("/")

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _headers(self, channel: str, sender_id: str, content_type: str) -> dict[str, str]:
        headers = {"X-Channel": channel, "X-Conversation-Id": sender_id, "Content-Type": content_type}
        token = self._service_token or os.environ.get("BACKEND_SERVICE_TOKEN", "")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def store(
        self, channel: str, sender_id: str, content: bytes, *, filename: str | None, content_type: str | None
    ) -> Attachment:
        """Checks `content` against the upload policy and hands it to the backend for this
        conversation: the Attachment for the bot's metadata, or AttachmentRefused."""
        try:
            check_content(content)
        except UploadRefused as exc:
            raise policy_refusal(exc) from None
        declared = base_content_type(content_type) or "application/octet-stream"
        params = {"filename": filename} if filename else None
        headers = self._headers(channel, sender_id, declared)
        url = self.base_url + PATH
        for attempt in range(len(self.retry_delays) + 1):
            try:
                async with self._client().post(url, data=content, params=params, headers=headers) as resp:
                    data = await resp.json(content_type=None) if resp.status != 204 else {}
                    return self._answer(resp.status, data if isinstance(data, dict) else {}, channel, sender_id)
            except aiohttp.ClientConnectorError as exc:
                error: Exception = exc
                retry = True  # the connection was never made: nothing was stored
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                error, retry = exc, False
            if not retry or attempt == len(self.retry_delays):
                logger.warning(
                    "inbound file of %s on %s: backend unreachable: %r", mask_address(sender_id), channel, error
                )
                raise unavailable() from None
            await asyncio.sleep(self.retry_delays[attempt])
        raise AssertionError("unreachable")

    def _answer(self, status: int, data: dict, channel: str, sender_id: str) -> Attachment:
        if status == 201 and isinstance(data.get("id"), str):
            return Attachment(
                file_id=data["id"],
                content_type=str(data.get("content_type") or ""),
                filename=str(data.get("filename") or ""),
                size=int(data.get("size") or 0),
            )
        found = data.get("error")
        error: dict = found if isinstance(found, dict) else {}
        code = str(error.get("code") or "")
        if code in REFUSAL_TEXTS:  # the policy's refusal: the policy's text
            raise AttachmentRefused(REFUSAL_TEXTS[code], code, status)
        if status >= 500 or status in (401, 403) or status == 201:
            # down, failing, or refusing our credential (BACKEND_SERVICE_TOKEN is not the backend's):
            # nothing the user can fix
            log = logger.error if status in (401, 403) else logger.warning
            log("inbound file of %s on %s: backend answered %s %s", mask_address(sender_id), channel, status, code)
            raise unavailable()
        logger.info("inbound file of %s on %s refused: %s %s", mask_address(sender_id), channel, status, code)
        raise AttachmentRefused(str(error.get("message") or TEXT_NOT_KEPT), code or "refused", status)
