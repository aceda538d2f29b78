"""Channel-neutral bot messages -> Telegram Bot API calls.

Plain text (no parse mode, so nothing needs escaping), split under Telegram's 4096-character
limit; buttons as an inline keyboard under the last part, one button per row (titles stay
readable on a phone); images as photos and documents as files with a caption (at most 1024
characters).

`callback_data` is limited to 64 bytes: a payload that fits is sent as is (stateless, survives
a restart); a longer one is replaced by a token "~<n>" that the channel resolves from the
options it remembers for the chat (see `channels.telegram`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from channels.formatters.text import split_text, strip_markdown_bold

logger = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
LONG_PAYLOAD_PREFIX = "~"


@dataclass(frozen=True)
class TelegramButton:
    title: str
    callback_data: str


@dataclass(frozen=True)
class TelegramMessage:
    kind: str  # "text" | "photo" | "document"
    text: str = ""  # the text, or the caption of a photo/document
    url: str | None = None
    filename: str | None = None
    buttons: tuple[TelegramButton, ...] = field(default_factory=tuple)


@dataclass
class Formatted:
    messages: list[TelegramMessage]
    options: list[dict] | None  # the buttons shown ({title, payload}), None when none


def callback_data(payload: str, index: int) -> str:
    if payload and len(payload.encode()) <= CALLBACK_DATA_LIMIT and not payload.startswith(LONG_PAYLOAD_PREFIX):
        return payload
    return f"{LONG_PAYLOAD_PREFIX}{index}"


def format_message(message: dict) -> Formatted:
    text = strip_markdown_bold((message.get("text") or "").strip())
    buttons = [b for b in (message.get("buttons") or message.get("quick_replies") or []) if b.get("title")]
    out: list[TelegramMessage] = []
    parts = split_text(text, TEXT_LIMIT)
    keyboard = tuple(
        TelegramButton(b["title"][:64], callback_data(b.get("payload") or b["title"], i)) for i, b in enumerate(buttons)
    )
    if keyboard and not parts:
        parts = ["Escolha uma opção:"]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        out.append(TelegramMessage("text", part, buttons=keyboard if last else ()))

    custom = message.get("custom")
    if custom:
        if isinstance(custom, dict) and custom.get("type") in ("document", "image") and custom.get("url"):
            kind = "photo" if custom["type"] == "image" else "document"
            caption = (custom.get("caption") or "")[:CAPTION_LIMIT]
            out.append(TelegramMessage(kind, caption, url=custom["url"], filename=custom.get("filename")))
        else:
            kind = custom.get("type", "?") if isinstance(custom, dict) else type(custom).__name__
            logger.debug("telegram: custom message of unknown type ignored: %s", kind)
    if message.get("image"):
        out.append(TelegramMessage("photo", url=message["image"]))
    if message.get("attachment") and isinstance(message["attachment"], str):
        out.append(TelegramMessage("document", url=message["attachment"]))
    return Formatted(out, buttons or None)
