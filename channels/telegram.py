"""Telegram through python-telegram-bot 22 (async): a Rasa input channel (credentials key
`channels.telegram.TelegramInput`, webhook `POST /webhooks/telegram/webhook`).

- every update must carry `X-Telegram-Bot-Api-Secret-Token` = TELEGRAM_WEBHOOK_SECRET (403
  otherwise); the webhook is registered with that secret at start-up (setWebhook) when
  PUBLIC_BASE_URL is set;
- the update is acknowledged at once and processed afterwards, in order per chat; with
  INBOUND_AMQP_URL it is first kept in RabbitMQ (`channels.inbound_queue`: 503 when it could not be,
  and Telegram delivers it again) and processed by the queue's consumer;
- "/start" greets (sent to the bot as "oi"); buttons are inline keyboards; a pressed button is
  answered (answerCallbackQuery), its keyboard removed, and its payload fed back as the user's
  message;
- photos and documents both ways: the bot's PDFs/images are fetched from the backend's signed
  link and uploaded (so the backend need not be reachable from Telegram); the user's files
  (photos; documents: PDFs and spreadsheets, CSV or XLSX, by the mime_type Telegram announces)
  are downloaded with getFile (in memory) and handed to the backend, the bot gets their ids (same
  contract as WhatsApp: channels.inbound_files, common/uploads.py).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import TelegramError

from channels.common import (
    ATTACHMENT_MESSAGE,
    Attachment,
    AttachmentRefused,
    env,
    user_text,
)
from channels.formatters.telegram import LONG_PAYLOAD_PREFIX, TelegramMessage, format_message
from channels.output import WholeMessageOutput
from channels.provider_input import ProviderInput
from common.uploads import UploadRefused, check_declared, check_size

logger = logging.getLogger(__name__)

TELEGRAM_API_BASE_URL = "https://api.telegram.org"
WEBHOOK_PATH = "/webhooks/telegram/webhook"
SORRY = "Desculpe, tive um problema para responder agora. Pode repetir sua mensagem em instantes?"
ONLY_TEXT = "Por aqui eu entendo mensagens de texto, fotos, PDFs e planilhas (CSV ou XLSX). Como posso ajudar?"


def make_bot(token: str, api_base_url: str = TELEGRAM_API_BASE_URL) -> Bot:
    base = api_base_url.rstrip("/")
    return Bot(token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")


class TelegramOutput(WholeMessageOutput[TelegramMessage]):
    """Formats each bot message for Telegram and sends it. `direct=True` inside a user turn
    (already in the chat's lane); otherwise each send is queued in the chat's lane."""

    channel: TelegramInput
    formatter = staticmethod(format_message)

    @classmethod
    def name(cls) -> str:
        return "telegram"

    async def send_part(self, recipient_id: str, part: TelegramMessage) -> None:
        if self.direct:
            await self.channel.send(recipient_id, part)
        else:
            await self.channel.lanes.run(str(recipient_id), functools.partial(self.channel.send, recipient_id, part))


class TelegramInput(ProviderInput):
    """credentials.yml:
        channels.telegram.TelegramInput:
          token: ${TELEGRAM_BOT_TOKEN}
          webhook_secret: ${TELEGRAM_WEBHOOK_SECRET}
          public_base_url: ${PUBLIC_BASE_URL}
    Each setting falls back to its environment variable; without a public URL the webhook is
    not registered (do it by hand, see docs/channels.md). TELEGRAM_API_BASE_URL (tests only)
    points the bot at another Bot API server."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        token = env("TELEGRAM_BOT_TOKEN", credentials, "token")
        secret = env("TELEGRAM_WEBHOOK_SECRET", credentials, "webhook_secret")
        if not token or not secret:
            raise RasaException(
                "telegram channel: TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are required (see docs/channels.md)"
            )
        return cls(
            token,
            secret,
            public_base_url=env("PUBLIC_BASE_URL", credentials, "public_base_url"),
            api_base_url=env("TELEGRAM_API_BASE_URL", credentials, "api_base_url") or TELEGRAM_API_BASE_URL,
        )

    def __init__(
        self,
        token: str,
        webhook_secret: str,
        public_base_url: str | None = None,
        api_base_url: str = TELEGRAM_API_BASE_URL,
    ) -> None:
        self.webhook_secret = webhook_secret
        self.public_base_url = (public_base_url or "").rstrip("/") or None
        self.bot = make_bot(token, api_base_url)
        super().__init__()
        self._http: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Future] = set()  # the webhook registration, kept alive while it runs
        self._init_lock: asyncio.Lock | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def ready_bot(self) -> Bot:
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:
            await self.bot.initialize()  # getMe, once
        return self.bot

    async def register_webhook(self) -> bool:
        if not self.public_base_url:
            logger.info("telegram: PUBLIC_BASE_URL not set, webhook not registered")
            return False
        try:
            bot = await self.ready_bot()
            await bot.set_webhook(
                url=self.public_base_url + WEBHOOK_PATH,
                secret_token=self.webhook_secret,
                allowed_updates=["message", "callback_query"],
            )
            logger.info("telegram: webhook registered at %s", self.public_base_url + WEBHOOK_PATH)
            return True
        except (TelegramError, OSError) as exc:
            logger.error("telegram: could not register the webhook: %r", exc)
            return False

    def is_authentic(self, request: Request) -> bool:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        return hmac.compare_digest(given.encode(), self.webhook_secret.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = self.webhook_blueprint("telegram_webhook", on_new_message)

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.is_authentic(request):
                logger.warning("telegram: webhook with a missing or wrong secret token refused")
                return response.json({"error": "token inválido"}, status=403)
            try:
                update = Update.de_json(request.json, self.bot)
            except Exception:  # noqa: BLE001 - malformed update: acknowledge, never retry
                logger.warning("telegram: malformed update ignored")
                return response.json({"ok": True})
            chat = update.effective_chat if update else None
            # the update's JSON: what the inbound queue keeps (INBOUND_AMQP_URL), or the lanes' job
            if chat is not None and not await self.take(
                str(chat.id), update.update_id, request.json, lambda: self.process(on_new_message, update)
            ):
                return self.unavailable()  # not kept: Telegram delivers it again
            return response.json({"ok": True})

        @bp.listener("after_server_start")
        async def start(*_: Any) -> None:
            task = asyncio.ensure_future(self.register_webhook())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        return bp

    async def close_clients(self) -> None:
        if self._http is not None:
            await self._http.close()
        await super().close_clients()
        try:
            await self.bot.shutdown()
        except Exception:  # the server is stopping anyway
            logger.debug("telegram: bot shutdown failed", exc_info=True)

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self)

    # --- inbound ---------------------------------------------------------------------------

    async def handle_queued(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], payload: Any) -> None:
        update = Update.de_json(payload, self.bot)
        if update is not None:
            await self.process(on_new_message, update)

    async def process(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], update: Update) -> None:
        if update.effective_chat is None:  # the webhook queues only updates from a chat
            return
        chat_id = str(update.effective_chat.id)
        out = TelegramOutput(self, direct=True)
        try:
            text, attachments, refusal = await self.read_update(update)
            if refusal:
                await out.send_text_message(chat_id, refusal)
                if not attachments:
                    return
            if not text:
                if update.message is not None:
                    await out.send_text_message(chat_id, ONLY_TEXT)
                return
            logger.info("telegram: message in chat %s (%d attachment(s))", chat_id, len(attachments))
            await self.hand_to_rasa(on_new_message, out, chat_id, text, attachments, f"tg-{update.update_id}")
        except Exception:
            logger.exception("telegram: failed to handle an update in chat %s", chat_id)
            try:
                await out.send_text_message(chat_id, SORRY)
            except Exception:
                logger.exception("telegram: could not even apologise in chat %s", chat_id)

    async def read_update(self, update: Update) -> tuple[str, list[Attachment], str | None]:
        """-> (text for Rasa, attachments, refusal message)."""
        if update.callback_query is not None:
            return await self.pressed(update), [], None
        message = update.message
        if message is None:
            return "", [], None
        attachments: list[Attachment] = []
        refusal = None
        chat_id = str(message.chat_id)
        try:
            if message.document is not None:
                doc = message.document
                attachments.append(
                    await self.download(chat_id, doc.file_id, doc.mime_type, doc.file_size, doc.file_name)
                )
            elif message.photo:
                photo = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
                attachments.append(
                    await self.download(chat_id, photo.file_id, "image/jpeg", photo.file_size, "foto.jpg")
                )
        except (UploadRefused, AttachmentRefused) as exc:
            refusal = exc.message
        except (TelegramError, OSError) as exc:
            logger.error("telegram: could not fetch a file in chat %s: %r", message.chat_id, exc)
            refusal = "Não consegui baixar o arquivo que você enviou. Pode mandar de novo?"
        text = user_text(message.text or message.caption)
        if not text and attachments:
            text = ATTACHMENT_MESSAGE
        return text, attachments, refusal

    async def pressed(self, update: Update) -> str:
        """A pressed inline button: acknowledged, its keyboard removed (no double answers),
        and its payload returned as the user's message."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:  # read_update calls here only for a pressed button in a chat
            return ""
        chat_id = str(chat.id)
        data = query.data or ""
        title = _button_title(query)
        if data.startswith(LONG_PAYLOAD_PREFIX):  # a payload longer than callback_data allows
            payload = ""
            index = data[len(LONG_PAYLOAD_PREFIX) :]
            options = await self.options.get(chat_id)
            if index.isdigit() and int(index) < len(options):
                payload = options[int(index)].get("payload") or ""
            payload = payload or title or ""
        elif title is not None or any(o.get("payload") == data for o in await self.options.get(chat_id)):
            payload = data  # one of our buttons (Telegram echoes the message's real keyboard)
        else:
            payload = user_text(data)  # not a button we sent: treated like typed text
        bot = await self.ready_bot()
        try:
            await bot.answer_callback_query(query.id)
            if query.message is not None:
                await bot.edit_message_reply_markup(chat_id=query.message.chat.id, message_id=query.message.message_id)
        except TelegramError as exc:  # an old button: still take the answer
            logger.info("telegram: callback acknowledgement failed: %r", exc)
        return payload

    async def download(
        self, chat_id: str, file_id: str, content_type: str | None, size: int | None, filename: str | None
    ) -> Attachment:
        """Fetches a user's file (getFile) and hands it to the backend for this chat; UploadRefused /
        AttachmentRefused when the policy or the backend refuses it."""
        check_declared(content_type, size)
        bot = await self.ready_bot()
        file = await bot.get_file(file_id)
        check_size(file.file_size)
        content = bytes(await file.download_as_bytearray())
        name = filename or (file.file_path or "").rsplit("/", 1)[-1]
        return await self.files.store(self.name(), chat_id, content, filename=name, content_type=content_type)

    # --- outbound --------------------------------------------------------------------------

    async def send(self, chat_id: str, item: TelegramMessage) -> None:
        bot = await self.ready_bot()
        markup = None
        if item.buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b.title, callback_data=b.callback_data)] for b in item.buttons]
            )
        if item.kind == "text":
            await bot.send_message(chat_id, item.text, reply_markup=markup)
            return
        if not item.url:
            raise ValueError(f"telegram: a {item.kind} message without its file's url")
        content = await self.fetch(item.url)
        caption = item.text or None
        if item.kind == "photo":
            photo = InputFile(content, filename=item.filename or "imagem.png") if content is not None else item.url
            await bot.send_photo(chat_id, photo, caption=caption)
        else:
            document = (
                InputFile(content, filename=item.filename or "documento.pdf") if content is not None else item.url
            )
            await bot.send_document(chat_id, document, caption=caption)

    async def fetch(self, url: str | None) -> bytes | None:
        """The bot's file from the backend's signed link; None -> let Telegram fetch the URL."""
        if not url:
            return None
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            async with self._http.get(url) as resp:
                if resp.status != 200:
                    logger.warning("telegram: file link answered %s; sending the URL instead", resp.status)
                    return None
                content = await resp.read()
                return content if len(content) <= 50 * 1024 * 1024 else None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            logger.warning("telegram: could not fetch a file link (%r); sending the URL instead", exc)
            return None


def _button_title(query) -> str | None:
    markup = getattr(query.message, "reply_markup", None) if query.message else None
    for row in getattr(markup, "inline_keyboard", None) or ():
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None
