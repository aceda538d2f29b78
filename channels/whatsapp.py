"""WhatsApp through Twilio: a Rasa input channel (credentials key `channels.whatsapp.WhatsAppInput`,
webhook `POST /webhooks/whatsapp/webhook`).

Better than Rasa's built-in `twilio` connector:
- every webhook must carry a valid `X-Twilio-Signature` (twilio's `RequestValidator`, computed
  over PUBLIC_BASE_URL + the path and the form fields), 403 otherwise;
- the webhook is answered at once with an empty TwiML; the message is processed and the
  replies sent afterwards, one message at a time per sender and in order (`channels.lanes`),
  different senders in parallel; with INBOUND_AMQP_URL the message is first kept in RabbitMQ
  (`channels.inbound_queue`: 503 when it could not be) and processed by the queue's consumer;
- replies go to Twilio's REST API over aiohttp (non-blocking; twilio's own client is
  synchronous and would stall the event loop of the whole Rasa server on each send), retried
  on 429/5xx;
- buttons become a numbered list and "1", "2" or the option's words pick the option;
- long texts are split under the 1600-character limit; images/PDFs go as media (MediaUrl);
- photos, PDFs and spreadsheets (CSV, XLSX) the user sends are fetched from Twilio with the
  account's credentials, handed to the backend (channels.inbound_files; nothing is written to disk
  here) and passed to the bot as their ids in the message metadata (docs/channels.md); what the
  upload policy (common/uploads.py) or the backend refuses gets its pt-BR explanation;
- the sender (whatsapp:+55...) is the conversation id and never logged unmasked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from channels.common import (
    ATTACHMENT_MESSAGE,
    Attachment,
    AttachmentRefused,
    env,
    mask_address,
    user_text,
)
from channels.formatters.text import match_option
from channels.formatters.whatsapp import WhatsAppMessage, format_message
from channels.output import WholeMessageOutput
from channels.provider_input import ProviderInput
from common.uploads import MAX_UPLOAD_BYTES, UploadRefused, check_declared, check_size

logger = logging.getLogger(__name__)

TWILIO_API_BASE_URL = "https://api.twilio.com"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_MEDIA_PER_MESSAGE = 10
SORRY = "Desculpe, tive um problema para responder agora. Pode repetir sua mensagem em instantes?"
ONLY_TEXT = "Por aqui eu entendo mensagens de texto, fotos, PDFs e planilhas (CSV ou XLSX). Como posso ajudar?"


class TwilioSender:
    """Twilio's REST API over one shared aiohttp session (created on the server's loop)."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_base_url: str = TWILIO_API_BASE_URL):
        self.account_sid = account_sid
        self.from_number = from_number
        self.api_base_url = api_base_url.rstrip("/")
        self._auth = aiohttp.BasicAuth(account_sid, auth_token)
        self._session: aiohttp.ClientSession | None = None
        self.retry_delays = (0.5, 1.0, 2.0)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def send(self, to: str, message: WhatsAppMessage) -> str | None:
        """Sends one message; returns Twilio's message SID, or None if it could not be sent."""
        data = [("To", to), ("From", self.from_number)]
        if message.body:
            data.append(("Body", message.body))
        if message.media_url:
            data.append(("MediaUrl", message.media_url))
        url = f"{self.api_base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        for delay in (*self.retry_delays, None):
            try:
                async with self._client().post(url, data=data, auth=self._auth) as resp:
                    if resp.status in (200, 201):
                        return (await resp.json(content_type=None) or {}).get("sid")
                    detail = (await resp.text())[:300]
                    retryable = resp.status == 429 or resp.status >= 500
                    retry_after = resp.headers.get("Retry-After")
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                detail, retryable, retry_after = repr(exc), True, None
                resp = None
            status = resp.status if resp is not None else "-"
            if not retryable or delay is None:
                logger.error("whatsapp: send to %s failed (%s): %s", mask_address(to), status, detail)
                return None
            logger.warning("whatsapp: send to %s failed (%s), retrying", mask_address(to), status)
            await asyncio.sleep(_retry_after(retry_after, delay))
        return None

    async def download(self, url: str) -> tuple[bytes, str]:
        """Fetches an inbound media file, in memory and at most the upload policy's limit
        (UploadRefused past it). The account's credentials go only to Twilio's own API host (the
        file itself may redirect to a CDN)."""
        same_host = urlsplit(url).netloc == urlsplit(self.api_base_url).netloc
        async with self._client().get(url, auth=self._auth if same_host else None) as resp:
            resp.raise_for_status()
            content_type = resp.headers.get("Content-Type", "")
            check_declared(content_type, resp.content_length)
            content = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                content += chunk
                if len(content) > MAX_UPLOAD_BYTES:
                    check_size(len(content))
            return bytes(content), content_type


