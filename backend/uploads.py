"""Files users send (photos and PDFs of receipts): type by content, size limit, storage on disk.

The type is read from the file's first bytes (JPEG, PNG, PDF), never from the name or the type the
client claims, so an executable renamed "recibo.pdf" is refused. Files are written under
`<var_dir>/uploads/<area>/` with a random name (the user's file name is only kept in the database),
streamed in chunks, with their SHA-256.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
SNIFF_BYTES = 16
_FILENAME_MAX = 120

# content type, extension, magic bytes
ACCEPTED_TYPES = (
    ("image/jpeg", "jpg", b"\xff\xd8\xff"),
    ("image/png", "png", b"\x89PNG\r\n\x1a\n"),
    ("application/pdf", "pdf", b"%PDF-"),
)


class UploadRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code  # file_too_large | unsupported_type | empty_file


@dataclass(frozen=True)
class StoredFile:
    relative_path: str  # from var_dir, e.g. uploads/reimbursements/3f9c….pdf
    content_type: str
    extension: str
    size: int
    sha256: str


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG or PDF by its first bytes; None otherwise."""
    for content_type, extension, magic in ACCEPTED_TYPES:
        if head.startswith(magic):
            return content_type, extension
    return None


def safe_filename(name: str | None, extension: str, default_stem: str = "documento") -> str:
    """The user's file name reduced to something safe to show and store in the database: no path,
    percent-encoding undone, no control characters, at most 120 characters, ending in the extension of the real type."""
    base = re.split(r"[\\/]", unquote(name or ""))[-1]  # aiohttp clients percent-encode names
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if ch.isprintable()).strip(" .")
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base
    stem = stem[: _FILENAME_MAX - len(extension) - 1] or default_stem
    return f"{stem}.{extension}"


async def store_stream(
    chunks: AsyncIterator[bytes], var_dir: Path, area: str, max_bytes: int = MAX_UPLOAD_BYTES
) -> StoredFile:
    """Writes the chunks to a new random file under var_dir/uploads/<area>/ while checking the type
    (first bytes) and the size; on refusal nothing is left on disk."""
    directory = var_dir / "uploads" / area
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    partial = directory / f"{token}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    kind: tuple[str, str] | None = None
    handle = await asyncio.to_thread(open, partial, "xb")
    try:
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused("file_too_large")
                if kind is None:
                    head = (head + chunk)[:SNIFF_BYTES]
                    if len(head) >= SNIFF_BYTES:
                        kind = sniff_type(head)
                        if kind is None:
                            raise UploadRefused("unsupported_type")
                digest.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
        if size == 0:
            raise UploadRefused("empty_file")
        if kind is None:
            kind = sniff_type(head)
            if kind is None:
                raise UploadRefused("unsupported_type")
        content_type, extension = kind
        final = directory / f"{token}.{extension}"
        await asyncio.to_thread(os.replace, partial, final)
    except BaseException:
        await asyncio.to_thread(_remove, partial)
        raise
    return StoredFile(
        relative_path=str(final.relative_to(var_dir)),
        content_type=content_type,
        extension=extension,
        size=size,
        sha256=digest.hexdigest(),
    )


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


async def remove_stored(var_dir: Path, relative_path: str) -> None:
    await asyncio.to_thread(_remove, var_dir / relative_path)
