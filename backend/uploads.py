"""Files users send (photos and PDFs of receipts, spreadsheets of movements): kept in the database,
read by every backend.

What is accepted (type by content, size limit, file names) is the upload policy of
common/uploads.py, shared with the channels. The bytes are read in chunks while the type (what the
first bytes may be) and the size are checked, so a file the policy does not take is cut as soon as
that is known and never written; the whole content then decides the type (a zip must be a workbook,
a CSV text throughout). A file it takes becomes a row of `file_blobs` (backend.models.FileBlob: the
bytes, bytea on PostgreSQL and BLOB on SQLite, with their size, type and SHA-256) under a random id,
so that any backend process, on any machine behind the load balancer, reads what another one
received. The row that owns the file (an inbound file, then the reimbursement document it becomes;
a movement spreadsheet is read once and its bytes deleted) keeps that id in its `storage_path`, next
to the user's file name (never part of the key). The blob goes with its owner: in the same
transaction (`remove_stored`), or by backend.retention (`remove_unowned`).

A refusal is backend.refusals.Refused with the policy's code and words (common.uploads.REFUSAL_TEXTS,
which the channels say too) and the limit (`max_bytes`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.clock import utcnow
from backend.models import FileBlob, InboundFile, ReimbursementDocument
from backend.refusals import Refusals, Refused
from common.uploads import (
    EMPTY_FILE,
    FILE_TOO_LARGE,
    MAX_UPLOAD_BYTES,
    REFUSAL_TEXTS,
    SNIFF_BYTES,
    UNSUPPORTED_TYPE,
    FileType,
    detect_type,
    sniff_type,
)

# The upload policy's refusals, worded by the policy itself (one owner of the texts).
REFUSALS = Refusals(REFUSAL_TEXTS)

# The rows that own a blob: their storage_path is its id.
OWNER_KEYS = (InboundFile.storage_path, ReimbursementDocument.storage_path)


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
    key: str  # FileBlob.id: what the owner's storage_path keeps
    content_type: str
    extension: str
    size: int
    sha256: str


async def _read_checked(chunks: AsyncIterator[bytes], max_bytes: int) -> tuple[bytes, FileType]:
    """The whole stream and its type, checked as it arrives: stops reading at the first chunk past
    `max_bytes` (file_too_large) or once the first bytes can be of no accepted type
    (unsupported_type); empty_file for nothing at all. The type is then decided on the whole
    content (common.uploads.detect_type: a zip must be a workbook, a CSV text throughout)."""
    content = bytearray()
    sniffed = False
    async for chunk in chunks:
        if not chunk:
            continue
        if len(content) + len(chunk) > max_bytes:
            raise refused(FILE_TOO_LARGE, max_bytes)
        content += chunk
        if not sniffed and len(content) >= SNIFF_BYTES:
            if sniff_type(bytes(content[:SNIFF_BYTES])) is None:
                raise refused(UNSUPPORTED_TYPE, max_bytes)
            sniffed = True
    if not content:
        raise refused(EMPTY_FILE, max_bytes)
    kind = detect_type(bytes(content))
    if kind is None:
        raise refused(UNSUPPORTED_TYPE, max_bytes)
    return bytes(content), kind


async def store_stream(
    session: AsyncSession, chunks: AsyncIterator[bytes], max_bytes: int = MAX_UPLOAD_BYTES
) -> StoredFile:
    """Reads the chunks under the policy (refusals: file_too_large, unsupported_type, empty_file;
    nothing is written then) and adds the file to `session`; the caller commits it together with the
    row that owns it (storage_path = the returned key). Every byte is read before the first
    statement, so call it before anything else in the session's transaction: the database (on
    SQLite, its write lock) never waits for a slow sender. Meanwhile the file is in memory, at most
    `max_bytes`."""
    content, kind = await _read_checked(chunks, max_bytes)
    blob = FileBlob(
        id=secrets.token_hex(16),
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content_type=kind.content_type,
        created_at=utcnow(),
        content=content,
    )
    session.add(blob)
    return StoredFile(
        key=blob.id, content_type=kind.content_type, extension=kind.extension, size=blob.size, sha256=blob.sha256
    )


async def read_stored(session: AsyncSession, key: str) -> bytes | None:
    """The bytes stored under `key` (an owner's storage_path); None when there are none."""
    return (await session.execute(select(FileBlob.content).where(FileBlob.id == key))).scalar_one_or_none()


async def remove_stored(session: AsyncSession, key: str) -> None:
    """Deletes the bytes under `key` in the caller's transaction (with the row that owned them)."""
    await session.execute(delete(FileBlob).where(FileBlob.id == key))


async def remove_unowned(
    session: AsyncSession, *, keys: Collection[str] | None = None, created_before: datetime | None = None
) -> int:
    """Deletes, in the caller's transaction, the blobs no row owns (see OWNER_KEYS) among `keys`
    and/or created before `created_before`; how many went."""
    conditions = [~exists().where(column == FileBlob.id) for column in OWNER_KEYS]
    if keys is not None:
        conditions.append(FileBlob.id.in_(list(keys)))
    if created_before is not None:
        conditions.append(FileBlob.created_at < created_before)
    statement = delete(FileBlob).where(and_(*conditions)).execution_options(synchronize_session=False)
    return (await session.execute(statement)).rowcount