def form_params(request: Request) -> dict[str, str]:
    """The webhook's form fields, blank ones included: Twilio signs "Body=" of a media-only
    message too, and Sanic's `request.form` drops blank values."""
    if "application/x-www-form-urlencoded" not in request.headers.get("Content-Type", ""):
        return {}
    return dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))


def _retry_after(header: str | None, default: float) -> float:
    try:
        return min(float(header), 10.0) if header else default
    except ValueError:
        return default


class WhatsAppOutput(WholeMessageOutput[WhatsAppMessage]):
    """Formats each bot message for WhatsApp and sends it.

    `direct=True` is the output of a message being processed: it already runs in the sender's
    lane, so it sends right away. Otherwise (messages pushed by Rasa outside a user turn, e.g.
    an agent's text), each send is queued in the recipient's lane to keep the order."""

    channel: WhatsAppInput
    formatter = staticmethod(format_message)

    def __init__(self, channel: WhatsAppInput, direct: bool = False) -> None:
        super().__init__(channel, direct)
        self.sent: list[WhatsAppMessage] = []

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    async def send_part(self, recipient_id: str, part: WhatsAppMessage) -> None:
        self.sent.append(part)
        if self.direct:
            await self.channel.sender.send(recipient_id, part)
        else:
            await self.channel.lanes.run(recipient_id, lambda: self.channel.sender.send(recipient_id, part))


