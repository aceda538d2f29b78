"""The upload policy: which files a user may send (photos and PDFs of receipts, invoices and
medical reports), in one place for the channels and the backend. Pure: no I/O.

The policy: **JPEG, PNG or PDF, at most 10 MB, not empty**; the type is read from the file's
first bytes (magic bytes), never from its name or the type a client claims, so an executable
renamed "recibo.pdf" is refused.

Why this one policy, and who applies it:
- the backend is the authority: it stores only what the operator's staff can open and process
  (JPEG, PNG and PDF up to 10 MB: the reimbursement analysis works with these), sniffs every file
  and refuses the rest (backend/uploads.py, POST /api/inbound-files);
- a channel refuses *early*, with the same pt-BR text, what the backend would refuse anyway: a
  declared type outside the table, a declared or downloaded size over the limit, an empty file,
  bytes that are not one of the accepted types. Accepting more in a channel (the channels used to
  take 16 MB and WebP/HEIC) only made the user wait for a download the backend then refused;
- WebP and HEIC (the iPhone's photos) are refused with a message asking for JPG, PNG or PDF:
  keeping them would need a conversion to JPEG before the operator could use them, which is not
  done here. Phones send photos through WhatsApp and Telegram as JPEG anyway.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

MAX_UPLOAD_MB = 10
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
SNIFF_BYTES = 16  # how many first bytes decide the type
FILENAME_MAX = 120


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str  # without the dot
    magic: bytes  # what the file's first bytes are


# the accepted types: content type -> extension and magic bytes
ACCEPTED_TYPES: dict[str, FileType] = {
    file_type.content_type: file_type
    for file_type in (
        FileType("image/jpeg", "jpg", b"\xff\xd8\xff"),
        FileType("image/png", "png", b"\x89PNG\r\n\x1a\n"),
        FileType("application/pdf", "pdf", b"%PDF-"),
    )
}
# names clients give the accepted types (legacy or wrong); the sniffed type is stored, never these
CONTENT_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
# declared types that say nothing about the file: the bytes decide
UNDECLARED_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})

# refusal codes (the backend's error codes, with these HTTP statuses)
FILE_TOO_LARGE = "file_too_large"
UNSUPPORTED_TYPE = "unsupported_type"
EMPTY_FILE = "empty_file"

REFUSAL_TEXTS = {
    FILE_TOO_LARGE: (
        f"O arquivo passa do limite de {MAX_UPLOAD_MB} MB. Envie uma foto ou um PDF menor "
        "(se precisar, mande uma foto de cada página)."
    ),
    UNSUPPORTED_TYPE: (
        "Só consigo receber fotos em JPG ou PNG e arquivos em PDF. Envie o documento em um desses "
        "formatos (fotos em HEIC ou WebP não são aceitas: envie como JPG)."
    ),
    EMPTY_FILE: "O arquivo chegou vazio. Envie de novo, por favor.",
}
REFUSAL_STATUS = {FILE_TOO_LARGE: 413, UNSUPPORTED_TYPE: 415, EMPTY_FILE: 400}


class UploadRefused(Exception):
    """A file the policy does not take: `code` (FILE_TOO_LARGE | UNSUPPORTED_TYPE | EMPTY_FILE),
    `message` (the pt-BR text for the user) and `status` (the HTTP status the backend answers)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return REFUSAL_TEXTS[self.code]

    @property
    def status(self) -> int:
        return REFUSAL_STATUS[self.code]


def refusal_text(code: str) -> str:
    return REFUSAL_TEXTS[code]


def base_content_type(content_type: str | None) -> str:
    """'Application/PDF; name=x' -> 'application/pdf'; aliases (image/jpg) -> the accepted name."""
    base = (content_type or "").split(";")[0].strip().lower()
    return CONTENT_TYPE_ALIASES.get(base, base)


def check_declared(content_type: str | None, size: int | None = None) -> None:
    """What a channel knows before it has the bytes (the type and size a provider announces):
    raises UploadRefused for what the backend would refuse. An absent or generic type
    (application/octet-stream) and an unknown size pass: the bytes decide later."""
    declared = base_content_type(content_type)
    if declared not in UNDECLARED_TYPES and declared not in ACCEPTED_TYPES:
        raise UploadRefused(UNSUPPORTED_TYPE)
    check_size(size)


def check_size(size: int | None) -> None:
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise UploadRefused(FILE_TOO_LARGE)


def sniff_type(head: bytes) -> FileType | None:
    """The accepted type these first bytes start, None when none."""
    for file_type in ACCEPTED_TYPES.values():
        if head.startswith(file_type.magic):
            return file_type
    return None


def check_content(content: bytes) -> FileType:
    """A whole file against the policy: its type (by content), or UploadRefused."""
    if not content:
        raise UploadRefused(EMPTY_FILE)
    check_size(len(content))
    file_type = sniff_type(content[:SNIFF_BYTES])
    if file_type is None:
        raise UploadRefused(UNSUPPORTED_TYPE)
    return file_type


def safe_filename(name: str | None, extension: str, default_stem: str = "documento") -> str:
    """The user's file name reduced to something safe to show and store: no path, percent-encoding
    undone, no control characters, at most FILENAME_MAX characters, ending in the extension of the
    real type (a JPEG called "nota.png" becomes "nota.jpg")."""
    base = re.split(r"[\\/]", unquote(name or ""))[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable()).strip(" .")
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base
    stem = stem[: FILENAME_MAX - len(extension) - 1] or default_stem
    return f"{stem}.{extension}"
