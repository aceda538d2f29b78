"""What the channels share: settings from the environment, masking of user addresses in logs and the
shape of the files users send. What they keep between requests (the options last shown to each
conversation, the provider ids already taken, the widget's uploads) is channels.shared_state.

Inbound attachment contract (what the bot receives; see docs/channels.md). A channel hands every
file to the backend (channels.inbound_files, POST /api/inbound-files) and passes only its id:
    text: the caption/body the user typed, or ATTACHMENT_MESSAGE when there is none
    metadata: {"attachments": [{"file_id": "<opaque id of the backend>",
                                "content_type": "application/pdf", "filename": "<name>",
                                "size": 12345}]}
What is accepted (types, size, names) is the upload policy of common/uploads.py.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# sent as the user's message when a file arrives without text (an intent for the bot)
ATTACHMENT_MESSAGE = "/enviar_documento"

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


@dataclass
class Attachment:
    """A file the backend took (POST /api/inbound-files): the bot gets its id, never its bytes."""

    file_id: str
    content_type: str
    filename: str
    size: int

    def as_metadata(self) -> dict:
        return {
            "file_id": self.file_id,
            "content_type": self.content_type,
            "filename": self.filename,
            "size": self.size,
        }


class AttachmentRefused(Exception):
    """A file that does not reach the assistant: `message` is for the user (pt-BR), `code` and
    `status` say why (the upload policy's codes, the backend's, or "backend_unavailable")."""

    def __init__(self, message: str, code: str = "refused", status: int = 400):
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


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