class WhatsAppInput(ProviderInput):
    """credentials.yml:
        channels.whatsapp.WhatsAppInput:
          account_sid: ${TWILIO_ACCOUNT_SID}
          auth_token: ${TWILIO_AUTH_TOKEN}
          whatsapp_number: ${TWILIO_WHATSAPP_NUMBER}
          public_base_url: ${PUBLIC_BASE_URL}
    Each setting falls back to its environment variable; TWILIO_API_BASE_URL (tests only)
    points the sender at another Twilio API."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        settings = {
            "account_sid": env("TWILIO_ACCOUNT_SID", credentials, "account_sid"),
            "auth_token": env("TWILIO_AUTH_TOKEN", credentials, "auth_token"),
            "whatsapp_number": env("TWILIO_WHATSAPP_NUMBER", credentials, "whatsapp_number"),
            "public_base_url": env("PUBLIC_BASE_URL", credentials, "public_base_url"),
        }
        given = {key: value for key, value in settings.items() if value}
        missing = [key for key in settings if key not in given]
        if missing:
            raise RasaException(f"whatsapp channel: missing settings {', '.join(missing)} (see docs/channels.md)")
        api_base_url = env("TWILIO_API_BASE_URL", credentials, "api_base_url") or TWILIO_API_BASE_URL
        return cls(**given, api_base_url=api_base_url)

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        whatsapp_number: str,
        public_base_url: str,
        api_base_url: str = TWILIO_API_BASE_URL,
    ) -> None:
        if not whatsapp_number.startswith("whatsapp:"):
            whatsapp_number = f"whatsapp:{whatsapp_number}"
        self.public_base_url = public_base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.sender = TwilioSender(account_sid, auth_token, whatsapp_number, api_base_url)
        super().__init__()

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: the public one it was configured with, not the one we see
        behind a proxy."""
        url = self.public_base_url + request.path
        return f"{url}?{request.query_string}" if request.query_string else url

    def is_signed(self, request: Request, params: dict[str, str]) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        return bool(signature) and self.validator.validate(self.signed_url(request), params, signature)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = self.webhook_blueprint("whatsapp_webhook", on_new_message)

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            params = form_params(request)
            if not self.is_signed(request, params):
                logger.warning("whatsapp: webhook with a missing or wrong signature refused")
                return response.json({"error": "assinatura inválida"}, status=403)
            if params.get("MessageStatus") or params.get("SmsStatus", "received") != "received":
                return response.text("", status=204)  # a delivery-status callback, not a message
            sender = params.get("From")
            if not sender:
                return response.json({"error": "mensagem sem remetente"}, status=400)
            # the verified form fields: what the inbound queue keeps (INBOUND_AMQP_URL), or the lanes' job
            sid = params.get("MessageSid")
            if not await self.take(sender, sid, params, lambda: self.process(on_new_message, params)):
                return self.unavailable()  # not kept: Twilio's retry is taken as new (docs/channels.md)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return bp

    async def handle_queued(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], payload: Any) -> None:
        await self.process(on_new_message, {str(key): str(value) for key, value in payload.items()})

    async def close_clients(self) -> None:
        await self.sender.close()
        await super().close_clients()

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppOutput(self)

    async def process(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], params: dict[str, str]) -> None:
        """One inbound message, start to end (runs in the sender's lane, or in the inbound queue's consumer)."""
        sender = params["From"]
        out = WhatsAppOutput(self, direct=True)
        try:
            attachments, refusal = await self.fetch_media(params)
            if refusal:  # said even when other files of the message went through
                await out.send_text_message(sender, refusal)
                if not attachments:
                    return
            text = user_text(params.get("Body"))
            picked = match_option(text, await self.options.get(sender)) if text else None
            if picked:
                text = picked
            elif not text and attachments:
                text = ATTACHMENT_MESSAGE
            if not text:
                await out.send_text_message(sender, ONLY_TEXT)
                return
            logger.info("whatsapp: message from %s (%d attachment(s))", mask_address(sender), len(attachments))
            await self.hand_to_rasa(on_new_message, out, sender, text, attachments, params.get("MessageSid"))
        except Exception:
            logger.exception("whatsapp: failed to handle a message from %s", mask_address(sender))
            try:
                await out.send_text_message(sender, SORRY)
            except Exception:
                logger.exception("whatsapp: could not even apologise to %s", mask_address(sender))

    async def fetch_media(self, params: dict[str, str]) -> tuple[list[Attachment], str | None]:
        """Downloads MediaUrl0..N and hands each to the backend; returns the files kept and, if
        any was refused, why."""
        attachments: list[Attachment] = []
        refusal = None
        sender = params["From"]
        count = min(int(params.get("NumMedia") or 0), MAX_MEDIA_PER_MESSAGE)
        for i in range(count):
            url = params.get(f"MediaUrl{i}")
            if not url:
                continue
            content_type = params.get(f"MediaContentType{i}")
            try:
                check_declared(content_type)
                content, served_type = await self.sender.download(url)
                filename = url.rstrip("/").rsplit("/", 1)[-1]
                attachments.append(
                    await self.files.store(
                        self.name(), sender, content, filename=filename, content_type=content_type or served_type
                    )
                )
            except (UploadRefused, AttachmentRefused) as exc:
                refusal = exc.message
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                logger.error("whatsapp: could not fetch media %d from %s: %r", i, mask_address(params.get("From")), exc)
                refusal = "Não consegui baixar o arquivo que você enviou. Pode mandar de novo?"
        return attachments, refusal
