"""What both channels share: settings from the environment, masking of user addresses in logs,
the options last shown to each conversation, and where inbound files are stored.

Inbound attachment contract (what the bot receives; see docs/channels.md):
    text: the caption/body the user typed, or ATTACHMENT_MESSAGE when there is none
    metadata: {"attachments": [{"path": "/abs/var/uploads/inbound/<random>/<name>",
                                "content_type": "application/pdf", "filename": "<name>",
                                "size": 12345}]}
"""

from __future__ import annotations

import os
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# sent as the user's message when a file arrives without text (an intent for the bot)
ATTACHMENT_MESSAGE = "/enviar_documento"

MAX_ATTACHMENT_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for documents is 100 MB, media 16 MB
ALLOWED_CONTENT_TYPES = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
}

# how long a list of options stays answerable by number
OPTIONS_TTL_S = 30 * 60


def env(name: str, credentials: dict | None = None, key: str | None = None) -> str | None:
    """A setting from the credentials section (which may itself say ${ENV}) or the environment."""
    value = (credentials or {}).get(key or name.lower())
    if value in (None, ""):
        value = os.environ.get(name)
    return value or None


def var_dir() -> Path:
    return Path(os.environ.get("VAR_DIR") or ROOT / "var")


def inbound_dir() -> Path:
    return var_dir() / "uploads" / "inbound"


_DIGITS_RE = re.compile(r"\d")


def mask_address(address: str | int | None) -> str:
    """'whatsapp:+5579998110001' -> 'whatsapp:+*********0001': only the last 4 digits stay."""
    text = str(address or "")
    total = len(_DIGITS_RE.findall(text))
    seen = 0

    def repl(match: re.Match) -> str:
        nonlocal seen
        seen += 1
        return match.group(0) if seen > total - 4 else "*"

    return _DIGITS_RE.sub(repl, text)


class OptionMemory:
    """The buttons last shown to each conversation (in memory; one Rasa instance per
    conversation, which sticky routing or a single instance gives)."""

    def __init__(self, ttl_s: float = OPTIONS_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._options: dict[str, tuple[float, list[dict]]] = {}

    def remember(self, key: str, options: list[dict] | None) -> None:
        if options:
            self._options[key] = (time.monotonic(), list(options))
        else:
            self._options.pop(key, None)
        if len(self._options) > 10_000:  # forget the stalest
            cutoff = time.monotonic() - self.ttl_s
            for k in [k for k, (t, _) in self._options.items() if t < cutoff]:
                del self._options[k]

    def get(self, key: str) -> list[dict]:
        entry = self._options.get(key)
        if not entry:
            return []
        stamp, options = entry
        if time.monotonic() - stamp > self.ttl_s:
            self._options.pop(key, None)
            return []
        return options


class SeenIds:
    """Ids of the last deliveries (Twilio MessageSid, Telegram update_id): a provider's retry
    of a delivery we already took is acknowledged without being processed twice."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._seen: dict[str, None] = {}

    def first_time(self, value) -> bool:
        if value in (None, ""):
            return True
        key = str(value)
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self.size:
            del self._seen[next(iter(self._seen))]
        return True


@dataclass
class Attachment:
    path: str
    content_type: str
    filename: str
    size: int

    def as_metadata(self) -> dict:
        return {"path": self.path, "content_type": self.content_type, "filename": self.filename, "size": self.size}


class AttachmentRefused(Exception):
    """The file is of a type or size the assistant does not take; `message` is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def base_content_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def check_attachment(content_type: str | None, size: int | None) -> str:
    kind = base_content_type(content_type)
    if kind not in ALLOWED_CONTENT_TYPES:
        raise AttachmentRefused("Só consigo receber arquivos em PDF ou fotos (JPG ou PNG).")
    if size is not None and size > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefused("Esse arquivo é grande demais: o limite é de 16 MB.")
    return kind


def safe_filename(name: str | None, content_type: str) -> str:
    extension = ALLOWED_CONTENT_TYPES.get(content_type, "")
    name = unicodedata.normalize("NFKD", Path(name or "").name)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name.encode("ascii", "ignore").decode()).strip("._")[:80]
    if not name:
        name = "arquivo"
    if extension and not name.lower().endswith(extension):
        name += extension
    return name


def store_attachment(content: bytes, content_type: str | None, filename: str | None) -> Attachment:
    """Saves an inbound file under var/uploads/inbound/<random>/ (a fresh directory each)."""
    kind = check_attachment(content_type, len(content))
    directory = inbound_dir() / secrets.token_hex(16)
    directory.mkdir(parents=True, exist_ok=False)
    name = safe_filename(filename, kind)
    path = directory / name
    path.write_bytes(content)
    return Attachment(str(path), kind, name, len(content))


# commands a user may type; anything else starting with "/" is not taken as an intent
USER_COMMANDS = {
    "/start": "oi",
    "/inicio": "oi",
    "/ajuda": "ajuda",
    "/menu": "menu",
    "/atendente": "quero falar com um atendente",
}


def user_text(text: str | None) -> str:
    """What a user typed, made safe for Rasa: "/intent{...}" typed by a user would bypass the
    NLU (and set any entity), so a leading slash is only honoured for the known commands."""
    text = (text or "").strip()
    if not text.startswith("/"):
        return text
    command = text.split()[0].split("@")[0].lower()
    if command in USER_COMMANDS:
        return USER_COMMANDS[command]
    return text.lstrip("/").strip()
