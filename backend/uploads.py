"""Files users send (photos and PDFs of receipts): storage on the backend's disk.

What is accepted (type by content, size limit, file names) is the upload policy of
common/uploads.py, shared with the channels. Files are written under `<var_dir>/uploads/<area>/`
with a random name (the user's file name is only kept in the database), streamed in chunks, with
their SHA-256; the type is read from the first bytes while streaming, so a refused file never
stays on disk. A file the policy does not take is refused (backend.refusals.Refused) with the
policy's code and words (common.uploads.REFUSAL_TEXTS, which the channels say too) and the limit
(`max_bytes`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from backend.refusals import Refusals, Refused
from common.uploads import (
    EMPTY_FILE,
    FILE_TOO_LARGE,
    MAX_UPLOAD_BYTES,
    REFUSAL_TEXTS,
    SNIFF_BYTES,
    UNSUPPORTED_TYPE,
    FileType,
    sniff_type,
)

# The upload policy's refusals, worded by the policy itself (one owner of the texts).
REFUSALS = Refusals(REFUSAL_TEXTS)


def refused(code: str, max_bytes: int = MAX_UPLOAD_BYTES) -> Refused:
    """The policy's refusal `code`, with the size limit (`max_bytes`) in its data."""
    return REFUSALS.refuse(code, max_bytes=max_bytes)


def check_declared_length(length: int | None, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """What a request's Content-Length already tells, before any byte is read: refuses
    file_too_large over the limit and empty_file for 0 (None, a chunked body: the bytes decide)."""
    if length is not None and length > max_bytes:
        raise refused(FILE_TOO_LARGE, max_bytes)
    if length == 0:
        raise refused(EMPTY_FILE, max_bytes)


@dataclass(frozen=True)
class StoredFile:
    relative_path: str  # from var_dir, e.g. uploads/inbound/3f9c….pdf
    content_type: str
    extension: str
    size: int
    sha256: str


async def store_stream(
    chunks: AsyncIterator[bytes], var_dir: Path, area: str, max_bytes: int = MAX_UPLOAD_BYTES
) -> StoredFile:
    """Writes the chunks to a new random file under var_dir/uploads/<area>/ while checking the type
    (first bytes) and the size; on refusal (file_too_large, unsupported_type, empty_file) nothing
    is left on disk."""
    directory = var_dir / "uploads" / area
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    partial = directory / f"{token}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    kind: FileType | None = None
    handle = await asyncio.to_thread(open, partial, "xb")
    try:
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise refused(FILE_TOO_LARGE, max_bytes)
                if kind is None:
                    head = (head + chunk)[:SNIFF_BYTES]
                    if len(head) >= SNIFF_BYTES:
                        kind = sniff_type(head)
                        if kind is None:
                            raise refused(UNSUPPORTED_TYPE, max_bytes)
                digest.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
        if size == 0:
            raise refused(EMPTY_FILE, max_bytes)
        if kind is None:
            kind = sniff_type(head)
            if kind is None:
                raise refused(UNSUPPORTED_TYPE, max_bytes)
        final = directory / f"{token}.{kind.extension}"
        await asyncio.to_thread(os.replace, partial, final)
    except BaseException:
        await asyncio.to_thread(_remove, partial)
        raise
    return StoredFile(
        relative_path=str(final.relative_to(var_dir)),
        content_type=kind.content_type,
        extension=kind.extension,
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
