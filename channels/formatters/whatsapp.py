"""Channel-neutral bot messages -> WhatsApp (Twilio) messages.

WhatsApp has no buttons for a sandbox/ordinary sender: the options become a numbered list at
the end of the text and the user answers with the number or the option's words (see
`channels.formatters.text.match_option`). Text longer than the 1600-character limit of a
Twilio WhatsApp body is split at paragraph/sentence boundaries. Images and documents go as
media messages (`MediaUrl` = the backend's signed link, which Twilio fetches).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from channels.formatters.text import markdown_bold_to_whatsapp, split_text

logger = logging.getLogger(__name__)

BODY_LIMIT = 1600


@dataclass(frozen=True)
class WhatsAppMessage:
    body: str = ""
    media_url: str | None = None


@dataclass
class Formatted:
    messages: list[WhatsAppMessage]
    options: list[dict] | None  # buttons shown (title, payload), None when the message had none


def numbered_options(buttons: list[dict]) -> str:
    return "\n".join(f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, start=1))


def format_message(message: dict) -> Formatted:
    """One Rasa bot message ({text, buttons, image, custom, attachment}) -> Twilio messages."""
    text = markdown_bold_to_whatsapp((message.get("text") or "").strip())
    buttons = [b for b in (message.get("buttons") or message.get("quick_replies") or []) if b.get("title")]
    out: list[WhatsAppMessage] = []
    if buttons:
        listing = numbered_options(buttons)
        text = f"{text}\n\n{listing}" if text else listing
        parts = split_text(text, BODY_LIMIT)
        # the list stays whole and together with the end of the text when it fits
        if len(parts) > 1 and listing not in parts[-1] and len(listing) <= BODY_LIMIT:
            parts = split_text(text[: -len(listing)], BODY_LIMIT) + [listing]
    else:
        parts = split_text(text, BODY_LIMIT)
    out.extend(WhatsAppMessage(body=p) for p in parts)

    custom = message.get("custom")
    if custom:
        document = _document(custom)
        if document:
            out.append(document)
        else:
            logger.debug("whatsapp: custom message of unknown type ignored: %s", _kind(custom))
    if message.get("image"):
        out.append(WhatsAppMessage(media_url=message["image"]))
    if message.get("attachment") and isinstance(message["attachment"], str):
        out.append(WhatsAppMessage(media_url=message["attachment"]))
    return Formatted(out, buttons or None)


def _document(custom) -> WhatsAppMessage | None:
    if not isinstance(custom, dict) or custom.get("type") not in ("document", "image") or not custom.get("url"):
        return None
    caption = custom.get("caption") or custom.get("filename") or ""
    return WhatsAppMessage(body=caption[:BODY_LIMIT], media_url=custom["url"])


def _kind(custom) -> str:
    return custom.get("type", "?") if isinstance(custom, dict) else type(custom).__name__
